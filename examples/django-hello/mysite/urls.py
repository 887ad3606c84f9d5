from django.urls import path

from notes import views

urlpatterns = [
    path('', views.index, name='index'),
    path('healthz/', views.healthz, name='healthz'),
    path('notes/', views.notes, name='notes'),
]
