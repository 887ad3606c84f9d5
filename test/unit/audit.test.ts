// Unit tests for `bulwark audit` checks A1–A15: each rule with a passing and a failing input.
// Run config cases start from the compose.yaml Bulwark renders and break one thing at a time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { renderCompose } from '../../src/render/compose.js';
import type { AppPlan } from '../../src/plan/types.js';
import type { AppSpec, Artifact } from '../../src/types.js';
import { appUid } from '../../src/names.js';
import {
  checkBasePinned,
  checkHealthcheck,
  checkHygiene,
  checkImage,
  checkSecrets,
  checkSetuid,
  checkStateImage,
  checkUser,
  lockPinsDigest,
} from '../../src/audit/checks-image.js';
import { checkRunConfig } from '../../src/audit/checks-runconfig.js';
import { mountsOf, portsOf } from '../../src/audit/compose.js';
import { mergeLayers, normalizePath, readSavedImage, type LayerEntry } from '../../src/audit/image-files.js';
import { makeReport, scoreOf } from '../../src/audit/index.js';
import { formatTable, summaryLine, truncate } from '../../src/audit/format.js';
import type { CheckResult, ImageFile, ImageFs, ImageInspect } from '../../src/audit/types.js';
import { layeredArchive } from '../fixtures/audit/images.js';

// ---- fixtures -------------------------------------------------------------------------------

const APP = 'shop';
const UID = appUid(APP);
const DIGEST = 'sha256:' + '0123456789abcdef'.repeat(4);
const fact = <T>(value: T) => ({ value, evidence: [] });

const spec: AppSpec = {
  name: APP,
  dir: '/src/shop',
  framework: fact('express'),
  runtime: fact('node'),
  runtimeVersion: fact(''),
  packageManager: fact('npm'),
  install: fact([['npm', 'ci']]),
  build: fact([]),
  start: fact({ argv: ['node', 'server.js'], portVia: 'env' }),
  port: fact(3000),
  healthPath: fact('/healthz'),
  staticDirs: fact([]),
  writable: [],
  secrets: [],
};
const plan: AppPlan = { spec, uid: UID, image: `bulwark/${APP}`, stateVolume: `${APP}-state`, layers: [], appPackages: [], appHash: 'x', contentHash: 'abc123', env: {} };
const IMAGE_REF = `bulwark/${APP}:abc123`;

/** The compose Bulwark renders, parsed, with `mutate` applied to the app's service. */
function compose(mutate: (svc: any, doc: any) => void = () => {}): any {
  const doc = parseYaml(renderCompose(plan, IMAGE_REF));
  mutate(doc.services[APP], doc);
  return doc;
}

function run(doc: unknown, over: { apparmor?: boolean; health?: boolean } = {}): Record<string, CheckResult> {
  const results = checkRunConfig(doc, { app: APP, imageRefs: [IMAGE_REF], imageHasHealthcheck: over.health ?? true, apparmor: over.apparmor ?? true });
  return Object.fromEntries(results.map((r) => [r.id, r]));
}

const inspect = (config: NonNullable<ImageInspect['Config']> = {}): ImageInspect => ({
  Id: 'sha256:' + 'f'.repeat(64),
  RepoTags: [IMAGE_REF],
  Config: {
    User: `${UID}:${UID}`,
    Env: ['PATH=/usr/bin:/bin', 'NODE_ENV=production'],
    Healthcheck: { Test: ['CMD', '/usr/bin/node', '/opt/shop/health.js'] },
    Volumes: { [`/var/lib/${APP}`]: {} },
    Labels: { 'dev.bulwark.app': APP, 'dev.bulwark.uid': String(UID), 'dev.bulwark.base.userland': DIGEST, 'dev.bulwark.base.runtime-node': DIGEST },
    Entrypoint: ['/usr/bin/tini', '--', '/usr/bin/node', 'server.js'],
    ...config,
  },
});

const file = (path: string, over: Partial<ImageFile> = {}): ImageFile => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10, layer: 0, ...over });
const dir = (path: string, over: Partial<ImageFile> = {}): ImageFile => file(path, { type: 'directory', mode: 0o755, ...over });

const baseFiles: ImageFile[] = [
  dir('/etc'),
  file('/etc/passwd', { content: `root:x:0:0:root:/root:/usr/sbin/nologin\n${APP}:x:${UID}:${UID}::/var/lib/${APP}:/usr/sbin/nologin\n` }),
  file('/etc/group', { content: `root:x:0:\n${APP}:x:${UID}:\n` }),
  dir('/tmp', { mode: 0o1777 }),
  dir('/usr/bin'),
  file('/usr/bin/node', { mode: 0o755 }),
  file('/usr/bin/tini', { mode: 0o755 }),
  dir('/opt/shop'),
  file('/opt/shop/server.js'),
  dir(`/var/lib/${APP}`, { uid: UID, gid: UID, mode: 0o700 }),
];
const fsOf = (extra: ImageFile[] = [], shadowed: ImageFile[] = []): ImageFs => ({ files: [...baseFiles, ...extra], shadowed, layers: 2 });

