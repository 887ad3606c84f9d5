// detect on the fixture apps under test/fixtures/detect: real values with their evidence lines,
// and the configuration errors (exit 2) naming the file to fix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectApp, formatDetect } from '../../src/detect/index.js';
import { BulwarkError, type AppSpec, type Evidence } from '../../src/types.js';
import { bulwark, fixture } from '../helpers.js';

const app = (name: string, suite?: 'trixie' | 'bookworm') => detectApp(fixture('detect', name), { suite });
const at = (e: Evidence[]) => e.map((x) => `${x.file}:${x.line ?? ''}`);

async function failure(name: string, suite?: 'trixie' | 'bookworm'): Promise<BulwarkError> {
  try {
    await app(name, suite);
  } catch (e) {
    assert.instance(e, BulwarkError);
    return e as BulwarkError;
  }
  throw new Error(`${name}: expected detect to fail`);
}

test('express with package-lock.json', async () => {
  const s = await app('express-npm');
  assert.is(s.name, 'shop-api'); // "@acme/Shop API": scope dropped, normalized
  assert.is(s.dir, fixture('detect', 'express-npm'));
  assert.is(s.framework.value, 'express');
  assert.equal(at(s.framework.evidence), ['package.json:14']);
  assert.is(s.runtime.value, 'node');
  assert.is(s.runtimeVersion.value, '>=18 <23');
  assert.equal(at(s.runtimeVersion.evidence), ['package.json:7']);
  assert.is(s.packageManager.value, 'npm');
  assert.equal(s.install.value, [['npm', 'ci']]);
  assert.equal(s.build.value, []);
  assert.equal(s.start.value, { argv: ['node', 'server.js'], portVia: 'env' });
  assert.equal(at(s.start.evidence), ['package.json:10']);
  assert.is(s.port.value, 3000);
  assert.equal(at(s.port.evidence), ['server.js:8']);
  assert.is(s.healthPath.value, '/healthz');
  assert.equal(at(s.healthPath.evidence), ['server.js:16']);
  assert.equal(s.staticDirs.value, ['public']);
  assert.equal(at(s.staticDirs.evidence), ['server.js:13']);
  assert.equal(
    s.writable.map((w) => [w.path, w.kind, w.reason]),
    [
      ['data', 'dir', 'gitignored-dir'],
      ['data/orders.sqlite', 'file', 'sqlite'],
    ],
  );
  assert.equal(at(s.writable[0].evidence), ['server.js:9', '.gitignore:2']);
  assert.equal(at(s.writable[1].evidence), ['routes/orders.js:5', '.gitignore:2']);
  assert.equal(s.secrets.map((x) => x.env), ['SESSION_SECRET', 'STRIPE_API_KEY']);
  assert.equal(at(s.secrets[0].evidence), ['server.js:18']);
  assert.equal(at(s.secrets[1].evidence), ['routes/orders.js:6']);
  assert.is(s.django, undefined);
  assert.is(s.python, undefined);
});

test('express with yarn.lock, scripts.build, .nvmrc and destructured PORT default', async () => {
  const s = await app('express-yarn');
  assert.is(s.name, 'chat-app');
  assert.is(s.packageManager.value, 'yarn');
  assert.equal(s.install.value, [['yarnpkg', 'install', '--immutable']], 'trixie ships Yarn 4');
  assert.equal(s.build.value, [['yarnpkg', 'run', 'build']]);
  assert.equal(at(s.build.evidence), ['package.json:5']);
  assert.equal(s.start.value.argv, ['node', 'src/index.js']);
  assert.is(s.runtimeVersion.value, '20');
  assert.equal(at(s.runtimeVersion.evidence), ['.nvmrc:1']);
  assert.is(s.port.value, 8080);
  assert.equal(at(s.port.evidence), ['src/index.js:3']);
  assert.is(s.healthPath.value, '/health');
  assert.equal(s.staticDirs.value, ['assets']);
  assert.equal(s.secrets.map((x) => x.env), ['CHAT_TOKEN']);
  assert.equal(s.writable, []);
});

