import { createHash } from 'node:crypto';
import type { BulwarkLock } from '../lock/types.js';
// SECURITY-CHECKS A1–A6 and the image half of A15: pure functions over `docker image inspect`
// output and the image's file list, so each rule is unit-tested without Docker.
import { posix } from 'node:path';
import type { Artifact } from '../types.js';
import { canLogin, duplicates, parseGroup, parsePasswd, parseShadow } from './accounts.js';
import { listSome, type CheckResult, type ImageFile, type ImageFs, type ImageInspect } from './types.js';

export const TITLES: Record<string, string> = {
  A1: 'image user',
  A2: 'healthcheck',
  A3: 'setuid/setgid files',
  A4: 'secrets',
  A5: 'package hygiene',
  A6: 'base pinned',
  A7: 'read-only rootfs',
  A8: 'capabilities',
  A9: 'no-new-privileges',
  A10: 'limits',
  A11: 'isolation',
  A12: 'seccomp/AppArmor',
  A13: 'ports',
  A14: 'restart and health',
  A15: 'state',
  // B: VM host (checks-host.ts)
  B1: 'kernel/fs sysctl',
  B2: 'network sysctl',
  B3: 'sshd config',
  B4: 'sshd crypto',
  B5: 'per-instance secrets',
  B6: 'permissions',
  B7: 'setuid/setgid',
  B8: 'banned packages',
  B9: 'modules and mounts',
  B10: 'core dumps',
  B11: 'firewall',
  B12: 'security updates',
  B13: 'AppArmor',
  B14: 'known vulnerabilities',
  B15: 'Lynis',
  // C: TLS proxy and HTTP headers (checks-tls.ts)
  C1: 'TLS protocols',
  C2: 'TLS 1.2 ciphers',
  C3: 'HSTS',
  C4: 'HTTP redirect',
  C5: 'certificate',
  C6: 'CSP',
  C7: 'core headers',
  C8: 'isolation headers',
  C9: 'cookies',
  C10: 'Observatory score',
  // D: systemd units (checks-units.ts)
  D1: 'unit exposure',
  D2: 'unit identity',
  D3: 'unit privileges',
  D4: 'unit filesystem',
  D5: 'kernel/devices',
  D6: 'namespaces/sockets',
  D7: 'syscall filter',
  D8: 'proc/IPC',
  D9: 'network ACL',
  D10: 'W^X',
};

export const result = (id: string, status: CheckResult['status'], evidence: string): CheckResult => ({ id, title: TITLES[id] ?? id, status, evidence });

/** Every version a layer ever shipped: what `docker save` hands to anyone holding the image. */
const everyLayer = (fs: ImageFs): ImageFile[] => [...fs.files, ...fs.shadowed];
const where = (f: ImageFile, fs: ImageFs) => `layer ${f.layer + 1}${fs.shadowed.includes(f) ? ', removed later' : ''}`;
const octal = (m: number) => (m & 0o7777).toString(8).padStart(4, '0');

/** A1: a numeric non-root uid, because names cannot be verified before the container starts. */
export function checkUser(inspect: ImageInspect): CheckResult {
  const user = inspect.Config?.User ?? '';
  if (!user) return result('A1', 'fail', 'User is not set: the container runs as root');
  const [u = '', g] = user.split(':');
  if (!/^\d+$/.test(u)) {
    return result('A1', 'fail', u === 'root' ? `User "${user}" is root` : `User "${user}" is a name: use a numeric uid (≥ 10000)`);
  }
  const uid = Number(u);
  if (uid === 0) return result('A1', 'fail', `User "${user}" is uid 0 (root)`);
  if (uid < 10000) return result('A1', 'warn', `User "${user}": uid ${uid} < 10000 may collide with a host account`);
  if (g === '0' || g === 'root') return result('A1', 'warn', `User "${user}": non-root uid but the root group`);
  return result('A1', 'pass', `User "${user}"`);
}

/** A2: exec form, because the image has no shell to run CMD-SHELL. */
export function checkHealthcheck(inspect: ImageInspect): CheckResult {
  const test = inspect.Config?.Healthcheck?.Test ?? [];
  if (test.length === 0) return result('A2', 'fail', 'no HEALTHCHECK');
  const [kind, ...argv] = test;
  if (kind === 'CMD') return result('A2', 'pass', `exec form: ${JSON.stringify(argv)}`);
  if (kind === 'NONE') return result('A2', 'fail', 'HEALTHCHECK NONE disables the health check');
  if (kind === 'CMD-SHELL') return result('A2', 'fail', `shell form needs a shell in the image: ${argv.join(' ')}`);
  return result('A2', 'fail', `unknown healthcheck form ${JSON.stringify(test)}`);
}

