// Django: manage.py + the settings module it names + the WSGI module. Settings are read as text
// (never imported), so the facts come with the settings line that states them.
import { posix } from 'node:path';
import { BulwarkError, type Evidence, type Fact, type Secret } from '../types.js';
import type { DetectContext } from './context.js';
import type { Detector } from './detector.js';
import { ev, findAll, findFirst, lineAt } from './evidence.js';
import { pathRefs, sqliteUrlPaths } from './paths.js';
import { assignment, bracketBlock, checkPythonText, pyString } from './pyscan.js';
import { pythonSources, pythonSpec } from './python-app.js';
import { envReads } from './secrets.js';
import { WritableSet } from './writable.js';

/** mysite.settings → mysite/settings.py, or the package mysite/settings/__init__.py. */
function moduleFile(ctx: DetectContext, mod: string): string | undefined {
  const base = mod.split('.').join('/');
  return [`${base}.py`, `${base}/__init__.py`].find((f) => ctx.exists(f));
}

interface Settings {
  module: string;
  file: string;
  /** The settings file plus its siblings when settings is a package (base.py, production.py…). */
  files: string[];
  found: Evidence;
}

function findSettings(ctx: DetectContext): Settings {
  const manage = ctx.read('manage.py') ?? '';
  const h = findFirst('manage.py', manage, /DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]/);
  let module: string;
  let found: Evidence;
  if (h) {
    module = h.match[1];
    found = ev('manage.py', h.line, 'DJANGO_SETTINGS_MODULE');
  } else {
    const candidates = ctx.files().filter((f) => /^[^/]+\/settings(\.py|\/__init__\.py)$/.test(f));
    if (candidates.length !== 1)
      throw new BulwarkError(
        `${ctx.where('manage.py')}: cannot tell the settings module (no os.environ.setdefault('DJANGO_SETTINGS_MODULE', '…') in manage.py${candidates.length ? `; candidates: ${candidates.join(', ')}` : ''}); add that line to manage.py`,
        2,
      );
    module = candidates[0].replace(/(\.py|\/__init__\.py)$/, '').split('/').join('.');
    found = ev(candidates[0], undefined, 'the only settings module in the project');
  }
  const file = moduleFile(ctx, module);
  if (!file)
    throw new BulwarkError(
      `${ctx.where(found.file, found.line)}: DJANGO_SETTINGS_MODULE is "${module}" but ${module.split('.').join('/')}.py does not exist in ${ctx.shown}; fix manage.py or add the file`,
      2,
    );
  const dir = posix.dirname(file);
  const inPackage = file.endsWith('__init__.py') || posix.basename(dir) === 'settings';
  const files = inPackage ? [file, ...ctx.files().filter((f) => posix.dirname(f) === dir && f.endsWith('.py') && f !== file)] : [file];
  for (const f of files) {
    const text = ctx.read(f);
    if (text === undefined) throw new BulwarkError(`${ctx.where(f)}: cannot read the Django settings file; check its permissions`, 2);
    const bad = checkPythonText(text);
    if (bad) throw new BulwarkError(`${ctx.where(f, bad.line)}: invalid Python in Django settings (${bad.message}); fix it and retry`, 2);
  }
  return { module, file, files, found };
}

/** A top-level assignment in any settings file; the main file wins. */
function setting(ctx: DetectContext, s: Settings, name: string) {
  for (const f of s.files) {
    const a = assignment(ctx.read(f)!, name);
    if (a) return { ...a, file: f };
  }
  return undefined;
}

function findWsgi(ctx: DetectContext, s: Settings): Fact<string> {
  const w = setting(ctx, s, 'WSGI_APPLICATION');
  const dotted = w && pyString(w.value);
  let mod: string;
  let callable: string;
  let e: Evidence;
  if (dotted) {
    mod = dotted.slice(0, dotted.lastIndexOf('.'));
    callable = dotted.slice(dotted.lastIndexOf('.') + 1);
    e = ev(w!.file, w!.line, 'WSGI_APPLICATION');
  } else {
    mod = `${s.module.split('.')[0]}.wsgi`;
    callable = 'application';
    e = ev(`${mod.split('.').join('/')}.py`, undefined, 'next to the settings package');
  }
  const file = moduleFile(ctx, mod);
  if (!file)
    throw new BulwarkError(
      `${ctx.where(`${mod.split('.').join('/')}.py`)}: not found: Django's WSGI module (${mod}) is missing; add it (django-admin startproject creates it) or set WSGI_APPLICATION in ${s.file}`,
      2,
    );
  const line = findFirst(file, ctx.read(file) ?? '', new RegExp(`^${callable}\\s*=`, 'm'))?.line;
  return { value: `${mod}:${callable}`, evidence: [e, ev(file, line, 'WSGI module')] };
}

