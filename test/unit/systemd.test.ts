// Unit tests for the app unit (SECURITY-CHECKS D1–D10): the directives, the runtime differences
// (Node: no MemoryDenyWriteExecute, no ~@resources), ExecStart, and the exposure measured by
// systemd-analyze (≤ 1.5 for apps, D1; scripts/setup installs it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { absoluteCommand, renderAppUnit, systemdWord, unitExecStart } from '../../src/render/systemd.js';
import { appUid } from '../../src/names.js';
import { samplePlan } from './sample-plan.js';
import { offlineExposure, serviceSettings } from './unit-files.js';

const plan = samplePlan();
const [express, django] = plan.apps as [(typeof plan.apps)[0], (typeof plan.apps)[0]];

const hardening: Record<string, string> = {
  NoNewPrivileges: 'yes',
  CapabilityBoundingSet: '',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  StateDirectoryMode: '0700',
  PrivateDevices: 'yes',
  DevicePolicy: 'closed',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectKernelLogs: 'yes',
  ProtectControlGroups: 'yes',
  ProtectClock: 'yes',
  ProtectHostname: 'yes',
  PrivateMounts: 'yes',
  RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
  RestrictNamespaces: 'yes',
  RestrictRealtime: 'yes',
  RestrictSUIDSGID: 'yes',
  LockPersonality: 'yes',
  SystemCallArchitectures: 'native',
  SystemCallErrorNumber: 'EPERM',
  ProtectProc: 'invisible',
  ProcSubset: 'pid',
  UMask: '0077',
  RemoveIPC: 'yes',
  PrivateUsers: 'yes',
  IPAddressDeny: 'any',
  IPAddressAllow: 'localhost',
  Restart: 'on-failure',
  Type: 'simple',
};

for (const app of [express, django]) {
  test(`${app.spec.name}: D2–D9 directives`, () => {
    const s = serviceSettings(renderAppUnit(plan, app));
    for (const [k, v] of Object.entries(hardening)) assert.equal(s.get(k), [v], k);
    const name = app.spec.name;
    assert.equal(s.get('User'), [name]);
    assert.equal(s.get('Group'), [name]);
    assert.not.ok(s.has('DynamicUser'), 'a fixed uid, not DynamicUser');
    assert.not.ok(s.has('SupplementaryGroups'));
    assert.equal(s.get('AmbientCapabilities'), ['']);
    assert.equal(s.get('StateDirectory'), [name]);
    assert.equal(s.get('WorkingDirectory'), [`/opt/${name}`]);
    assert.equal(s.get('EnvironmentFile'), [`/var/lib/bulwark/secrets/${name}.env`], 'secrets declared: the file is required');
    assert.ok(s.get('Environment')!.includes(`PORT=${app.spec.port.value}`));
    assert.ok(s.get('SystemCallFilter')!.includes('@system-service'));
    assert.ok(s.get('SystemCallFilter')!.includes('~@privileged'));
    assert.ok(renderAppUnit(plan, app).includes(`uid/gid ${appUid(name)}`));
  });
}

test('node: no MemoryDenyWriteExecute (V8 JIT) and @resources allowed, both with a reason', () => {
  const unit = renderAppUnit(plan, express);
  const s = serviceSettings(unit);
  assert.not.ok(s.has('MemoryDenyWriteExecute'));
  assert.match(unit, /# MemoryDenyWriteExecute= stays off: Node\.js \(V8\) JIT/);
  assert.not.ok(s.get('SystemCallFilter')!.includes('~@resources'));
  assert.match(unit, /setrlimit/);
  assert.equal(s.get('ExecStart'), ['/usr/bin/node /opt/bulwark/express-hello/launch.mjs']);
  assert.ok(s.get('Environment')!.includes('BULWARK_APP_CONFIG=/opt/bulwark/express-hello/app.json'));
  assert.equal(s.get('Environment'), ['BULWARK_APP_CONFIG=/opt/bulwark/express-hello/app.json', 'BULWARK_BIND_HOST=127.0.0.1', 'NODE_ENV=production', 'PORT=3000']);
});

test('python: MemoryDenyWriteExecute=yes, ~@resources, gunicorn by absolute path on loopback', () => {
  const s = serviceSettings(renderAppUnit(plan, django));
  assert.equal(s.get('MemoryDenyWriteExecute'), ['yes']);
  assert.ok(s.get('SystemCallFilter')!.includes('~@resources'));
  // The launcher runs migrations, then gunicorn on loopback (BULWARK_BIND_HOST).
  assert.equal(s.get('ExecStart'), ['/usr/bin/python3 /opt/bulwark/django-notes/launch.py']);
  assert.ok(s.get('Environment')!.includes('BULWARK_BIND_HOST=127.0.0.1'));
  assert.ok(s.get('Environment')!.includes('PYTHONPATH=/opt/bulwark/django-notes:/opt/django-notes'));
  assert.equal(s.get('Environment'), ['BULWARK_APP_CONFIG=/opt/bulwark/django-notes/app.json', 'BULWARK_BIND_HOST=127.0.0.1', 'DJANGO_SETTINGS_MODULE=notes.settings', 'PORT=8000', 'PYTHONDONTWRITEBYTECODE=1', 'PYTHONPATH=/opt/bulwark/django-notes:/opt/django-notes', 'PYTHONUNBUFFERED=1']);
});

test('no secrets declared: the environment file is optional', () => {
  const app = structuredClone(express);
  app.spec.secrets = [];
  assert.equal(serviceSettings(renderAppUnit(plan, app)).get('EnvironmentFile'), ['-/var/lib/bulwark/secrets/express-hello.env']);
});

test('ExecStart: absolute binaries and safe quoting', () => {
  assert.is(absoluteCommand('node', 'a'), '/usr/bin/node');
  assert.is(absoluteCommand('gunicorn', 'a'), '/usr/bin/gunicorn');
  assert.is(absoluteCommand('python', 'a'), '/usr/bin/python3');
  assert.is(absoluteCommand('./bin/www', 'a'), '/opt/a/bin/www');
  assert.is(absoluteCommand('/usr/local/bin/x', 'a'), '/usr/local/bin/x');
  assert.is(systemdWord('plain'), 'plain');
  assert.is(systemdWord('50%'), '50%%');
  assert.is(systemdWord('a b'), '"a b"');
  assert.is(systemdWord('say "hi"'), '"say \\"hi\\""');
  assert.is(systemdWord('$HOME', true), '$$HOME');
  assert.is(systemdWord('K=$v'), 'K=$v', 'Environment= does not expand $');
  const app = structuredClone(django);
  app.spec.start.value.argv = ['gunicorn', '--bind=0.0.0.0:8000', 'notes.wsgi'];
  assert.equal(unitExecStart(app), ['/usr/bin/gunicorn', '--bind=127.0.0.1:8000', 'notes.wsgi']);
});

for (const app of [express, django]) {
  test(`D1: systemd-analyze exposure of ${app.spec.name} ≤ 1.5`, async () => {
    const level = await offlineExposure(`${app.spec.name}.service`, renderAppUnit(plan, app));
    assert.ok(level <= 1.5, `exposure ${level} > 1.5`);
    assert.ok(level > 0, `exposure ${level}: implausibly low, is the unit read at all?`);
  });
}

test('D1: the measurement is real (a bare unit scores high)', async () => {
  const level = await offlineExposure('bare.service', '[Service]\nExecStart=/usr/bin/node server.js\n');
  assert.ok(level > 9, `bare unit exposure ${level}`);
});

test.run();
