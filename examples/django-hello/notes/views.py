import json

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from .models import Note


@require_GET
def index(request):
    request.session['visits'] = request.session.get('visits', 0) + 1
    return render(request, 'notes/index.html', {'count': Note.objects.count(), 'visits': request.session['visits']})


@require_GET
def healthz(request):
    return JsonResponse({'ok': True})


@csrf_exempt  # a JSON API for scripts; the HTML pages keep CSRF protection
def notes(request):
    if request.method == 'POST':
        text = str(json.loads(request.body or b'{}').get('text', ''))[:500]
        if not text:
            return JsonResponse({'error': 'text is required'}, status=400)
        note = Note.objects.create(text=text)
        return JsonResponse({'id': note.id, 'text': note.text}, status=201)
    return JsonResponse([{'id': n.id, 'text': n.text} for n in Note.objects.order_by('id')], safe=False)
