// Flask: a module with `app = Flask(__name__)` (or an app factory), or flask in the requirements.
import { BulwarkError, type Evidence, type Fact } from '../types.js';
import type { DetectContext } from './context.js';
import type { Detector } from './detector.js';
import { ev, findFirst } from './evidence.js';
import { readPyproject, readRequirements, requires } from './python-project.js';
import { defaultStaticDirs, moduleOf, pythonHealthPath, pythonSources, pythonSpec } from './python-app.js';
import { envReads } from './secrets.js';
import { WritableSet } from './writable.js';

interface FlaskEntry {
  entry: Fact<string>;
  file: string;
}

/** wsgi.py's app, else `X = Flask(...)`, else a create_app() factory (gunicorn can call it). */
function findFlaskEntry(ctx: DetectContext, files: string[]): FlaskEntry | undefined {
  const wsgi = ctx.read('wsgi.py');
  const wsgiHit = wsgi === undefined ? undefined : findFirst('wsgi.py', wsgi, /^(app|application)\s*=/m);
  if (wsgiHit) return { entry: { value: `wsgi:${wsgiHit.match[1]}`, evidence: [ev('wsgi.py', wsgiHit.line, 'WSGI entry')] }, file: 'wsgi.py' };
  // app.py first, then other files in the (top-level first) order pythonSources gives.
  const ordered = [...files.filter((f) => f === 'app.py'), ...files.filter((f) => f !== 'app.py')];
  for (const f of ordered) {
    const h = findFirst(f, ctx.read(f) ?? '', /^(\w+)\s*=\s*Flask\(/m);
    if (h) return { entry: { value: `${moduleOf(f)}:${h.match[1]}`, evidence: [ev(f, h.line, 'Flask app')] }, file: f };
  }
  for (const f of ordered) {
    const h = findFirst(f, ctx.read(f) ?? '', /^def\s+(create_app|make_app)\s*\(\s*\)/m);
    if (h && /\bFlask\(/.test(ctx.read(f) ?? ''))
      return { entry: { value: `${moduleOf(f)}:${h.match[1]}()`, evidence: [ev(f, h.line, 'Flask app factory')] }, file: f };
  }
  return undefined;
}

/** Variables that feed app.secret_key / SECRET_KEY are secrets whatever they are called. */
function secretKeyVars(ctx: DetectContext, files: string[]): Set<string> {
  const vars = new Set<string>();
  for (const f of files)
    for (const line of (ctx.read(f) ?? '').split('\n'))
      if (/secret_key/i.test(line)) for (const r of envReads(f, line, 'py')) vars.add(r.name);
  return vars;
}

export const flask: Detector = {
  framework: 'flask',
  family: 'python',
  match(ctx) {
    const files = pythonSources(ctx);
    for (const f of files) {
      const h = findFirst(f, ctx.read(f) ?? '', /\bFlask\(/);
      if (h) return { framework: 'flask', family: 'python', strong: true, found: `${f} with Flask (Flask)`, evidence: ev(f, h.line) };
    }
    const req = requires(readRequirements(ctx, readPyproject(ctx)), 'flask');
    return req ? { framework: 'flask', family: 'python', strong: true, found: `${req.evidence[0].file} with flask (Flask)`, evidence: req.evidence[0] } : undefined;
  },
  detect(ctx) {
    const files = pythonSources(ctx);
    const found = findFlaskEntry(ctx, files);
    if (!found) {
      const why = flask.match(ctx)!.evidence;
      throw new BulwarkError(
        `${ctx.where(why.file, why.line)}: flask is required but no Flask app was found: add app.py with \`app = Flask(__name__)\` (or wsgi.py with \`app = create_app()\`)`,
        2,
      );
    }
    const fw: Evidence = ev(found.file, found.entry.evidence[0].line, 'Flask');
    return pythonSpec(ctx, {
      framework: { value: 'flask', evidence: [fw] },
      entry: found.entry,
      asgi: false,
      files,
      pathOptions: { pyBase: 'file' },
      writable: new WritableSet(),
      staticDirs: defaultStaticDirs(ctx, found.file === 'wsgi.py' ? (files.find((f) => /\bFlask\(/.test(ctx.read(f) ?? '')) ?? found.file) : found.file),
      healthPath: pythonHealthPath(ctx, files),
      build: { value: [], evidence: [ev(found.file, undefined, 'nothing to build')] },
      secretVars: secretKeyVars(ctx, files),
    });
  },
};