/** A3: setuid/setgid files in any layer (setgid directories only pass group ownership on). */
export function checkSetuid(fs: ImageFs): CheckResult {
  const found = everyLayer(fs).filter((f) => f.type !== 'directory' && (f.mode & 0o6000) !== 0);
  if (found.length === 0) return result('A3', 'pass', `no setuid/setgid files in ${fs.layers} layer(s)`);
  const items = found.map((f) => `${f.path} (${octal(f.mode)}, ${where(f, fs)})`);
  return result('A3', 'fail', `${found.length} setuid/setgid: ${listSome(items)}`);
}

const SECRET_ENV = /PASS|SECRET|KEY|TOKEN/i;
const ENV_TEMPLATES = new Set(['example', 'sample', 'template', 'dist', 'defaults']);
const KEY_NAMES = new Set(['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519']);
const CREDENTIAL_NAMES = new Set(['credentials', 'credentials.json', '.git-credentials', '.netrc']);

/** Why a file is a secret, or undefined. Reads content only where the name alone is not enough. */
export function secretReason(f: ImageFile): string | undefined {
  if (f.type !== 'file' && f.type !== 'link') return undefined;
  const base = posix.basename(f.path);
  if (base === '.env') return 'env file';
  const envSuffix = /^\.env\.(.+)$/.exec(base)?.[1];
  if (envSuffix && !ENV_TEMPLATES.has(envSuffix)) return 'env file';
  if (KEY_NAMES.has(base)) return 'SSH private key';
  if (CREDENTIAL_NAMES.has(base)) return 'credentials file';
  // `${NPM_TOKEN}` is a reference filled in at install time, not a token.
  if (base === '.npmrc' && /_auth(Token)?\s*=\s*(?!\$\{)\S/.test(f.content ?? '')) return 'npm auth token';
  if (base === '.pypirc' && /^\s*password\s*[=:]/m.test(f.content ?? '')) return 'PyPI password';
  if (/\.(pem|key)$/i.test(base) && (f.content ?? '').includes('PRIVATE KEY')) return 'private key';
  return undefined;
}

/** A4: secret-looking ENV with a value, and secret files or .git in any layer. */
export function checkSecrets(inspect: ImageInspect, fs: ImageFs): CheckResult {
  const findings: string[] = [];
  for (const kv of inspect.Config?.Env ?? []) {
    const eq = kv.indexOf('=');
    const name = eq < 0 ? kv : kv.slice(0, eq);
    const value = eq < 0 ? '' : kv.slice(eq + 1);
    if (SECRET_ENV.test(name) && value !== '') findings.push(`ENV ${name} has a value`); // never print it
  }
  const gitDirs = new Set<string>();
  for (const f of everyLayer(fs)) {
    const git = /^(.*?\/\.git)(\/|$)/.exec(f.path);
    if (git && (git[2] === '/' || f.type === 'directory')) {
      gitDirs.add(git[1]!);
      continue;
    }
    const why = secretReason(f);
    if (why) findings.push(`${why} ${f.path} (${where(f, fs)})`);
  }
  for (const d of gitDirs) findings.push(`.git directory ${d}`);
  if (findings.length === 0) return result('A4', 'pass', 'no secret-named ENV values, key or credentials files, or .git');
  return result('A4', 'fail', listSome(findings));
}

const BIN_DIRS = new Set(['/bin', '/usr/bin', '/sbin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']);
const SHELLS = new Set(['sh', 'bash', 'rbash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'csh', 'tcsh', 'fish', 'busybox']);
const PACKAGE_MANAGERS = new Set(['dpkg', 'apt', 'apt-get', 'aptitude', 'apk', 'rpm', 'yum', 'dnf', 'microdnf', 'npm', 'npx', 'yarn', 'yarnpkg', 'pnpm', 'easy_install']);
const isPip = (base: string) => /^pip[0-9.]*$/.test(base);

/** Package caches: apt lists (except the lock and the empty partial/ dir) and downloaded .debs. */
const isAptCache = (f: ImageFile) =>
  f.type === 'file' &&
  ((f.path.startsWith('/var/lib/apt/lists/') && posix.basename(f.path) !== 'lock') ||
    (f.path.startsWith('/var/cache/apt/') && /\.(deb|bin)$/.test(f.path)));

/** A5: no shell, no package manager, no apt caches, no empty passwords, no duplicate ids. */
export function checkHygiene(fs: ImageFs): CheckResult {
  const findings: string[] = [];
  const inBin = fs.files.filter((f) => f.type !== 'directory' && BIN_DIRS.has(posix.dirname(f.path)));
  const shells = inBin.filter((f) => SHELLS.has(posix.basename(f.path))).map((f) => f.path);
  const pms = inBin.filter((f) => PACKAGE_MANAGERS.has(posix.basename(f.path)) || isPip(posix.basename(f.path))).map((f) => f.path);
  const caches = fs.files.filter(isAptCache).map((f) => f.path);
  if (shells.length) findings.push(`shell: ${listSome(shells, 4)}`);
  if (pms.length) findings.push(`package manager: ${listSome(pms, 4)}`);
  if (caches.length) findings.push(`apt cache: ${listSome(caches, 3)}`);

  const content = (p: string) => fs.files.find((f) => f.path === p && f.type === 'file')?.content;
  const passwd = parsePasswd(content('/etc/passwd') ?? '');
  const group = parseGroup(content('/etc/group') ?? '');
  const shadow = parseShadow(content('/etc/shadow') ?? '');
  const empty = passwd.filter((p) => canLogin(p.shell) && (p.password === '' || (p.password === 'x' && shadow.get(p.name) === ''))).map((p) => p.name);
  if (empty.length) findings.push(`empty password: ${listSome(empty)}`);
  findings.push(...duplicates(passwd, (p) => p.uid, 'duplicate uid'), ...duplicates(group, (g) => g.gid, 'duplicate gid'));

  if (findings.length) return result('A5', 'fail', findings.join('; '));
  return result('A5', 'pass', `no shell, package manager or apt cache; ${passwd.length} account(s), no empty password or duplicate id`);
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const short = (d: string) => d.slice(0, 19) + '…';

/** The pins of one app as the builder labels them (dev.bulwark.lock): layer by layer, bottom first. */
export function lockPinsDigest(lock: BulwarkLock, app: string): string | null {
  const la = lock.apps?.[app];
  if (!la) return null;
  const pins = la.layers.map((l) => [
    l.startsWith('app-packages/') ? 'app-packages' : l,
    (lock.layers[l]?.packages ?? []).map((n) => [n, lock.packages[n]?.version, lock.packages[n]?.sha256]),
  ]);
  return `sha256:${createHash('sha256').update(JSON.stringify(pins)).digest('hex')}`;
}

/**
 * A6: base layers pinned by digest in labels; the artifact recorded by image ID, not a tag;
 * and, once a lock exists, every layer listed in it.
 * `lock`: parsed bulwark.lock; null when the app folder has none; undefined when not looked for.
 */
export function checkBasePinned(inspect: ImageInspect, artifact?: Artifact, lock?: unknown): CheckResult {
  const labels = inspect.Config?.Labels ?? {};
  const bases = Object.entries(labels).filter(([k]) => k.startsWith('dev.bulwark.base.'));
  if (bases.length === 0) return result('A6', 'fail', 'no dev.bulwark.base.* labels: base layers are not pinned by digest');
  const bad = bases.filter(([, v]) => !DIGEST.test(v)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (bad.length) return result('A6', 'fail', `not a sha256 digest: ${listSome(bad)}`);
  if (artifact && !DIGEST.test(artifact.id)) return result('A6', 'fail', `artifacts.json records ${JSON.stringify(artifact.id)} for ${artifact.app}, not an image ID: a tag can float`);
  const layerNames = bases.map(([k]) => k.slice('dev.bulwark.base.'.length));
  const pinned = `${bases.length} base layer(s) pinned: ${listSome(bases.map(([k, v]) => `${k.slice(17)}=${short(v)}`), 4)}`;
  const byId = artifact ? `; artifact recorded as ${short(artifact.id)}` : `; audited as ${short(inspect.Id)}`;
  if (lock === undefined) return result('A6', 'pass', `${pinned}${byId}; lock not checked (audit the app folder)`);
  if (lock === null) return result('A6', 'pass', `no lock yet: base layers pinned by digest in labels (${pinned}${byId})`);
  const l = lock as BulwarkLock;
  const app = labels['dev.bulwark.app'] ?? artifact?.app ?? '';
  const la = l.apps?.[app];
  if (!la) return result('A6', 'fail', `bulwark.lock has no entry for ${app || 'this app'}: run \`bulwark lock\``);
  const lockLayers = new Set(la.layers.map((n) => (n.startsWith('app-packages/') ? 'app-packages' : n)));
  const missing = layerNames.filter((n) => !lockLayers.has(n));
  if (missing.length) return result('A6', 'fail', `bulwark.lock does not list layer(s): ${missing.join(', ')}`);
  const unpinned = la.layers.flatMap((n) => l.layers[n]?.packages ?? []).filter((p) => !/^[0-9a-f]{64}$/.test(l.packages[p]?.sha256 ?? '') || !l.packages[p]?.version);
  if (unpinned.length) return result('A6', 'fail', `bulwark.lock has no version and sha256 for: ${listSome(unpinned)}`);
  const built = labels['dev.bulwark.lock'];
  if (built && built !== lockPinsDigest(l, app)) return result('A6', 'fail', `the image was built from other pins than bulwark.lock now holds: rebuild it (\`bulwark build\`)`);
  return result('A6', 'pass', `${pinned}${byId}; every layer and package pinned in bulwark.lock${built ? ', and the image matches it' : ''}`);
}

/** The app an image belongs to: its label, else artifacts.json, else its one /var/lib/<app> volume. */
export function appNameOf(inspect: ImageInspect, artifact?: Artifact): string | undefined {
  const label = inspect.Config?.Labels?.['dev.bulwark.app'];
  if (label) return label;
  if (artifact?.app) return artifact.app;
  const vols = Object.keys(inspect.Config?.Volumes ?? {})
    .map((v) => /^\/var\/lib\/([^/]+)\/?$/.exec(v)?.[1])
    .filter((n): n is string => !!n);
  return vols.length === 1 ? vols[0] : undefined;
}

/** The app's numeric uid: from User, else the dev.bulwark.uid label. */
export function appUidOf(inspect: ImageInspect): number | undefined {
  const u = (inspect.Config?.User ?? '').split(':')[0] ?? '';
  if (/^\d+$/.test(u) && Number(u) !== 0) return Number(u);
  const label = inspect.Config?.Labels?.['dev.bulwark.uid'];
  return label && /^\d+$/.test(label) ? Number(label) : undefined;
}

const under = (p: string, root: string) => p === root || p.startsWith(root === '/' ? '/' : root + '/');
const STICKY_TMP = new Set(['/tmp', '/var/tmp']);

/**
 * A15, image side: VOLUME /var/lib/<app> declared; nothing else owned by the app's uid; nothing
 * world-writable outside /tmp. A sticky world-writable /var/tmp (Debian base-files ships it) only
 * warns: with the read-only root it is not writable at run time, but it should not be there.
 */
export function checkStateImage(inspect: ImageInspect, fs: ImageFs, app: string | undefined): CheckResult {
  if (!app) return result('A15', 'fail', 'unknown app: no dev.bulwark.app label or /var/lib/<app> volume');
  const state = `/var/lib/${app}`;
  const fails: string[] = [];
  const warns: string[] = [];
  const vols = Object.keys(inspect.Config?.Volumes ?? {}).map((v) => v.replace(/\/+$/, ''));
  if (!vols.includes(state)) fails.push(`no VOLUME ${state} (volumes: ${vols.length ? vols.join(', ') : 'none'})`);
  const uid = appUidOf(inspect);
  if (uid !== undefined) {
    const owned = fs.files.filter((f) => f.uid === uid && !under(f.path, state)).map((f) => f.path);
    if (owned.length) fails.push(`owned by uid ${uid} outside ${state}: ${listSome(owned, 4)}`);
  }
  const writable = fs.files.filter((f) => f.type !== 'symlink' && (f.mode & 0o002) !== 0 && !f.path.startsWith('/tmp/'));
  for (const f of writable) {
    const sticky = f.type === 'directory' && (f.mode & 0o1000) !== 0;
    if (f.path === '/tmp' && sticky) continue;
    if (STICKY_TMP.has(f.path) && sticky) warns.push(`${f.path} is world-writable (sticky)`);
    else fails.push(`world-writable ${f.path} (${octal(f.mode)})`);
  }
  const uidNote = uid === undefined ? '; app uid unknown, ownership not checked' : '';
  if (fails.length) return result('A15', 'fail', listSome(fails, 4));
  if (warns.length) return result('A15', 'warn', warns.join('; '));
  return result('A15', 'pass', `VOLUME ${state}; no other files of uid ${uid ?? '?'}, nothing world-writable outside /tmp${uidNote}`);
}

/** A1–A6 and the image half of A15, in id order. */
export function checkImage(inspect: ImageInspect, fs: ImageFs, opts: { app?: string; artifact?: Artifact; lock?: unknown } = {}): CheckResult[] {
  return [
    checkUser(inspect),
    checkHealthcheck(inspect),
    checkSetuid(fs),
    checkSecrets(inspect, fs),
    checkHygiene(fs),
    checkBasePinned(inspect, opts.artifact, opts.lock),
    checkStateImage(inspect, fs, opts.app ?? appNameOf(inspect, opts.artifact)),
  ];
}