test('django project: settings, wsgi, sqlite, media, static, secrets, requirements', async () => {
  const s = await app('django');
  assert.is(s.framework.value, 'django');
  assert.is(s.runtime.value, 'python');
  assert.equal(s.django, { settingsModule: 'mysite.settings', wsgiModule: 'mysite.wsgi', settingsFile: 'mysite/settings.py' });
  assert.equal(s.start.value, { argv: ['gunicorn', '--bind', '0.0.0.0:8000', 'mysite.wsgi:application'], portVia: 'gunicorn-bind' });
  assert.is(s.wsgiEntry?.value, 'mysite.wsgi:application');
  assert.is(s.port.value, 8000);
  assert.is(s.packageManager.value, 'pip');
  assert.equal(s.install.value, []);
  assert.equal(s.build.value, [['python3', 'manage.py', 'collectstatic', '--noinput']]);
  assert.is(s.healthPath.value, '/healthz/');
  assert.equal(at(s.healthPath.evidence), ['mysite/urls.py:8']);
  assert.equal(s.staticDirs.value, ['staticfiles', 'polls/static']);
  const byPath = Object.fromEntries(s.writable.map((w) => [w.path, w]));
  assert.equal(Object.keys(byPath), ['db.sqlite3', 'media']);
  assert.is(byPath['db.sqlite3'].kind, 'file');
  assert.is(byPath['db.sqlite3'].reason, 'sqlite');
  assert.equal(at(byPath['db.sqlite3'].evidence).slice(0, 1), ['mysite/settings.py:40']);
  assert.is(byPath.media.kind, 'dir');
  assert.is(byPath.media.reason, 'media-root');
  assert.equal(at(byPath.media.evidence), ['mysite/settings.py:50']);
  assert.equal(s.secrets.map((x) => x.env), ['SECRET_KEY', 'EMAIL_HOST_PASSWORD']);
  assert.equal(at(s.secrets[0].evidence), ['mysite/settings.py:8']);
  // -r requirements/base.txt is followed; comments, markers and extras are dropped.
  assert.equal(
    s.python?.requirements.map((r) => [r.name, r.spec, ...at(r.evidence)]),
    [
      ['Django', '>=4.2,<6.0', 'requirements/base.txt:1'],
      ['whitenoise', '>=6.5', 'requirements/base.txt:2'],
      ['gunicorn', '==22.0.0', 'requirements.txt:3'],
    ],
  );
});

test('flask app: entry, secret through app.config, sqlite under a gitignored dir, .python-version', async () => {
  const s = await app('flask');
  assert.is(s.framework.value, 'flask');
  assert.is(s.wsgiEntry?.value, 'app:app');
  assert.equal(at(s.wsgiEntry!.evidence), ['app.py:6']);
  assert.equal(s.start.value.argv, ['gunicorn', '--bind', '0.0.0.0:8000', 'app:app']);
  assert.is(s.port.value, 8000);
  assert.is(s.runtimeVersion.value, '3.13');
  assert.is(s.healthPath.value, '/health');
  assert.equal(s.staticDirs.value, ['static']);
  // SESSION_KEY_B64 does not look like a secret by name, but it feeds SECRET_KEY.
  assert.equal(s.secrets.map((x) => [x.env, ...at(x.evidence)]), [['SESSION_KEY_B64', 'app.py:7']]);
  assert.equal(s.writable.map((w) => [w.path, w.kind, w.reason]), [['data/notes.db', 'file', 'sqlite']]);
  assert.equal(s.python?.requirements.map((r) => r.name), ['Flask', 'gunicorn']);
});

test('static site', async () => {
  const s = await app('static-site');
  assert.is(s.name, 'static-site');
  assert.is(s.framework.value, 'static');
  assert.is(s.runtime.value, 'static');
  assert.is(s.port.value, 8080);
  assert.is(s.healthPath.value, '/');
  assert.equal(s.staticDirs.value, ['.']);
  assert.equal(s.start.value, { argv: [], portVia: 'none' });
  assert.is(s.packageManager.value, 'none');
});

test('generic node: node flags and args kept, fixed .listen port, url health check', async () => {
  const s = await app('node-generic');
  assert.is(s.name, 'worker-api');
  assert.is(s.framework.value, 'node');
  assert.equal(s.start.value, { argv: ['node', '--enable-source-maps', 'index.mjs', '--verbose'], portVia: 'none' });
  assert.is(s.port.value, 8081);
  assert.equal(at(s.port.evidence), ['index.mjs:8']);
  assert.is(s.healthPath.value, '/status');
  assert.equal(s.install.value, []); // no dependencies, so no lockfile needed
  assert.equal(s.secrets.map((x) => x.env), ['GITHUB_TOKEN']);
});

test('generic python: wsgi.py, pyproject name and dependencies, runtime.txt', async () => {
  const s = await app('python-generic');
  assert.is(s.name, 'hello-wsgi');
  assert.is(s.framework.value, 'python');
  assert.is(s.wsgiEntry?.value, 'wsgi:application');
  assert.equal(s.start.value.argv, ['gunicorn', '--bind', '0.0.0.0:8000', 'wsgi:application']);
  assert.is(s.runtimeVersion.value, '3.13.1');
  assert.equal(at(s.runtimeVersion.evidence), ['runtime.txt:1', 'pyproject.toml:8']);
  assert.equal(s.python?.requirements.map((r) => [r.name, r.spec, ...at(r.evidence)]), [
    ['gunicorn', '>=21', 'pyproject.toml:10'],
    ['requests', '==2.32.3', 'pyproject.toml:11'],
  ]);
  assert.equal(s.secrets.map((x) => x.env), ['API_TOKEN']);
});

test('not an app: one line, exit 2, says what to add', async () => {
  const e = await failure('not-an-app');
  assert.is(e.exitCode, 2);
  assert.ok(!e.message.includes('\n'));
  assert.match(e.message, /^no app found in .*not-an-app: add package\.json with a "start" script/);
  assert.match(e.message, /manage\.py \(Django\)/);
});