/** SQLite NAME in DATABASES (or a sqlite:/// default URL), MEDIA_ROOT. */
function settingsWritable(ctx: DetectContext, s: Settings, set: WritableSet): void {
  for (const f of s.files) {
    const text = ctx.read(f)!;
    const db = /^DATABASES\s*=/m.exec(text);
    const block = db ? bracketBlock(text, db.index) : undefined;
    if (db && block) {
      const first = lineAt(text, db.index);
      if (/sqlite3/.test(block)) {
        for (const h of findAll(f, block, /['"]NAME['"]\s*:\s*(.+)/)) {
          const line = first + h.line - 1;
          for (const r of pathRefs(f, h.match[1], 'py', { pyBase: 'root' })) set.add(r.path, 'file', 'sqlite', [ev(f, line, 'DATABASES NAME (sqlite3)')]);
        }
      }
      for (const h of sqliteUrlPaths(f, block)) set.add(h.path, 'file', 'sqlite', [ev(f, first + h.line - 1, 'DATABASES sqlite URL')]);
    }
    const media = assignment(text, 'MEDIA_ROOT');
    if (media)
      for (const r of pathRefs(f, media.value, 'py', { pyBase: 'root' })) set.add(r.path, 'dir', 'media-root', [ev(f, media.line, 'MEDIA_ROOT')]);
  }
}

/** STATIC_ROOT (filled by collectstatic at build), STATICFILES_DIRS and apps' static/ folders. */
function staticDirs(ctx: DetectContext, s: Settings): { dirs: Fact<string[]>; build: Fact<string[][]> } {
  const dirs = new Map<string, Evidence>();
  const root = setting(ctx, s, 'STATIC_ROOT');
  const url = setting(ctx, s, 'STATIC_URL');
  const rootPath = root && pathRefs(root.file, root.value, 'py', { pyBase: 'root' })[0]?.path;
  if (rootPath) dirs.set(rootPath, ev(root!.file, root!.line, `STATIC_ROOT, served at ${url ? pyString(url.value) ?? 'STATIC_URL' : '/static/'}`));
  const extra = setting(ctx, s, 'STATICFILES_DIRS');
  if (extra) {
    const text = ctx.read(extra.file)!;
    const block = bracketBlock(text, extra.index) ?? extra.value;
    block.split('\n').forEach((l, i) => {
      for (const r of pathRefs(extra.file, l, 'py', { pyBase: 'root' })) if (!dirs.has(r.path)) dirs.set(r.path, ev(extra.file, extra.line + i, 'STATICFILES_DIRS'));
    });
  }
  for (const f of ctx.files()) {
    const m = /^((?:[^/]+\/){1,2})static\//.exec(f);
    const d = m && `${m[1]}static`;
    if (d && !dirs.has(d) && ctx.exists(`${m![1]}__init__.py`)) dirs.set(d, ev(d, undefined, 'app static folder'));
  }
  const build: Fact<string[][]> = rootPath
    ? { value: [['python3', 'manage.py', 'collectstatic', '--noinput']], evidence: [ev(root!.file, root!.line, 'STATIC_ROOT is set: collect static files at build time')] }
    : { value: [], evidence: [ev(s.file, undefined, 'no STATIC_ROOT: nothing to collect')] };
  if (!dirs.size) return { dirs: { value: [], evidence: [ev(s.file, undefined, 'no STATIC_ROOT or static folders')] }, build };
  return { dirs: { value: [...dirs.keys()], evidence: [...dirs.values()] }, build };
}

/** A health route in the root URLconf: path('healthz/', …) → /healthz/. */
function healthPath(ctx: DetectContext, s: Settings): Fact<string> {
  const conf = setting(ctx, s, 'ROOT_URLCONF');
  const mod = (conf && pyString(conf.value)) ?? `${s.module.split('.')[0]}.urls`;
  const file = moduleFile(ctx, mod);
  const text = file ? ctx.read(file) ?? '' : '';
  const re = /\b(?:path|re_path|url)\(\s*r?['"]\^?(healthz|health|_health|status)(\/?)\$?['"]/;
  const hits = file ? findAll(file, text, re) : [];
  for (const n of ['healthz', 'health', '_health', 'status']) {
    const h = hits.find((x) => x.match[1] === n);
    if (h) return { value: `/${n}${h.match[2]}`, evidence: [ev(file!, h.line)] };
  }
  return { value: '/', evidence: [ev(file ?? s.file, undefined, 'default: no healthz/, health/, _health/ or status/ path in the root URLconf')] };
}

/** SECRET_KEY: from the environment (the variable it reads), or hard-coded (flagged in the note). */
function secretKey(ctx: DetectContext, s: Settings): Secret[] {
  const a = setting(ctx, s, 'SECRET_KEY');
  if (!a) return [];
  const reads = envReads(a.file, a.value, 'py');
  if (reads.length) return [{ env: reads[0].name, evidence: [ev(a.file, a.line, 'SECRET_KEY')] }];
  return [{ env: 'SECRET_KEY', evidence: [ev(a.file, a.line, "hard-coded in settings: read it with os.environ['SECRET_KEY'] so each instance gets its own")] }];
}

export const django: Detector = {
  framework: 'django',
  family: 'python',
  match(ctx) {
    if (!ctx.exists('manage.py')) return undefined;
    return { framework: 'django', family: 'python', strong: true, found: 'manage.py (Django)', evidence: ev('manage.py') };
  },
  detect(ctx) {
    const s = findSettings(ctx);
    const wsgi = findWsgi(ctx, s);
    const writable = new WritableSet();
    settingsWritable(ctx, s, writable);
    const { dirs, build } = staticDirs(ctx, s);
    const wsgiModule = wsgi.value.split(':')[0];
    const spec = pythonSpec(ctx, {
      framework: { value: 'django', evidence: [ev('manage.py'), s.found] },
      entry: wsgi,
      asgi: false,
      files: pythonSources(ctx),
      pathOptions: { pyBase: 'root' },
      writable,
      staticDirs: dirs,
      healthPath: healthPath(ctx, s),
      build,
      extraSecrets: secretKey(ctx, s),
    });
    return { ...spec, django: { settingsModule: s.module, wsgiModule, settingsFile: s.file } };
  },
};
