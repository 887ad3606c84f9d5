// Shared test fixture: a Plan with an Express app and a Django app, every target on.
// Fixed values throughout (version, hashes, paths), so renders of it make stable golden files.
import type { AppSpec, Evidence, Fact } from '../../src/types.js';
import type { AppPlan, LayerPlan, Plan } from '../../src/plan/types.js';
import { appPaths, appUid } from '../../src/names.js';

const fact = <T>(value: T, file: string, line?: number): Fact<T> => ({ value, evidence: [{ file, ...(line ? { line } : {}) } as Evidence] });

const layer = (name: string, packages: string[], hash: string): LayerPlan => ({ name, packages, hash });

export const sampleLayers = {
  userland: layer('userland', ['ca-certificates'], 'sha256:1111111111111111111111111111111111111111111111111111111111111111'),
  runtimeNode: layer('runtime-node', ['nodejs'], 'sha256:2222222222222222222222222222222222222222222222222222222222222222'),
  runtimePython: layer('runtime-python', ['python3', 'gunicorn', 'python3-django'], 'sha256:3333333333333333333333333333333333333333333333333333333333333333'),
  tls: layer('tls', ['caddy'], 'sha256:4444444444444444444444444444444444444444444444444444444444444444'),
  host: layer('host', ['systemd', 'linux-image-amd64', 'openssh-server', 'nftables'], 'sha256:5555555555555555555555555555555555555555555555555555555555555555'),
};

export const expressSpec: AppSpec = {
  name: 'express-hello',
  dir: '/srv/project/express-hello',
  framework: fact('express', 'package.json', 12),
  runtime: fact('node', 'package.json'),
  runtimeVersion: fact('>=20', 'package.json', 6),
  packageManager: fact('npm', 'package-lock.json'),
  install: fact([['npm', 'ci', '--omit=dev']], 'package-lock.json'),
  build: fact([], 'package.json'),
  start: fact({ argv: ['node', 'server.js'], portVia: 'env' }, 'package.json', 8),
  port: fact(3000, 'server.js', 4),
  healthPath: fact('/healthz', 'server.js', 9),
  staticDirs: fact(['public'], 'server.js', 7),
  writable: [],
  secrets: [{ env: 'SESSION_SECRET', evidence: [{ file: 'server.js', line: 5 }] }],
};

export const djangoSpec: AppSpec = {
  name: 'django-notes',
  dir: '/srv/project/django-notes',
  framework: fact('django', 'manage.py', 1),
  runtime: fact('python', 'requirements.txt'),
  runtimeVersion: fact('3.13', '.python-version', 1),
  packageManager: fact('pip', 'requirements.txt'),
  install: fact([], 'requirements.txt'),
  build: fact([['python3', 'manage.py', 'collectstatic', '--noinput']], 'notes/settings.py', 40),
  start: fact({ argv: ['gunicorn', '--bind', '0.0.0.0:8000', '--workers', '2', 'notes.wsgi'], portVia: 'gunicorn-bind' }, 'notes/wsgi.py'),
  port: fact(8000, 'notes/settings.py'),
  healthPath: fact('/', 'notes/urls.py', 3),
  staticDirs: fact(['static'], 'notes/settings.py', 41),
  writable: [{ path: 'db.sqlite3', kind: 'file', reason: 'sqlite', evidence: [{ file: 'notes/settings.py', line: 30 }] }],
  secrets: [{ env: 'SECRET_KEY', evidence: [{ file: 'notes/settings.py', line: 12 }] }],
  django: { settingsModule: 'notes.settings', wsgiModule: 'notes.wsgi', settingsFile: 'notes/settings.py' },
  python: { requirements: [{ name: 'Django', spec: '>=4.2', evidence: [{ file: 'requirements.txt', line: 1 }] }] },
};

function appPlan(spec: AppSpec, layers: LayerPlan[], appPackages: string[], contentHash: string, env: Record<string, string>): AppPlan {
  const paths = appPaths(spec.name);
  return { spec, uid: appUid(spec.name), image: paths.image, stateVolume: paths.volume, layers, appPackages, appHash: contentHash, contentHash, env };
}

export const expressApp: AppPlan = appPlan(
  expressSpec,
  [sampleLayers.userland, sampleLayers.runtimeNode],
  [],
  'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  { NODE_ENV: 'production', PORT: '3000' },
);

export const djangoApp: AppPlan = appPlan(
  djangoSpec,
  [sampleLayers.userland, sampleLayers.runtimePython],
  ['python3-django'],
  'sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752',
  { DJANGO_SETTINGS_MODULE: 'notes.settings', PYTHONUNBUFFERED: '1' },
);

/** A fresh copy each call, so a test may change it without affecting others. */
export function samplePlan(overrides: Partial<Plan> = {}): Plan {
  return structuredClone({
    bulwarkVersion: '0.1.0',
    projectDir: '/srv/project',
    buildDir: '/srv/project/.bulwark/build',
    suite: 'trixie',
    mirror: 'http://deb.debian.org/debian',
    securityMirror: 'http://deb.debian.org/debian-security',
    sourceDateEpoch: 1700000000,
    apps: [expressApp, djangoApp],
    targets: ['docker', 'qemu', 'aws', 'gcp', 'digitalocean'],
    ...overrides,
  } satisfies Plan);
}
