import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { renderCompose } from '../../src/render/compose.js';
import { renderDjangoSettings, renderLaunchConfig, NODE_LAUNCHER } from '../../src/render/launcher.js';
import { depsCacheKey, nodeBuildScript } from '../../src/build/app-build.js';
import { sampleAppPlan } from './fixtures-plan.js';

test('compose.yaml: hardened run config in the keys both docker-compose 1.29 and v2 honour', () => {
  const app = sampleAppPlan();
  const text = renderCompose(app, 'bulwark/express-hello:abc');
  const svc = parse(text).services['express-hello'];
  assert.is(parse(text).version, '2.4');
  assert.is(svc.read_only, true);
  assert.is(svc.init, true);
  assert.equal(svc.cap_drop, ['ALL']);
  assert.ok(svc.security_opt.includes('no-new-privileges:true'));
  assert.match(svc.tmpfs[0], /^\/tmp:.*noexec.*nosuid.*nodev/);
  assert.ok(svc.mem_limit && svc.cpus && svc.pids_limit > 0);
  assert.equal(svc.ports, ['127.0.0.1:3000:3000']);
  assert.equal(svc.volumes, ['state:/var/lib/express-hello']);
  assert.is(parse(text).volumes.state.name, 'express-hello-state');
  assert.is(renderCompose(app, 'bulwark/express-hello:abc'), text, 'deterministic');
});

test('launch config carries secrets names, never values', () => {
  const cfg = JSON.parse(renderLaunchConfig(sampleAppPlan()));
  assert.equal(cfg.secrets, ['SESSION_SECRET']);
  assert.equal(cfg.writable, [{ path: 'data', kind: 'dir' }]);
  assert.is(cfg.state, '/var/lib/express-hello');
  assert.match(NODE_LAUNCHER, /runMain/);
  assert.match(NODE_LAUNCHER, /mode: 0o600/);
});

test('npm build script: production install without a build step; build then prune with one', () => {
  assert.match(nodeBuildScript(sampleAppPlan()), /'npm' 'ci' --omit=dev/);
  const withBuild = nodeBuildScript(sampleAppPlan({ build: { value: [['npm', 'run', 'build']], evidence: [] } }));
  assert.match(withBuild, /'npm' 'ci' --no-audit[\s\S]*'npm' 'run' 'build'[\s\S]*npm prune --omit=dev/);
});

test('dependency layers are never shared between apps: /opt/<app>/node_modules differs', () => {
  const a = depsCacheKey(sampleAppPlan(), 'bulwark/builder-node:x', 1);
  assert.is(depsCacheKey(sampleAppPlan(), 'bulwark/builder-node:x', 1), a, 'stable');
  assert.is.not(depsCacheKey(sampleAppPlan({ name: 'shop' }), 'bulwark/builder-node:x', 1), a, 'same lockfile, other app');
  assert.is.not(depsCacheKey(sampleAppPlan(), 'bulwark/builder-node:y', 1), a, 'other builder');
});

test('Django settings layer: secure cookies, proxy header, state on the volume, WhiteNoise', () => {
  const app = sampleAppPlan({
    name: 'django-hello',
    framework: { value: 'django', evidence: [] },
    runtime: { value: 'python', evidence: [] },
    django: { settingsModule: 'mysite.settings', wsgiModule: 'mysite.wsgi', settingsFile: 'mysite/settings.py' },
  });
  const s = renderDjangoSettings(app);
  assert.match(s, /^from mysite\.settings import \*/m);
  for (const k of ['SESSION_COOKIE_SECURE = True', 'CSRF_COOKIE_SECURE = True', "SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https')", "SECRET_KEY = os.environ['SECRET_KEY']"])
    assert.ok(s.includes(k), k);
  assert.match(s, /_STATE = "\/var\/lib\/django-hello"/);
  assert.match(s, /whitenoise\.middleware\.WhiteNoiseMiddleware/);
});

test.run();
