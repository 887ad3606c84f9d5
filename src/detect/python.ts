// Generic Python web app: wsgi.py / asgi.py, a module with `application = …`, or an ASGI app
// (FastAPI, Starlette, Quart) assigned at the top level of a module.
import type { Fact } from '../types.js';
import type { DetectContext } from './context.js';
import type { Detector } from './detector.js';
import { ev, findFirst } from './evidence.js';
import { defaultStaticDirs, moduleOf, pythonHealthPath, pythonSources, pythonSpec } from './python-app.js';
import { WritableSet } from './writable.js';

interface PyEntry {
  entry: Fact<string>;
  file: string;
  asgi: boolean;
}

const asgiApp = /^(\w+)\s*=\s*(FastAPI|Starlette|Quart)\(/m;

function findEntry(ctx: DetectContext, files: string[]): PyEntry | undefined {
  for (const f of ['wsgi.py', 'asgi.py']) {
    const text = ctx.read(f);
    if (text === undefined) continue;
    const asgi = f === 'asgi.py';
    // The callable: assigned here, or imported here (`from app import app`); gunicorn's default otherwise.
    const h = findFirst(f, text, /^(application|app)\s*=/m) ?? findFirst(f, text, /^from\s+\S+\s+import\s+.*?\b(application|app)\b/m);
    const callable = h?.match[1] ?? 'application';
    return { entry: { value: `${moduleOf(f)}:${callable}`, evidence: [ev(f, h?.line, asgi ? 'ASGI entry' : 'WSGI entry')] }, file: f, asgi };
  }
  for (const f of files) {
    const text = ctx.read(f) ?? '';
    const h = findFirst(f, text, /^application\s*=/m);
    if (h) return { entry: { value: `${moduleOf(f)}:application`, evidence: [ev(f, h.line, 'WSGI callable')] }, file: f, asgi: /asgi|FastAPI|Starlette/i.test(text) };
    const a = findFirst(f, text, asgiApp);
    if (a) return { entry: { value: `${moduleOf(f)}:${a.match[1]}`, evidence: [ev(f, a.line, `${a.match[2]} app (ASGI)`)] }, file: f, asgi: true };
  }
  return undefined;
}

export const python: Detector = {
  framework: 'python',
  family: 'python',
  match(ctx) {
    // Top-level modules only: an `application =` deep in a package is rarely the entry point.
    const found = findEntry(ctx, pythonSources(ctx).filter((f) => !f.includes('/')));
    return found ? { framework: 'python', family: 'python', strong: true, found: `${found.file} (Python ${found.asgi ? 'ASGI' : 'WSGI'})`, evidence: found.entry.evidence[0] } : undefined;
  },
  detect(ctx) {
    const files = pythonSources(ctx);
    const found = findEntry(ctx, files.filter((f) => !f.includes('/')))!;
    return pythonSpec(ctx, {
      framework: { value: 'python', evidence: found.entry.evidence },
      entry: found.entry,
      asgi: found.asgi,
      files,
      pathOptions: { pyBase: 'file' },
      writable: new WritableSet(),
      staticDirs: defaultStaticDirs(ctx, found.file),
      healthPath: pythonHealthPath(ctx, files),
      build: { value: [], evidence: [ev(found.file, undefined, 'nothing to build')] },
    });
  },
};
