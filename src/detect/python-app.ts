// What Django, Flask and generic WSGI/ASGI apps share: gunicorn on port 8000, pip requirements
// (resolved to Debian packages later, so nothing is installed here), Python version, secrets, data.
import type { AppSpec, Evidence, Fact, Framework } from '../types.js';
import type { DetectContext } from './context.js';
import { ev, findAll, sourceFiles } from './evidence.js';
import { readGitignore } from './gitignore.js';
import { appName } from './name.js';
import { pathRefs, sqliteUrlPaths, type PathRefOptions } from './paths.js';
import { pythonVersionRequests, pyprojectName, readPyproject, readRequirements } from './python-project.js';
import { runtimeVersionFact } from './runtimes.js';
import { findSecrets } from './secrets.js';
import { addWritableFromRefs, WritableSet, writeCalls } from './writable.js';

export const gunicornPort = 8000;

/** gunicorn argv for a "module:callable" entry; ASGI apps run under uvicorn's gunicorn worker. */
export function gunicornArgv(entry: string, asgi: boolean): string[] {
  const worker = asgi ? ['--worker-class', 'uvicorn.workers.UvicornWorker'] : [];
  return ['gunicorn', '--bind', `0.0.0.0:${gunicornPort}`, ...worker, entry];
}

/** The module name of a .py file: app.py → app, pkg/__init__.py → pkg, pkg/wsgi.py → pkg.wsgi. */
export const moduleOf = (file: string) => file.replace(/\.py$/, '').replace(/\/__init__$/, '').split('/').join('.');

/** Python source of the app, top-level files first (entry points live there). */
export function pythonSources(ctx: DetectContext): string[] {
  const files = sourceFiles(ctx, ['.py']).filter((f) => !/(^|\/)(migrations|setup)(\/|\.py$)/.test(f));
  const depth = (f: string) => f.split('/').length;
  return files.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Route decorators (@app.route('/healthz'), @app.get('/health')), else '/'. */
export function pythonHealthPath(ctx: DetectContext, files: string[]): Fact<string> {
  const re = /@\w+\.(?:route|get|api_route)\(\s*['"]\/(healthz|health|_health|status)(\/?)['"]/;
  const found = new Map<string, { path: string; e: Evidence }>();
  for (const f of files)
    for (const h of findAll(f, ctx.read(f) ?? '', re)) if (!found.has(h.match[1])) found.set(h.match[1], { path: `/${h.match[1]}${h.match[2]}`, e: ev(f, h.line) });
  for (const n of ['healthz', 'health', '_health', 'status']) {
    const hit = found.get(n);
    if (hit) return { value: hit.path, evidence: [hit.e] };
  }
  return { value: '/', evidence: [ev(files[0] ?? 'requirements.txt', undefined, 'default: no /healthz, /health, /_health or /status route found')] };
}

export interface PythonParts {
  framework: Fact<Framework>;
  entry: Fact<string>;
  asgi: boolean;
  files: string[];
  pathOptions: PathRefOptions;
  /** Already found by the framework (Django's DATABASES, MEDIA_ROOT); code references are added to it. */
  writable: WritableSet;
  staticDirs: Fact<string[]>;
  healthPath: Fact<string>;
  build: Fact<string[][]>;
  /** Environment variables that are secrets whatever their name (app.secret_key = os.environ[...]). */
  secretVars?: Set<string>;
  /** Secrets the framework found that code scanning cannot (Django's hard-coded SECRET_KEY). */
  extraSecrets?: AppSpec['secrets'];
}

export function pythonSpec(ctx: DetectContext, p: PythonParts): AppSpec {
  const py = readPyproject(ctx);
  const requirements = readRequirements(ctx, py);
  const depsFile = ctx.exists('requirements.txt') ? 'requirements.txt' : py ? 'pyproject.toml' : p.entry.evidence[0].file;
  const depsEv = [ev(depsFile, ctx.exists(depsFile) ? 1 : undefined, requirements.length ? `${requirements.length} requirements, installed from Debian packages` : 'no requirements found')];

  const refs = p.files.flatMap((f) => {
    const text = ctx.read(f) ?? '';
    return [...pathRefs(f, text, 'py', p.pathOptions), ...sqliteUrlPaths(f, text)];
  });
  addWritableFromRefs(ctx, p.writable, refs, readGitignore(ctx), writeCalls.py);

  const secrets = [...(p.extraSecrets ?? [])];
  for (const s of findSecrets(ctx, p.files, 'py', p.secretVars)) {
    const have = secrets.find((x) => x.env === s.env);
    if (have) have.evidence.push(...s.evidence.filter((e) => !have.evidence.some((x) => x.file === e.file && x.line === e.line)));
    else secrets.push(s);
  }

  return {
    name: appName(ctx, pyprojectName(py), 'pyproject.toml'),
    dir: ctx.abs,
    framework: p.framework,
    runtime: { value: 'python', evidence: p.framework.evidence },
    runtimeVersion: runtimeVersionFact(ctx, 'python', pythonVersionRequests(ctx, py), depsFile),
    packageManager: { value: 'pip', evidence: depsEv },
    install: { value: [], evidence: [ev(depsFile, undefined, 'Python dependencies come from Debian packages, resolved at plan time')] },
    build: p.build,
    start: { value: { argv: gunicornArgv(p.entry.value, p.asgi), portVia: 'gunicorn-bind' }, evidence: p.entry.evidence },
    port: { value: gunicornPort, evidence: [ev(p.entry.evidence[0].file, undefined, `gunicorn --bind 0.0.0.0:${gunicornPort}`)] },
    healthPath: p.healthPath,
    staticDirs: p.staticDirs,
    writable: p.writable.list(),
    secrets,
    wsgiEntry: p.entry,
    python: { requirements },
  };
}

/** A conventional static/ folder next to the entry module (Flask's default static_folder). */
export function defaultStaticDirs(ctx: DetectContext, entryFile: string): Fact<string[]> {
  const base = entryFile.includes('/') ? entryFile.slice(0, entryFile.lastIndexOf('/') + 1) : '';
  const folder = /static_folder\s*=\s*['"]([^'"]+)['"]/.exec(ctx.read(entryFile) ?? '')?.[1];
  const dir = `${base}${folder ?? 'static'}`.replace(/\/+$/, '');
  return ctx.isDir(dir) ? { value: [dir], evidence: [ev(dir, undefined, folder ? 'static_folder' : 'default static folder')] } : { value: [], evidence: [ev(entryFile, undefined, 'no static folder')] };
}