test('ambiguous: manage.py and an express package.json', async () => {
  const e = await failure('ambiguous');
  assert.is(e.exitCode, 2);
  assert.ok(!e.message.includes('\n'));
  assert.match(e.message, /manage\.py \(Django\) and package\.json with express \(Express\)/);
  assert.match(e.message, /bulwark\.hcl with app \{ framework = "django" \}/);
});

test('ambiguous is settled by an explicit framework', async () => {
  const s = await detectApp(fixture('detect', 'ambiguous'), { framework: 'express' });
  assert.is(s.framework.value, 'express');
});

test('malformed package.json: file:line and the parser message', async () => {
  const e = await failure('malformed-package-json');
  assert.is(e.exitCode, 2);
  assert.match(e.message, /malformed-package-json\/package\.json:4: invalid JSON \(.+\); fix it and retry$/);
});

test('engines.node the suite cannot meet', async () => {
  const e = await failure('unsupported-engines');
  assert.is(e.exitCode, 2);
  assert.match(e.message, /unsupported-engines\/package\.json:5: engines\.node ">=22"/);
  assert.match(e.message, /Debian trixie ships/);
  assert.match(e.message, /20\.19\.2/);
});

test('engines.node that only the other suite meets suggests --suite', async () => {
  const s = await app('express-npm', 'bookworm');
  assert.match(s.runtimeVersion.evidence[0].note ?? '', /bookworm ships Node 18\.19\.0/);
  const e = await failure('express-yarn', 'bookworm'); // .nvmrc 20
  assert.match(e.message, /\.nvmrc:1: \.nvmrc "20" is not met by Node 18\.19\.0.*choose --suite trixie/);
});

test('start script with && is refused', async () => {
  const e = await failure('start-and');
  assert.is(e.exitCode, 2);
  assert.match(e.message, /start-and\/package\.json:5: scripts\.start "npm run build && node dist\/server\.js"/);
  assert.match(e.message, /`node FILE/);
});

test('dependencies without a lockfile', async () => {
  const e = await failure('missing-lockfile');
  assert.is(e.exitCode, 2);
  assert.match(e.message, /missing-lockfile\/package\.json:\d+: no lockfile: run `npm install` \(or yarnpkg install\) and commit package-lock\.json/);
});

test('django settings with an unclosed bracket', async () => {
  const e = await failure('django-bad-settings');
  assert.is(e.exitCode, 2);
  assert.match(e.message, /django-bad-settings\/mysite\/settings\.py:7: invalid Python/);
});

test('a folder that does not exist', async () => {
  try {
    await detectApp(fixture('detect', 'no-such-app'));
    assert.unreachable();
  } catch (e) {
    assert.is((e as BulwarkError).exitCode, 2);
  }
});

test('every fact carries evidence with a relative file', async () => {
  for (const name of ['express-npm', 'express-yarn', 'django', 'flask', 'static-site', 'node-generic', 'python-generic']) {
    const s: AppSpec = await app(name);
    const facts = [s.framework, s.runtime, s.runtimeVersion, s.packageManager, s.install, s.build, s.start, s.port, s.healthPath, s.staticDirs];
    for (const f of facts) {
      assert.ok(f.evidence.length > 0, `${name}: a fact without evidence`);
      for (const e of f.evidence) assert.ok(e.file && !e.file.startsWith('/'), `${name}: evidence file ${e.file}`);
    }
    for (const e of [...s.writable, ...s.secrets].flatMap((x) => x.evidence)) assert.ok(e.line && e.line > 0, `${name}: ${e.file} without a line`);
  }
});

test('formatDetect names values and their file:line', async () => {
  const out = formatDetect(await app('express-npm'));
  assert.match(out, /^shop-api: express app\n/);
  assert.match(out, /port\s+3000 \(passed as PORT\)\s+<- server\.js:8/);
  assert.match(out, /start\s+node server\.js\s+<- package\.json:10/);
  assert.match(out, /data\/ \[gitignored-dir\]/);
  assert.match(out, /SESSION_SECRET\s+<- server\.js:18/);
});

test('cli: detect --json prints the AppSpec; a missing folder exits 2', async () => {
  const ok = await bulwark(['detect', fixture('detect', 'flask'), '--json'], { timeoutMs: 30_000 });
  assert.is(ok.code, 0);
  const spec = JSON.parse(ok.stdout) as AppSpec;
  assert.is(spec.framework.value, 'flask');
  const missing = await bulwark(['detect', fixture('detect', 'no-such-app')], { timeoutMs: 30_000 });
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /no-such-app: no such folder/);
  const bad = await bulwark(['detect', fixture('detect', 'start-and')], { timeoutMs: 30_000 });
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /package\.json:5/);
  const help = await bulwark(['detect', '--help'], { timeoutMs: 30_000 });
  assert.is(help.code, 0);
  assert.match(help.stdout, /Usage: bulwark detect \[dir\]/);
});

test.run();
