// detect on small throwaway apps written to a temp folder: the edge cases that do not each deserve a fixture.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { detectApp, type DetectOptions } from '../../src/detect/index.js';
import { BulwarkError } from '../../src/types.js';

const made: string[] = [];

/** Write files (path → text) into a fresh folder named `name` under a temp dir. */
function makeApp(files: Record<string, string>, name = 'app'): string {
  const root = mkdtempSync(join(tmpdir(), 'bulwark-detect-'));
  made.push(root);
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

async function failure(dir: string, opts?: DetectOptions): Promise<BulwarkError> {
  try {
    await detectApp(dir, opts);
  } catch (e) {
    assert.instance(e, BulwarkError);
    assert.is((e as BulwarkError).exitCode, 2);
    assert.ok(!(e as BulwarkError).message.includes('\n'), 'one line');
    return e as BulwarkError;
  }
  throw new Error('expected detect to fail');
}

const pkg = (o: object) => JSON.stringify(o, null, 2) + '\n';
const lock = '{"lockfileVersion":3,"requires":true,"packages":{}}\n';
const expressPkg = (scripts: Record<string, string>, extra: object = {}) => pkg({ name: 'x', scripts, dependencies: { express: '^4.19.2' }, ...extra });

const djangoFiles = (settings: string): Record<string, string> => ({
  'manage.py': "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n",
  'proj/__init__.py': '',
  'proj/settings.py': settings,
  'proj/wsgi.py': 'from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n',
});

test.after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test('django: a hard-coded SECRET_KEY is still a required secret, flagged', async () => {
  const s = await detectApp(makeApp(djangoFiles("SECRET_KEY = 'django-insecure-xyz'\nDATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n")));
  assert.equal(s.secrets.map((x) => x.env), ['SECRET_KEY']);
  assert.is(s.secrets[0].evidence[0].line, 1);
  assert.match(s.secrets[0].evidence[0].note ?? '', /hard-coded/);
  assert.equal(s.writable, []); // postgres: no sqlite file
  assert.is(s.healthPath.value, '/');
});

test('django: SECRET_KEY from another variable, settings as a package, os.path.join sqlite', async () => {
  const dir = makeApp({
    'manage.py': "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"proj.settings.production\")\n",
    'proj/__init__.py': '',
    'proj/settings/__init__.py': '',
    'proj/settings/base.py':
      "import os\nBASE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))\nDATABASES = {\n    'default': {\n        'ENGINE': 'django.db.backends.sqlite3',\n        'NAME': os.path.join(BASE_DIR, 'var', 'site.db'),\n    }\n}\n",
    'proj/settings/production.py': "from .base import *\nSECRET_KEY = os.environ.get('DJANGO_SECRET')\nWSGI_APPLICATION = 'proj.wsgi.application'\n",
    'proj/wsgi.py': 'application = get_wsgi_application()\n',
  });
  const s = await detectApp(dir);
  assert.equal(s.django, { settingsModule: 'proj.settings.production', wsgiModule: 'proj.wsgi', settingsFile: 'proj/settings/production.py' });
  assert.equal(s.secrets.map((x) => x.env), ['DJANGO_SECRET']);
  assert.equal(s.writable.map((w) => [w.path, w.kind, w.reason, w.evidence[0].file, w.evidence[0].line]), [['var/site.db', 'file', 'sqlite', 'proj/settings/base.py', 6]]);
});

test('django: the settings module manage.py names must exist', async () => {
  const files = djangoFiles('');
  delete files['proj/settings.py'];
  const e = await failure(makeApp(files));
  assert.match(e.message, /manage\.py:2: DJANGO_SETTINGS_MODULE is "proj\.settings" but proj\/settings\.py does not exist/);
});

test('django: a missing wsgi module is named', async () => {
  const files = djangoFiles("SECRET_KEY = 'x'\n");
  delete files['proj/wsgi.py'];
  const e = await failure(makeApp(files));
  assert.match(e.message, /proj\/wsgi\.py: not found/);
});

test('django: an unterminated string in settings', async () => {
  const e = await failure(makeApp(djangoFiles("DEBUG = False\nSECRET_KEY = 'abc\nX = 1\n")));
  assert.match(e.message, /proj\/settings\.py:2: invalid Python in Django settings \(unterminated string literal\)/);
});

test('django with a front-end package.json whose start Bulwark cannot run: still Django', async () => {
  const files = { ...djangoFiles("SECRET_KEY = 'x'\n"), 'package.json': pkg({ name: 'assets', scripts: { start: 'webpack serve' }, devDependencies: { webpack: '^5' } }) };
  const s = await detectApp(makeApp(files));
  assert.is(s.framework.value, 'django');
});

test('.python-version the suite cannot meet suggests the other suite', async () => {
  const e = await failure(makeApp({ 'app.py': 'from flask import Flask\napp = Flask(__name__)\n', '.python-version': '3.13\n' }), { suite: 'bookworm' });
  assert.match(e.message, /\.python-version:1: \.python-version "3\.13" is not met by Python 3\.11\.2, which Debian bookworm ships; relax \.python-version or choose --suite trixie/);
});

test('requires-python no suite meets', async () => {
  const e = await failure(makeApp({ 'wsgi.py': 'application = None\n', 'pyproject.toml': '[project]\nname = "x"\nrequires-python = ">=3.14"\n' }));
  assert.match(e.message, /pyproject\.toml:3: requires-python ">=3\.14" is not met by Python 3\.13\.5.*relax requires-python/);
});

test('FastAPI module: ASGI under gunicorn with the uvicorn worker', async () => {
  const s = await detectApp(makeApp({ 'main.py': 'from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get("/healthz")\ndef ok():\n    return {}\n', 'requirements.txt': 'fastapi\nuvicorn\n' }));
  assert.is(s.framework.value, 'python');
  assert.is(s.wsgiEntry?.value, 'main:app');
  assert.equal(s.start.value.argv, ['gunicorn', '--bind', '0.0.0.0:8000', '--worker-class', 'uvicorn.workers.UvicornWorker', 'main:app']);
  assert.is(s.healthPath.value, '/healthz');
});

test('flask: wsgi.py over an app factory package', async () => {
  const s = await detectApp(
    makeApp({
      'wsgi.py': 'from shop import create_app\n\napp = create_app()\n',
      'shop/__init__.py': 'import os\nfrom flask import Flask\n\ndef create_app():\n    app = Flask(__name__)\n    app.secret_key = os.environ["FLASK_SIGNING"]\n    return app\n',
      'requirements.txt': 'flask>=3\n',
    }),
  );
  assert.is(s.framework.value, 'flask');
  assert.is(s.wsgiEntry?.value, 'wsgi:app');
  assert.equal(s.secrets.map((x) => x.env), ['FLASK_SIGNING']);
});

test('flask in requirements but no app', async () => {
  const e = await failure(makeApp({ 'requirements.txt': 'Flask==3.0.3\n', 'tasks.py': 'print(1)\n' }));
  assert.match(e.message, /requirements\.txt:1: flask is required but no Flask app was found/);
});

test('start scripts Bulwark cannot run without a shell', async () => {
  for (const start of ['nodemon server.js', 'NODE_ENV=production node server.js', 'node server.js > log.txt', 'ts-node src/index.ts']) {
    const e = await failure(makeApp({ 'package.json': expressPkg({ start }), 'package-lock.json': lock, 'server.js': '' }));
    assert.match(e.message, /package\.json:4: scripts\.start ".*" is not a plain `node FILE \[args\]`/, start);
  }
});

test('start script naming a file that is not there (and no build to make it)', async () => {
  const e = await failure(makeApp({ 'package.json': expressPkg({ start: 'node dist/server.js' }), 'package-lock.json': lock }));
  assert.match(e.message, /package\.json:4: scripts\.start runs dist\/server\.js, which is not in/);
  const s = await detectApp(makeApp({ 'package.json': expressPkg({ build: 'tsc', start: 'node dist/server.js' }), 'package-lock.json': lock }));
  assert.equal(s.start.value.argv, ['node', 'dist/server.js']);
  assert.equal(s.build.value, [['npm', 'run', 'build']]);
});

test('express start from main, then from server.js; none at all is an error', async () => {
  const fromMain = await detectApp(makeApp({ 'package.json': expressPkg({}, { main: 'lib/app.js' }), 'package-lock.json': lock, 'lib/app.js': '' }));
  assert.equal(fromMain.start.value.argv, ['node', 'lib/app.js']);
  const fromFile = await detectApp(makeApp({ 'package.json': expressPkg({}), 'package-lock.json': lock, 'app.js': "app.use(express.static(__dirname + '/www'));\n", 'www/a.css': '' }));
  assert.equal(fromFile.start.value.argv, ['node', 'app.js']);
  assert.equal(fromFile.staticDirs.value, ['www']);
  const e = await failure(makeApp({ 'package.json': expressPkg({}), 'package-lock.json': lock }));
  assert.match(e.message, /package\.json: no start command/);
});

test('lockfiles: a yarn.lock must match the suite\'s Yarn; pnpm is refused with the fix', async () => {
  const berryFiles = { 'package.json': expressPkg({ start: 'node s.js' }), 'yarn.lock': '__metadata:\n  version: 8\n', 's.js': '' };
  const berry = await failure(makeApp(berryFiles), { suite: 'bookworm' });
  assert.match(berry.message, /yarn\.lock:1: this is a Yarn 2\+ lockfile, and Debian bookworm ships Yarn 1/);
  assert.equal((await detectApp(makeApp(berryFiles))).install.value, [['yarnpkg', 'install', '--immutable']]);
  const classicFiles = { 'package.json': expressPkg({ start: 'node s.js' }), 'yarn.lock': '# yarn lockfile v1\n\n', 's.js': '' };
  const classic = await failure(makeApp(classicFiles));
  assert.match(classic.message, /yarn\.lock:1: this is a Yarn 1 lockfile, and Debian trixie ships Yarn 4/);
  assert.equal((await detectApp(makeApp(classicFiles), { suite: 'bookworm' })).install.value, [['yarnpkg', 'install', '--frozen-lockfile']]);
  const pnpm = await failure(makeApp({ 'package.json': expressPkg({ start: 'node s.js' }), 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n", 's.js': '' }));
  assert.match(pnpm.message, /pnpm-lock\.yaml:1: pnpm is not available in Debian/);
});

test('invalid JSON positions: trailing comma, single quotes, truncated', async () => {
  const cases: [string, number][] = [
    ['{\n  "name": "a",\n  "version": "1",\n}\n', 4],
    ["{\n  \"name\": 'a'\n}\n", 2],
    ['{\n  "name": "a",\n  "scripts": {\n', 4],
  ];
  for (const [text, line] of cases) {
    const e = await failure(makeApp({ 'package.json': text }));
    assert.match(e.message, new RegExp(`package\\.json:${line}: invalid JSON \\(.+\\); fix it and retry$`), text);
  }
});

test('names: folder name when package.json has none; empty after normalizing is an error', async () => {
  const s = await detectApp(makeApp({ 'package.json': pkg({ scripts: { start: 'node s.js' } }), 's.js': '' }, 'My_Cool.App'));
  assert.is(s.name, 'my-cool-app');
  const e = await failure(makeApp({ 'package.json': pkg({ name: '___', scripts: { start: 'node s.js' } }), 's.js': '' }));
  assert.match(e.message, /package\.json:2: name "___" .*set "name"/);
  const folder = await failure(makeApp({ 'index.html': '<p>hi</p>' }, '___'));
  assert.match(folder.message, /set "name" in package\.json/);
});

test('package.json for tooling only, with public/index.html: a static site', async () => {
  const s = await detectApp(makeApp({ 'package.json': pkg({ name: 'docs', scripts: { lint: 'eslint .' } }), 'public/index.html': '<p>hi</p>' }));
  assert.is(s.framework.value, 'static');
  assert.equal(s.staticDirs.value, ['public']);
  assert.is(s.name, 'docs');
});

test('no app, with a package.json that has no start: the message says so', async () => {
  const e = await failure(makeApp({ 'package.json': pkg({ name: 'lib', dependencies: { lodash: '^4' } }) }));
  assert.match(e.message, /^no app found in .*\(package\.json has no "start" script, no main and no server\.js\): add/);
});

test('node: PORT read without a default, listen literal elsewhere; sqlite not gitignored but absent', async () => {
  const s = await detectApp(
    makeApp({
      'package.json': pkg({ name: 'n', scripts: { start: 'node main.js' } }),
      'main.js': "const Database = require('better-sqlite3');\nconst db = new Database('app.sqlite3');\nrequire('node:http').createServer().listen(process.env.PORT);\n",
    }),
  );
  assert.is(s.port.value, 3000);
  assert.is(s.start.value.portVia, 'env');
  assert.equal(s.writable.map((w) => [w.path, w.kind, w.reason]), [['app.sqlite3', 'file', 'sqlite']]);
});

test('gitignored folders the code only reads are not writable', async () => {
  const s = await detectApp(
    makeApp({
      'package.json': pkg({ name: 'n', scripts: { start: 'node main.js' } }),
      '.gitignore': 'cache/\n',
      'main.js': "const fs = require('node:fs');\nconst t = fs.readFileSync('cache/x.txt', 'utf8');\n",
    }),
  );
  assert.equal(s.writable, []);
});

test('an explicit framework the folder does not have', async () => {
  const e = await failure(makeApp({ 'index.html': '' }), { framework: 'django' });
  assert.match(e.message, /framework "django" was chosen but manage\.py was not found/);
});

test.run();