// ---- the compliant baseline ----------------------------------------------------------------

test('a compliant image passes A1–A6 and the image half of A15', () => {
  const results = checkImage(inspect(), fsOf(), { lock: null });
  for (const r of results) assert.is(r.status, 'pass', `${r.id}: ${r.evidence}`);
  assert.equal(results.map((r) => r.id), ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A15']);
});

test('the compose Bulwark renders passes A7–A15', () => {
  const r = run(compose());
  for (const id of ['A7', 'A8', 'A9', 'A10', 'A11', 'A12', 'A13', 'A14', 'A15']) assert.is(r[id]!.status, 'pass', `${id}: ${r[id]!.evidence}`);
});

// ---- A1 ------------------------------------------------------------------------------------

test('A1 image user', () => {
  const status = (User: string) => checkUser(inspect({ User })).status;
  assert.is(status('10001:10001'), 'pass');
  assert.is(status('10001'), 'pass');
  assert.is(status('1000:1000'), 'warn');
  assert.is(status('10001:0'), 'warn');
  assert.is(status(''), 'fail');
  assert.is(status('0'), 'fail');
  assert.is(status('0:0'), 'fail');
  assert.is(status('root'), 'fail');
  assert.is(status('app'), 'fail');
  assert.match(checkUser(inspect({ User: 'app' })).evidence, 'numeric');
});

// ---- A2 ------------------------------------------------------------------------------------

test('A2 healthcheck exec form', () => {
  const status = (Test: string[] | null) => checkHealthcheck(inspect({ Healthcheck: Test ? { Test } : null })).status;
  assert.is(status(['CMD', '/usr/bin/node', 'health.js']), 'pass');
  assert.is(status(['CMD-SHELL', 'curl -f localhost || exit 1']), 'fail');
  assert.is(status(['NONE']), 'fail');
  assert.is(status(null), 'fail');
  assert.is(status([]), 'fail');
});

// ---- A3 ------------------------------------------------------------------------------------

test('A3 setuid/setgid files in any layer', () => {
  assert.is(checkSetuid(fsOf()).status, 'pass');
  const suid = checkSetuid(fsOf([file('/usr/bin/passwd', { mode: 0o4755 })]));
  assert.is(suid.status, 'fail');
  assert.match(suid.evidence, '/usr/bin/passwd (4755, layer 1)');
  assert.is(checkSetuid(fsOf([file('/usr/bin/wall', { mode: 0o2755 })])).status, 'fail');
  // A setgid directory (Debian's /var/mail) hands on a group, it grants nothing.
  assert.is(checkSetuid(fsOf([dir('/var/mail', { mode: 0o2775 })])).status, 'pass');
  const deleted = checkSetuid(fsOf([], [file('/bin/su', { mode: 0o4755 })]));
  assert.is(deleted.status, 'fail');
  assert.match(deleted.evidence, 'removed later');
});

// ---- A4 ------------------------------------------------------------------------------------

test('A4 secret-named ENV with a value fails, without printing the value', () => {
  const r = checkSecrets(inspect({ Env: ['PATH=/bin', 'API_TOKEN=abc123'] }), fsOf());
  assert.is(r.status, 'fail');
  assert.match(r.evidence, 'API_TOKEN');
  assert.not.match(r.evidence, 'abc123');
  for (const name of ['DB_PASSWORD', 'SESSION_SECRET', 'stripe_key', 'GH_TOKEN']) assert.is(checkSecrets(inspect({ Env: [`${name}=x`] }), fsOf()).status, 'fail', name);
  assert.is(checkSecrets(inspect({ Env: ['SECRET_KEY=', 'NODE_ENV=production', 'PORT=3000'] }), fsOf()).status, 'pass');
});

test('A4 secret files, .git and private keys in any layer', () => {
  const fails = (f: ImageFile, why: string) => {
    const r = checkSecrets(inspect(), fsOf([f]));
    assert.is(r.status, 'fail', f.path);
    assert.match(r.evidence, why);
  };
  const passes = (f: ImageFile) => assert.is(checkSecrets(inspect(), fsOf([f])).status, 'pass', f.path);
  fails(file('/opt/shop/.env'), 'env file /opt/shop/.env');
  fails(file('/opt/shop/.env.production'), 'env file');
  passes(file('/opt/shop/.env.example'));
  fails(file('/root/.ssh/id_rsa'), 'SSH private key');
  fails(file('/home/x/.ssh/id_ed25519'), 'SSH private key');
  passes(file('/home/x/.ssh/id_ed25519.pub'));
  fails(file('/root/.aws/credentials'), 'credentials file');
  fails(file('/root/.netrc'), 'credentials file');
  fails(file('/opt/shop/.npmrc', { content: '//registry.npmjs.org/:_authToken=npm_abcdef\n' }), 'npm auth token');
  passes(file('/opt/shop/.npmrc', { content: '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n' }));
  passes(file('/opt/shop/.npmrc', { content: 'fund=false\n' }));
  fails(file('/opt/shop/tls/server.pem', { content: '-----BEGIN EC PRIVATE KEY-----\nMHc…\n' }), 'private key');
  fails(file('/opt/shop/tls/server.key', { content: '-----BEGIN PRIVATE KEY-----\n' }), 'private key');
  passes(file('/etc/ssl/certs/ca.pem', { content: '-----BEGIN CERTIFICATE-----\n' }));
  fails(dir('/opt/shop/.git'), '.git directory /opt/shop/.git');
  // .git reported once, however many objects it holds.
  const git = checkSecrets(inspect(), fsOf([dir('/opt/shop/.git'), file('/opt/shop/.git/HEAD'), file('/opt/shop/.git/config')]));
  assert.is(git.evidence.split('.git directory').length, 2);
  const removed = checkSecrets(inspect(), fsOf([], [file('/opt/shop/.env', { layer: 2 })]));
  assert.is(removed.status, 'fail');
  assert.match(removed.evidence, 'layer 3, removed later');
});

// ---- A5 ------------------------------------------------------------------------------------

test('A5 shells and package managers, also as symlinks', () => {
  const fails = (f: ImageFile, what: string) => {
    const r = checkHygiene(fsOf([f]));
    assert.is(r.status, 'fail', f.path);
    assert.match(r.evidence, what);
  };
  fails(file('/bin/sh', { mode: 0o755 }), 'shell: /bin/sh');
  fails(file('/usr/bin/bash', { type: 'symlink', linkname: '/bin/bash' }), 'shell: /usr/bin/bash');
  fails(file('/bin/busybox', { mode: 0o755 }), 'shell');
  fails(file('/usr/bin/dash', { type: 'link', linkname: '/bin/dash' }), 'shell');
  fails(file('/usr/bin/dpkg', { mode: 0o755 }), 'package manager: /usr/bin/dpkg');
  fails(file('/usr/bin/apt-get', { mode: 0o755 }), 'package manager');
  fails(file('/usr/local/bin/npm', { type: 'symlink', linkname: '../lib/node_modules/npm/bin/npm-cli.js' }), 'package manager');
  fails(file('/usr/bin/pip3', { mode: 0o755 }), 'package manager');
  fails(file('/usr/bin/pip3.11', { mode: 0o755 }), 'package manager');
  fails(file('/sbin/apk', { mode: 0o755 }), 'package manager');
  // Names outside the bin directories are not commands anyone runs.
  assert.is(checkHygiene(fsOf([file('/opt/shop/node_modules/.bin/sh-like'), file('/usr/share/doc/bash/copyright')])).status, 'pass');
  // A shell deleted by a later layer is not in the runtime image.
  assert.is(checkHygiene(fsOf([], [file('/bin/sh')])).status, 'pass');
});

test('A5 apt caches', () => {
  assert.is(checkHygiene(fsOf([file('/var/lib/apt/lists/deb.debian.org_debian_dists_trixie_InRelease')])).status, 'fail');
  assert.is(checkHygiene(fsOf([file('/var/cache/apt/archives/curl_8.0_amd64.deb')])).status, 'fail');
  assert.is(checkHygiene(fsOf([file('/var/cache/apt/pkgcache.bin')])).status, 'fail');
  assert.is(checkHygiene(fsOf([file('/var/lib/apt/lists/lock', { size: 0 }), dir('/var/lib/apt/lists/partial')])).status, 'pass');
});

test('A5 empty passwords and duplicate ids', () => {
  const withAccounts = (passwd: string, group = 'root:x:0:\n', shadow?: string) => {
    const files = baseFiles.filter((f) => f.path !== '/etc/passwd' && f.path !== '/etc/group');
    files.push(file('/etc/passwd', { content: passwd }), file('/etc/group', { content: group }));
    if (shadow !== undefined) files.push(file('/etc/shadow', { content: shadow, mode: 0o640 }));
    return checkHygiene({ files, shadowed: [], layers: 1 });
  };
  assert.is(withAccounts('root:x:0:0::/root:/usr/sbin/nologin\n', 'root:x:0:\n', 'root:*:19000:0:99999:7:::\n').status, 'pass');
  const empty = withAccounts('root:x:0:0::/root:/bin/bash\n', 'root:x:0:\n', 'root::19000:0:99999:7:::\n');
  assert.is(empty.status, 'fail');
  assert.match(empty.evidence, 'empty password: root');
  assert.is(withAccounts('root::0:0::/root:/bin/sh\n').status, 'fail');
  // An empty password on an account that cannot log in opens nothing.
  assert.is(withAccounts('daemon:x:1:1::/:/usr/sbin/nologin\n', 'daemon:x:1:\n', 'daemon::19000::::::\n').status, 'pass');
  const dupUid = withAccounts('root:x:0:0::/root:/usr/sbin/nologin\ntoor:x:0:0::/root:/usr/sbin/nologin\n');
  assert.is(dupUid.status, 'fail');
  assert.match(dupUid.evidence, 'duplicate uid 0: root, toor');
  const dupGid = withAccounts('root:x:0:0::/root:/usr/sbin/nologin\n', 'root:x:0:\nwheel:x:0:\n');
  assert.is(dupGid.status, 'fail');
  assert.match(dupGid.evidence, 'duplicate gid 0: root, wheel');
});

// ---- A6 ------------------------------------------------------------------------------------

const artifact = (id: string): Artifact => ({ app: APP, target: 'docker', kind: 'docker-image', id, tags: [IMAGE_REF], port: 3000, stateVolume: `${APP}-state`, healthPath: '/healthz' });

test('A6 base layers pinned by digest', () => {
  assert.is(checkBasePinned(inspect()).status, 'pass');
  const none = checkBasePinned(inspect({ Labels: { 'dev.bulwark.app': APP } }));
  assert.is(none.status, 'fail');
  assert.match(none.evidence, 'no dev.bulwark.base');
  const tagged = checkBasePinned(inspect({ Labels: { 'dev.bulwark.base.userland': 'debian:trixie' } }));
  assert.is(tagged.status, 'fail');
  assert.match(tagged.evidence, 'dev.bulwark.base.userland');
  assert.is(checkBasePinned(inspect({ Labels: { 'dev.bulwark.base.userland': 'sha256:abc' } })).status, 'fail');
});

test('A6 artifact recorded by image ID, not a tag', () => {
  assert.is(checkBasePinned(inspect(), artifact('sha256:' + 'f'.repeat(64)), null).status, 'pass');
  const r = checkBasePinned(inspect(), artifact('bulwark/shop:latest'), null);
  assert.is(r.status, 'fail');
  assert.match(r.evidence, 'not an image ID');
});

test('A6 lock: none yet passes; once present it must pin every layer and package, and match the image', () => {
  const none = checkBasePinned(inspect(), undefined, null);
  assert.is(none.status, 'pass');
  assert.match(none.evidence, 'no lock yet: base layers pinned by digest in labels');
  const pin = (v: string) => ({ version: v, arch: 'amd64', suite: 'trixie', filename: 'pool/x.deb', sha256: 'a'.repeat(64), size: 1, source: 'x', sourceVersion: v, depends: '' });
  const lock = {
    lockVersion: 1, suite: 'trixie', mirror: 'm', securityMirror: 's', sourceDateEpoch: 1, indexes: {}, runtimes: {},
    layers: { userland: { definition: 'd', packages: ['libc6'] }, 'runtime-node': { definition: 'd', packages: ['nodejs'] } },
    packages: { libc6: pin('2.41'), nodejs: pin('20.19.2') },
    apps: { [APP]: { path: '.', layers: ['userland', 'runtime-node'], dependencyLock: null } },
  };
  assert.is(checkBasePinned(inspect(), undefined, lock).status, 'pass');
  const built = (l: typeof lock) => inspect({ Labels: { ...inspect().Config!.Labels, 'dev.bulwark.lock': lockPinsDigest(l as never, APP)! } });
  assert.match(checkBasePinned(built(lock), undefined, lock).evidence, 'the image matches it');
  const bumped = { ...lock, packages: { ...lock.packages, nodejs: pin('20.19.3') } };
  const stale = checkBasePinned(built(lock), undefined, bumped);
  assert.is(stale.status, 'fail');
  assert.match(stale.evidence, 'built from other pins');
  const missing = checkBasePinned(inspect(), undefined, { ...lock, apps: { [APP]: { path: '.', layers: ['userland'], dependencyLock: null } } });
  assert.is(missing.status, 'fail');
  assert.match(missing.evidence, 'runtime-node');
  const unpinned = checkBasePinned(inspect(), undefined, { ...lock, packages: { ...lock.packages, libc6: { ...pin('2.41'), sha256: '' } } });
  assert.is(unpinned.status, 'fail');
  assert.match(unpinned.evidence, 'libc6');
  assert.is(checkBasePinned(inspect(), undefined, { ...lock, apps: {} }).status, 'fail');
});

// ---- A15 (image) ---------------------------------------------------------------------------

test('A15 image: state volume declared, nothing else owned by the app or world-writable', () => {
  const noVolume = checkStateImage(inspect({ Volumes: null }), fsOf(), APP);
  assert.is(noVolume.status, 'fail');
  assert.match(noVolume.evidence, `no VOLUME /var/lib/${APP}`);
  const owned = checkStateImage(inspect(), fsOf([file('/opt/shop/server.js', { uid: UID })]), APP);
  assert.is(owned.status, 'fail');
  assert.match(owned.evidence, `owned by uid ${UID} outside`);
  assert.is(checkStateImage(inspect(), fsOf([file(`/var/lib/${APP}/seed.db`, { uid: UID })]), APP).status, 'pass');
  const ww = checkStateImage(inspect(), fsOf([file('/opt/shop/config.json', { mode: 0o666 })]), APP);
  assert.is(ww.status, 'fail');
  assert.match(ww.evidence, 'world-writable /opt/shop/config.json');
  assert.is(checkStateImage(inspect(), fsOf([dir('/srv', { mode: 0o1777 })]), APP).status, 'fail');
  // Symlinks are always 0777; their targets' modes are what count.
  assert.is(checkStateImage(inspect(), fsOf([file('/usr/bin/nodejs', { type: 'symlink', mode: 0o777, linkname: 'node' })]), APP).status, 'pass');
  assert.is(checkStateImage(inspect(), fsOf([dir('/var/tmp', { mode: 0o1777 })]), APP).status, 'warn');
  assert.is(checkStateImage(inspect(), fsOf([dir('/var/tmp', { mode: 0o777 })]), APP).status, 'fail');
  assert.is(checkStateImage(inspect(), fsOf(), undefined).status, 'fail');
});

// ---- A7–A14 --------------------------------------------------------------------------------

test('A7 read-only root and a hardened /tmp', () => {
  assert.is(run(compose((s) => (s.read_only = false))).A7!.status, 'fail');
  assert.is(run(compose((s) => delete s.read_only)).A7!.status, 'fail');
  const weak = run(compose((s) => (s.tmpfs = ['/tmp:rw,nosuid,size=64m']))).A7!;
  assert.is(weak.status, 'fail');
  assert.match(weak.evidence, 'noexec,nodev');
  assert.is(run(compose((s) => delete s.tmpfs)).A7!.status, 'fail');
  assert.is(run(compose((s) => (s.tmpfs = '/tmp:noexec,nosuid,nodev'))).A7!.status, 'pass');
  const long = run(compose((s) => {
    delete s.tmpfs;
    s.volumes.push({ type: 'tmpfs', target: '/tmp' });
  })).A7!;
  assert.is(long.status, 'fail');
  assert.match(long.evidence, 'long volume syntax');
});

test('A8 capabilities: drop ALL, add nothing but the proxy’s NET_BIND_SERVICE', () => {
  assert.is(run(compose((s) => delete s.cap_drop)).A8!.status, 'fail');
  assert.is(run(compose((s) => (s.cap_drop = ['NET_RAW']))).A8!.status, 'fail');
  assert.is(run(compose((s) => (s.cap_drop = ['all']))).A8!.status, 'pass');
  const added = run(compose((s) => (s.cap_add = ['NET_ADMIN']))).A8!;
  assert.is(added.status, 'fail');
  assert.match(added.evidence, 'NET_ADMIN');
  assert.is(run(compose((s) => (s.cap_add = ['NET_BIND_SERVICE']))).A8!.status, 'fail');
  const proxy = compose((_, doc) => {
    doc.services.proxy = { image: 'bulwark/proxy:1', cap_drop: ['ALL'], cap_add: ['CAP_NET_BIND_SERVICE'] };
  });
  assert.is(run(proxy).A8!.status, 'pass');
});

test('A9 no-new-privileges', () => {
  assert.is(run(compose((s) => delete s.security_opt)).A9!.status, 'fail');
  assert.is(run(compose((s) => (s.security_opt = ['no-new-privileges:false']))).A9!.status, 'fail');
  assert.is(run(compose((s) => (s.security_opt = ['no-new-privileges']))).A9!.status, 'pass');
  assert.is(run(compose((s) => (s.security_opt = ['no-new-privileges=true']))).A9!.status, 'pass');
});

test('A10 pids, memory and cpu limits', () => {
  for (const key of ['pids_limit', 'mem_limit', 'cpus']) {
    const r = run(compose((s) => delete s[key])).A10!;
    assert.is(r.status, 'fail', key);
  }
  assert.is(run(compose((s) => (s.pids_limit = -1))).A10!.status, 'fail');
  assert.is(run(compose((s) => (s.cpus = 0))).A10!.status, 'fail');
  const deploy = compose((s) => {
    delete s.mem_limit;
    delete s.cpus;
    s.deploy = { resources: { limits: { memory: '256M', cpus: '0.5' } } };
  });
  assert.is(run(deploy).A10!.status, 'pass');
});

test('A11 isolation', () => {
  const fails = (mutate: (s: any) => void, what: string) => {
    const r = run(compose(mutate)).A11!;
    assert.is(r.status, 'fail', what);
    assert.match(r.evidence, what);
  };
  fails((s) => (s.privileged = true), 'privileged');
  for (const key of ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode']) fails((s) => (s[key] = 'host'), `${key}: host`);
  fails((s) => s.volumes.push('/var/run/docker.sock:/var/run/docker.sock:ro'), 'Docker socket');
  fails((s) => s.volumes.push({ type: 'bind', source: '/run/docker.sock', target: '/run/docker.sock' }), 'Docker socket');
  fails((s) => s.volumes.push('/etc:/host-etc'), 'writable host mount /etc');
  fails((s) => s.volumes.push('/:/host'), 'writable host mount /');
  fails((s) => s.volumes.push({ type: 'bind', source: '/usr/lib', target: '/x' }), 'writable host mount /usr/lib');
  fails((s) => (s.user = '0:0'), 'root');
  assert.is(run(compose((s) => s.volumes.push('/etc/localtime:/etc/localtime:ro'))).A11!.status, 'pass');
  assert.is(run(compose((s) => s.volumes.push('/srv/shop-media:/media'))).A11!.status, 'pass'); // not a system path (A15 objects)
  assert.is(run(compose((s) => (s.network_mode = 'bridge'))).A11!.status, 'pass');
});

test('A12 seccomp never unconfined; AppArmor where the host has it', () => {
  assert.is(run(compose((s) => s.security_opt.push('seccomp:unconfined'))).A12!.status, 'fail');
  assert.is(run(compose((s) => s.security_opt.push('seccomp=unconfined'))).A12!.status, 'fail');
  assert.is(run(compose((s) => s.security_opt.push('apparmor=unconfined'))).A12!.status, 'fail');
  assert.is(run(compose((s) => s.security_opt.push('seccomp=/etc/docker/seccomp.json'))).A12!.status, 'pass');
  const noAppArmor = run(compose(), { apparmor: false }).A12!;
  assert.is(noAppArmor.status, 'warn');
  assert.match(noAppArmor.evidence, '/sys/kernel/security/apparmor');
  assert.is(run(compose((s) => s.security_opt.push('apparmor=bulwark-shop')), { apparmor: false }).A12!.status, 'pass');
});

test('A13 ports on loopback; 80/443 for the proxy only', () => {
  const status = (ports: unknown[], svc: Record<string, unknown> = {}) => run(compose((s) => Object.assign(s, { ports }, svc))).A13!.status;
  assert.is(status(['127.0.0.1:8080:3000']), 'pass');
  assert.is(status(['127.0.0.1:8080:3000/tcp']), 'pass');
  assert.is(status(['[::1]:8080:3000']), 'pass');
  assert.is(status([{ target: 3000, published: 8080, host_ip: '127.0.0.1' }]), 'pass');
  assert.is(status([]), 'pass');
  assert.is(status(['8080:3000']), 'fail');
  assert.is(status(['3000']), 'fail');
  assert.is(status([3000]), 'fail');
  assert.is(status(['0.0.0.0:8080:3000']), 'fail');
  assert.is(status([{ target: 3000, published: 8080 }]), 'fail');
  assert.is(status(['127.0.0.1:80:3000']), 'fail');
  assert.is(status(['80:80', '443:443'], { image: 'bulwark/caddy:2' }), 'pass');
  assert.is(status(['80:80'], { labels: { 'dev.bulwark.role': 'proxy' } }), 'pass');
  assert.is(status(['8443:443'], { image: 'bulwark/proxy:1' }), 'fail');
  const r = run(compose((s) => (s.ports = ['8080:3000']))).A13!;
  assert.match(r.evidence, 'every interface');
});

test('A14 restart policy and health', () => {
  const status = (restart: unknown) => run(compose((s) => (restart === undefined ? delete s.restart : (s.restart = restart)))).A14!.status;
  assert.is(status('unless-stopped'), 'pass');
  assert.is(status('on-failure:5'), 'pass');
  assert.is(status('on-failure:1'), 'pass');
  assert.is(status('on-failure:10'), 'pass');
  assert.is(status('on-failure:20'), 'warn');
  assert.is(status('on-failure'), 'warn');
  assert.is(status('always'), 'warn');
  assert.is(status('no'), 'fail');
  assert.is(status(undefined), 'fail');
  const deploy = compose((s) => {
    delete s.restart;
    s.deploy = { restart_policy: { condition: 'on-failure', max_attempts: 3 } };
  });
  assert.is(run(deploy).A14!.status, 'pass');
  const noHealth = run(compose(), { health: false }).A14!;
  assert.is(noHealth.status, 'fail');
  assert.match(noHealth.evidence, 'no healthcheck');
  assert.is(run(compose((s) => (s.healthcheck = { test: ['CMD', '/usr/bin/node', 'h.js'] })), { health: false }).A14!.status, 'pass');
  assert.is(run(compose((s) => (s.healthcheck = { disable: true }))).A14!.status, 'fail');
});

test('A15 run: a named volume at /var/lib/<app> and no other writable mount', () => {
  const fails = (mutate: (s: any) => void, what: string) => {
    const r = run(compose(mutate)).A15!;
    assert.is(r.status, 'fail', what);
    assert.match(r.evidence, what);
  };
  fails((s) => (s.volumes = []), `no volume at /var/lib/${APP}`);
  fails((s) => (s.volumes = [`./data:/var/lib/${APP}`]), 'not a named volume');
  fails((s) => (s.volumes = [`/var/lib/${APP}`]), 'anonymous volume');
  fails((s) => (s.volumes = [`state:/var/lib/${APP}:ro`]), 'read-only');
  fails((s) => s.volumes.push('uploads:/opt/shop/uploads'), 'other writable mounts');
  fails((s) => s.tmpfs.push('/run'), 'other writable mounts');
  assert.is(run(compose((s) => s.volumes.push('./config:/etc/shop:ro'))).A15!.status, 'pass');
  assert.is(run(compose((s) => s.volumes.push({ type: 'volume', source: `${APP}-state`, target: '/x', read_only: true }))).A15!.status, 'pass');
  // The app's service is found by the audited image when named otherwise.
  const renamed = compose((_, doc) => {
    doc.services.web = doc.services[APP];
    delete doc.services[APP];
    doc.services.other = { image: 'redis', volumes: ['cache:/data'] };
  });
  assert.is(run(renamed).A15!.status, 'pass');
});

test('every run-config check fails on a compose file without services', () => {
  for (const r of checkRunConfig({ version: '3' }, { app: APP, imageRefs: [], imageHasHealthcheck: true, apparmor: true })) assert.is(r.status, 'fail', r.id);
});

test('with several services, evidence names the one at fault', () => {
  const doc = compose((_, d) => {
    d.services.proxy = { image: 'bulwark/caddy:2', read_only: true, tmpfs: ['/tmp:noexec,nosuid,nodev'], cap_drop: ['ALL'], cap_add: ['NET_BIND_SERVICE'], ports: ['80:80', '443:443'], restart: 'always' };
  });
  const r = run(doc);
  assert.is(r.A8!.status, 'pass');
  assert.is(r.A13!.status, 'pass');
  assert.is(r.A9!.status, 'fail');
  assert.match(r.A9!.evidence, 'proxy:');
  assert.not.match(r.A9!.evidence, `${APP}:`);
  assert.is(r.A14!.status, 'warn');
});

// ---- compose parsing -----------------------------------------------------------------------

test('compose short and long syntaxes read the same', () => {
  assert.equal(portsOf({ ports: ['[::1]:8080:80/udp'] })[0]!.hostIp, '::1');
  assert.equal(portsOf({ ports: ['::1:8080:80'] })[0], { hostIp: '::1', hostPort: '8080', containerPort: '80', raw: '::1:8080:80' });
  assert.equal(portsOf({ ports: ['3000'] })[0], { hostIp: '', hostPort: '', containerPort: '3000', raw: '3000' });
  const [named, bind, tmp] = mountsOf({ volumes: ['state:/var/lib/x', { type: 'bind', source: '/etc', target: '/e', read_only: true }], tmpfs: '/tmp:noexec' });
  assert.equal([named!.type, named!.source, named!.readOnly], ['volume', 'state', false]);
  assert.equal([bind!.type, bind!.readOnly], ['bind', true]);
  assert.equal([tmp!.type, tmp!.target, tmp!.options], ['tmpfs', '/tmp', ['noexec']]);
});

// ---- image filesystem ----------------------------------------------------------------------

const entry = (path: string, over: Partial<ImageFile> = {}): LayerEntry => {
  const { layer: _layer, ...f } = file(path, over);
  return { kind: 'file', file: f };
};

test('mergeLayers applies whiteouts, opaque dirs and replacements', () => {
  const fs = mergeLayers([
    [entry('/a', { type: 'directory' }), entry('/a/x'), entry('/a/y'), entry('/b', { type: 'directory' }), entry('/b/old'), entry('/c'), entry('/d', { type: 'directory' }), entry('/d/in')],
    [{ kind: 'whiteout', path: '/a/x' }, { kind: 'opaque', dir: '/b' }, entry('/b/new'), entry('/c', { mode: 0o600 }), entry('/d', { type: 'symlink', linkname: '/a' }), entry('/a', { type: 'directory', mode: 0o750 })],
  ]);
  assert.equal(
    fs.files.map((f) => f.path),
    ['/a', '/a/y', '/b', '/b/new', '/c', '/d'],
  );
  assert.is(fs.files.find((f) => f.path === '/c')!.mode, 0o600);
  assert.is(fs.files.find((f) => f.path === '/c')!.layer, 1);
  assert.is(fs.files.find((f) => f.path === '/a')!.mode, 0o750);
  assert.equal(fs.shadowed.map((f) => f.path).sort(), ['/a/x', '/b/old', '/c', '/d/in']);
  assert.is(fs.layers, 2);
});

test('a whiteout hides the whole subtree, but not a sibling sharing a prefix', () => {
  const fs = mergeLayers([[entry('/app', { type: 'directory' }), entry('/app/a'), entry('/app2')], [{ kind: 'whiteout', path: '/app' }]]);
  assert.equal(fs.files.map((f) => f.path), ['/app2']);
});

test('normalizePath', () => {
  assert.is(normalizePath('./usr/bin/'), '/usr/bin');
  assert.is(normalizePath('usr/bin/env'), '/usr/bin/env');
  assert.is(normalizePath('./'), '/');
  assert.is(normalizePath('/etc//passwd'), '/etc/passwd');
});

test('readSavedImage reads classic and OCI docker-save archives', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-audit-unit-'));
  try {
    for (const layout of ['classic', 'oci'] as const) {
      const archive = join(dir, `${layout}.tar`);
      await writeFile(archive, await layeredArchive('t:1', layout));
      const fs = await readSavedImage(archive);
      assert.is(fs.layers, 2, layout);
      const paths = fs.files.map((f) => f.path);
      assert.ok(paths.includes('/app/old/b.txt'), layout);
      assert.not.ok(paths.includes('/app/old/a.txt'), layout);
      assert.not.ok(paths.includes('/usr/bin/su'), layout);
      assert.ok(fs.files.find((f) => f.path === '/etc/passwd')!.content!.includes('good:x:10001'), layout);
      assert.is(fs.files.find((f) => f.path === '/var/lib/good')!.uid, 10001);
      assert.is(fs.files.find((f) => f.path === '/tmp')!.mode & 0o7777, 0o1777);
      assert.equal(fs.shadowed.map((f) => f.path).sort(), ['/app/id_rsa', '/app/old/a.txt', '/usr/bin/su']);
      assert.is(checkSetuid(fs).status, 'fail');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---- report and output ---------------------------------------------------------------------

const r = (id: string, status: CheckResult['status']): CheckResult => ({ id, title: id, status, evidence: 'e' });

test('score: passes over non-skipped checks, warnings count half', () => {
  assert.is(scoreOf([r('A1', 'pass'), r('A2', 'pass'), r('A3', 'fail'), r('A4', 'warn'), r('A7', 'skip')]), 63);
  assert.is(scoreOf([r('A1', 'pass'), r('A7', 'skip')]), 100);
  assert.is(scoreOf([r('A7', 'skip')]), 0);
  const rep = makeReport('x', 'sha256:1', [r('A10', 'fail'), r('A2', 'pass'), r('A1', 'warn')]);
  assert.equal(rep.results.map((x) => x.id), ['A1', 'A2', 'A10']);
  assert.equal([rep.passed, rep.failed, rep.score], [1, 1, 50]);
});

test('table and summary line', () => {
  const rep = makeReport('bulwark/shop:abc', 'sha256:1', [r('A1', 'pass'), { ...r('A3', 'fail'), evidence: 'x'.repeat(500) }, r('A12', 'warn'), r('A7', 'skip')]);
  const plain = formatTable(rep, { color: false, width: 100 });
  assert.not.match(plain, '\x1b[');
  for (const line of plain.split('\n')) assert.ok(line.length <= 100, line);
  assert.match(plain, '…');
  assert.match(plain.split('\n')[0]!, /^ID\s+STATUS\s+CHECK\s+EVIDENCE$/);
  assert.match(formatTable(rep, { color: true, width: 100 }), '\x1b[31mfail');
  assert.is(summaryLine(rep), 'audit bulwark/shop:abc: 1 passed, 1 failed, 1 warnings, score 50 (1 skipped)');
  assert.is(truncate('a\nb', 10), 'a b');
});

test.run();
