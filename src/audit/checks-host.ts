// SECURITY-CHECKS B1–B15: the VM host, read through a HostView: an image's root file system
// offline (what the configuration files say the booted system will do) or a running VM over SSH
// (what the kernel, sshd and systemd actually report). Each check says which it looked at.
import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { run } from '../build/proc.js';
import { loadSuiteIndex, type DebPackage } from '../lock/archive.js';
import { compareDebVersions } from '../lock/debversion.js';
import { SECRETS_DIR, SSH_HOST_KEY_DIR } from '../vm/host-spec.js';
import { GRUB_DIR } from '../vm/grub.js';
import { parseGroup } from './accounts.js';
import { result } from './checks-image.js';
import {
  confOrder,
  harmlessAccept,
  installedPackages,
  moduliSizes,
  parseAptConf,
  parseFstab,
  parseNftRuleset,
  parseSshdConfig,
  parseSshdT,
  parseSysctlFiles,
  resolveAlgorithms,
  rulePorts,
  sshdSeconds,
  SYSCTL_DIRS,
  sysctlValue,
  type DpkgPackage,
} from './host-config.js';
import { readText, walk, type HostView } from './host-view.js';
import { listSome, type CheckResult, type CheckStatus } from './types.js';

export interface SysctlExpectation {
  key: string;
  /** eq: exactly; ge: at least. */
  op: 'eq' | 'ge';
  value: number;
  check: 'B1' | 'B2';
}

const eq = (check: 'B1' | 'B2', key: string, value: number): SysctlExpectation => ({ key, op: 'eq', value, check });
const ge = (check: 'B1' | 'B2', key: string, value: number): SysctlExpectation => ({ key, op: 'ge', value, check });
const both = (check: 'B1' | 'B2', fam: 'ipv4' | 'ipv6', name: string, value: number) => [eq(check, `net.${fam}.conf.all.${name}`, value), eq(check, `net.${fam}.conf.default.${name}`, value)];

/**
 * SECURITY-CHECKS B1 and B2. TODO: import SYSCTL_EXPECTED from src/render/sysctl.ts once it
 * exports it (the drop-in and the audit must agree); this is the one place to swap.
 */
export const SYSCTL_EXPECTED: SysctlExpectation[] = [
  eq('B1', 'kernel.randomize_va_space', 2),
  ge('B1', 'kernel.yama.ptrace_scope', 2),
  eq('B1', 'fs.suid_dumpable', 0),
  eq('B1', 'fs.protected_hardlinks', 1),
  eq('B1', 'fs.protected_symlinks', 1),
  eq('B1', 'fs.protected_regular', 2),
  ge('B1', 'fs.protected_fifos', 1),
  eq('B1', 'kernel.kptr_restrict', 2),
  eq('B1', 'kernel.sysrq', 0),
  eq('B1', 'kernel.kexec_load_disabled', 1),
  eq('B1', 'kernel.unprivileged_bpf_disabled', 1),
  ...both('B2', 'ipv4', 'rp_filter', 1),
  ...both('B2', 'ipv4', 'accept_redirects', 0),
  ...both('B2', 'ipv6', 'accept_redirects', 0),
  ...both('B2', 'ipv4', 'secure_redirects', 0),
  ...both('B2', 'ipv4', 'send_redirects', 0),
  ...both('B2', 'ipv4', 'accept_source_route', 0),
  ...both('B2', 'ipv6', 'accept_source_route', 0),
  ...both('B2', 'ipv4', 'log_martians', 1),
  eq('B2', 'net.ipv4.icmp_echo_ignore_broadcasts', 1),
  eq('B2', 'net.ipv4.icmp_ignore_bogus_error_responses', 1),
  eq('B2', 'net.ipv4.tcp_syncookies', 1),
  eq('B2', 'net.ipv4.tcp_rfc1337', 1),
  eq('B2', 'net.ipv4.ip_forward', 0),
];

/**
 * Offline, a key no file sets keeps the kernel's default. Only defaults that Debian's kernel is
 * known to have, and that already satisfy the expectation, are listed: any other unset key fails.
 */
const KERNEL_DEFAULTS: Record<string, string> = {
  'kernel.randomize_va_space': '2',
  'net.ipv4.icmp_echo_ignore_broadcasts': '1',
  'net.ipv4.icmp_ignore_bogus_error_responses': '1',
  'net.ipv4.tcp_syncookies': '1',
  'net.ipv4.ip_forward': '0',
};

/** Setuid/setgid files the image may carry, each with why (SECURITY-CHECKS B7). None today. */
export const SETUID_ALLOWLIST: Array<{ path: string; reason: string }> = [];

/** SECURITY-CHECKS B8 (dev-sec package-*): the Debian packages of those services and tools. */
export const BANNED_PACKAGES = ['openbsd-inetd', 'inetutils-inetd', 'rlinetd', 'xinetd', 'telnetd', 'inetutils-telnetd', 'telnetd-ssl', 'rsh-server', 'rsh-redone-server', 'ypserv', 'nis', 'tftpd', 'tftpd-hpa', 'atftpd', 'tftp', 'tftp-hpa', 'prelink'];

/** SECURITY-CHECKS B9: file systems and protocols the host never needs. */
export const DISABLED_MODULES = ['cramfs', 'freevxfs', 'jffs2', 'hfs', 'hfsplus', 'udf', 'dccp', 'rds', 'sctp', 'tipc'];

/** B11: what may be open from outside. */
export const OPEN_PORTS = [22, 80, 443];

// OpenSSH 10.0 (Debian trixie) defaults, for keys sshd_config leaves unset (offline only).
const SSHD_DEFAULTS: Record<string, string> = {
  permitrootlogin: 'prohibit-password',
  passwordauthentication: 'yes',
  kbdinteractiveauthentication: 'yes',
  authenticationmethods: 'any',
  permitemptypasswords: 'no',
  x11forwarding: 'no',
  allowtcpforwarding: 'yes',
  allowagentforwarding: 'yes',
  permittunnel: 'no',
  gatewayports: 'no',
  permituserenvironment: 'no',
  maxauthtries: '6',
  logingracetime: '120',
  clientaliveinterval: '0',
  clientalivecountmax: '3',
  loglevel: 'INFO',
  usedns: 'no',
  debianbanner: 'yes',
};
const DEFAULT_CIPHERS = ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'];
const DEFAULT_MACS = ['umac-64-etm@openssh.com', 'umac-128-etm@openssh.com', 'hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha1-etm@openssh.com', 'umac-64@openssh.com', 'umac-128@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512', 'hmac-sha1'];
const DEFAULT_KEX = ['mlkem768x25519-sha256', 'sntrup761x25519-sha512', 'sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'ecdh-sha2-nistp384', 'ecdh-sha2-nistp521', 'diffie-hellman-group-exchange-sha256', 'diffie-hellman-group16-sha512', 'diffie-hellman-group18-sha512', 'diffie-hellman-group14-sha256'];
const OK_CIPHERS = new Set(['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-gcm@openssh.com', 'aes256-ctr', 'aes192-ctr', 'aes128-ctr']);
const OK_MACS = new Set(['hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256-etm@openssh.com', 'umac-128-etm@openssh.com']);
const OK_KEX = new Set(['mlkem768x25519-sha256', 'sntrup761x25519-sha512', 'sntrup761x25519-sha512@openssh.com', 'curve25519-sha256', 'curve25519-sha256@libssh.org', 'diffie-hellman-group-exchange-sha256']);

/** B3: keyword → expected value as sshd -T prints it (lowercase). */
const SSHD_EXPECTED: Array<[string, string]> = [
  ['passwordauthentication', 'no'],
  ['kbdinteractiveauthentication', 'no'],
  ['authenticationmethods', 'publickey'],
  ['permitemptypasswords', 'no'],
  ['x11forwarding', 'no'],
  ['allowtcpforwarding', 'no'],
  ['allowagentforwarding', 'no'],
  ['permittunnel', 'no'],
  ['gatewayports', 'no'],
  ['permituserenvironment', 'no'],
  ['maxauthtries', '2'],
  ['logingracetime', '30'],
  ['clientaliveinterval', '300'],
  ['clientalivecountmax', '3'],
  ['loglevel', 'verbose'],
  ['usedns', 'no'],
  ['debianbanner', 'no'],
];

export interface HostCheckOptions {
  /**
   * The suite's -security Packages index for B14. Default: fetched (and cached) from
   * `securityMirror`; a rejection makes B14 a warning ("not checked").
   */
  securityIndex?: (suite: string, arch: string) => Promise<DebPackage[]>;
  securityMirror?: string;
  /** Offline: validate nftables.conf with this machine's `nft -c` when it has nft (default true). */
  nftCheck?: boolean;
  /** Live: run Lynis when the VM has it (default true; takes a minute or two). */
  runLynis?: boolean;
}

/** Facts several checks share, gathered once. */
export interface HostFacts {
  view: HostView;
  live: boolean;
  packages: Map<string, DpkgPackage> | null;
  setuid: string[];
  sshd: Map<string, string>;
  sshdSource: string;
}

const exec = async (v: HostView, cmd: string, timeoutMs = 60_000) => {
  if (!v.exec) throw new Error('exec on an offline view');
  return v.exec(cmd, { timeoutMs });
};

const octal = (m: number) => (m & 0o7777).toString(8).padStart(4, '0');
const has = (f: HostFacts, pkg: string) => f.packages?.has(pkg) ?? false;

// ---------------------------------------------------------------------------------------------
// B1, B2: sysctl

async function offlineSysctl(v: HostView): Promise<Map<string, { value: string; from: string }>> {
  const dirs: Array<[string, string[] | null]> = [];
  for (const d of SYSCTL_DIRS) dirs.push([d, await v.list(d)]);
  const files = confOrder(dirs, '/etc/sysctl.conf');
  const texts: Array<{ file: string; text: string }> = [];
  for (const f of files) {
    const t = await readText(v, f);
    if (t !== null) texts.push({ file: f, text: t });
  }
  const parsed = parseSysctlFiles(texts);
  const out = new Map<string, { value: string; from: string }>();
  for (const e of SYSCTL_EXPECTED) {
    const s = sysctlValue(parsed, e.key);
    if (s) out.set(e.key, { value: s.value, from: s.file });
    else if (KERNEL_DEFAULTS[e.key] !== undefined) out.set(e.key, { value: KERNEL_DEFAULTS[e.key]!, from: 'kernel default' });
  }
  return out;
}

async function liveSysctl(v: HostView): Promise<Map<string, { value: string; from: string }>> {
  const r = await exec(v, `sysctl -e ${SYSCTL_EXPECTED.map((e) => e.key).join(' ')}`);
  const out = new Map<string, { value: string; from: string }>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\S+)\s*=\s*(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, { value: m[2]!.trim(), from: 'running kernel' });
  }
  return out;
}

export async function checkSysctl(v: HostView): Promise<CheckResult[]> {
  const values = v.kind === 'live' ? await liveSysctl(v) : await offlineSysctl(v);
  return (['B1', 'B2'] as const).map((id) => {
    const wrong: string[] = [];
    const unset: string[] = [];
    const want = SYSCTL_EXPECTED.filter((e) => e.check === id);
    for (const e of want) {
      const got = values.get(e.key);
      const n = Number(got?.value);
      const ok = got !== undefined && Number.isFinite(n) && (e.op === 'eq' ? n === e.value : n >= e.value);
      const w = `want ${e.op === 'ge' ? '≥' : ''}${e.value}`;
      if (ok) continue;
      if (got) wrong.push(`${e.key}=${got.value} (${got.from}), ${w}`);
      else unset.push(`${e.key} ${v.kind === 'live' ? 'missing' : 'unset'}, ${w}`);
    }
    const bad = [...wrong, ...unset]; // values set wrong first: they name the file to fix
    const how = v.kind === 'live' ? 'sysctl on the running kernel' : 'sysctl.d files in systemd-sysctl order';
    if (bad.length) return result(id, 'fail', `${bad.length} of ${want.length}: ${listSome(bad, 4)}`);
    return result(id, 'pass', `${want.length} settings as expected (${how})`);
  });
}

// ---------------------------------------------------------------------------------------------
// B3, B4: sshd

async function sshdEffective(v: HostView): Promise<{ values: Map<string, string>; source: string }> {
  const files = await parseSshdConfig((p) => readText(v, p), (d) => v.list(d));
  const fromFiles = new Map<string, string>(Object.entries(SSHD_DEFAULTS));
  for (const [k, val] of files.values) fromFiles.set(k, val);
  fromFiles.set('hostkey', (files.multi.get('hostkey') ?? []).join('\n'));
  const filesNote = files.files.length ? files.files.join(', ') : 'no sshd_config';
  if (v.kind === 'live') {
    const r = await exec(v, '/usr/sbin/sshd -T 2>&1');
    if (r.code === 0) {
      // sshd -T prints every keyword; the files fill in the few a Debian build does not print.
      const t = parseSshdT(r.stdout);
      for (const [k, val] of fromFiles) if (!t.has(k)) t.set(k, val);
      return { values: t, source: 'sshd -T' };
    }
    return { values: fromFiles, source: `${filesNote} (sshd -T failed: ${r.stdout.trim().split('\n').pop()})` };
  }
  return { values: fromFiles, source: filesNote };
}

const norm = (v: string | undefined) => (v ?? '').trim().toLowerCase();

export function checkSshdConfig(f: HostFacts): CheckResult {
  const s = f.sshd;
  const bad: string[] = [];
  for (const [k, want] of SSHD_EXPECTED) {
    const got = k === 'logingracetime' || k === 'clientaliveinterval' ? String(sshdSeconds(s.get(k) ?? '')) : norm(s.get(k));
    if (got !== want) bad.push(`${k} ${s.get(k) ?? '(unset)'}, want ${want}`);
  }
  const root = norm(s.get('permitrootlogin'));
  const keysOnly = norm(s.get('authenticationmethods')) === 'publickey';
  let status: CheckStatus = bad.length ? 'fail' : 'pass';
  let rootNote = `PermitRootLogin ${root}`;
  if (root === 'yes') {
    status = 'fail';
    bad.unshift('permitrootlogin yes, want no');
  } else if (root !== 'no') {
    // prohibit-password (sshd -T: without-password) or forced-commands-only.
    if (f.setuid.length === 0 && keysOnly) {
      if (status === 'pass') status = 'warn';
      rootNote = `PermitRootLogin ${root} (want no): accepted because root is the only admin account, keys only, and no setuid binary offers another way up`;
    } else {
      status = 'fail';
      bad.unshift(`permitrootlogin ${root}, want no (${f.setuid.length ? `${f.setuid.length} setuid binaries` : 'AuthenticationMethods is not publickey'})`);
    }
  }
  if (bad.length) return result('B3', 'fail', `${listSome(bad, 4)} [${f.sshdSource}]`);
  return result('B3', status, `${SSHD_EXPECTED.length + 1} settings checked; ${rootNote} [${f.sshdSource}]`);
}

export async function checkSshdCrypto(f: HostFacts): Promise<CheckResult> {
  const s = f.sshd;
  const fromT = f.sshdSource === 'sshd -T';
  const list = (k: string, defaults: string[]) => (fromT ? (s.get(k) ?? '').split(',').filter(Boolean) : resolveAlgorithms(s.get(k), defaults));
  const ciphers = list('ciphers', DEFAULT_CIPHERS);
  const macs = list('macs', DEFAULT_MACS);
  const kex = list('kexalgorithms', DEFAULT_KEX).filter((k) => !/^(kex-strict-|ext-info-)/.test(k));
  const bad: string[] = [];
  const badCiphers = ciphers.filter((c) => !OK_CIPHERS.has(c));
  const badMacs = macs.filter((m) => !OK_MACS.has(m));
  const badKex = kex.filter((k) => !OK_KEX.has(k));
  if (badCiphers.length) bad.push(`ciphers ${listSome(badCiphers, 3)}`);
  if (badMacs.length) bad.push(`MACs ${listSome(badMacs, 3)}`);
  if (badKex.length) bad.push(`KEX ${listSome(badKex, 3)}`);
  let moduli: string;
  if (!kex.some((k) => k.startsWith('diffie-hellman-group-exchange'))) moduli = '/etc/ssh/moduli unused (no DH group exchange)';
  else {
    const text = await readText(f.view, '/etc/ssh/moduli');
    const sizes = text ? moduliSizes(text) : [];
    const small = sizes.filter((n) => n < 3072);
    if (text === null) moduli = 'no /etc/ssh/moduli (sshd falls back to fixed groups)';
    else if (small.length) {
      bad.push(`/etc/ssh/moduli has ${small.length} groups < 3072 bits`);
      moduli = '';
    } else moduli = `/etc/ssh/moduli: ${sizes.length} groups ≥ 3072 bits`;
  }
  if (bad.length) return result('B4', 'fail', `${bad.join('; ')} [${f.sshdSource}]`);
  return result('B4', 'pass', `${ciphers.length} ciphers, ${macs.length} MACs, ${kex.length} KEX allowed; ${moduli} [${f.sshdSource}]`);
}

// ---------------------------------------------------------------------------------------------
// B5: per-instance secrets

async function checkInstanceSecrets(f: HostFacts): Promise<CheckResult> {
  const v = f.view;
  const bad: string[] = [];
  const notes: string[] = [];
  const keysIn = async (dir: string) => ((await v.list(dir)) ?? []).filter((n) => /^ssh_host_.*_key$/.test(n)).map((n) => `${dir}/${n}`);
  if (!f.live) {
    const keys = [...(await keysIn('/etc/ssh')), ...(await keysIn(SSH_HOST_KEY_DIR))];
    if (keys.length) bad.push(`host keys in the image: ${listSome(keys, 3)}`);
    const mid = await readText(v, '/etc/machine-id');
    if (mid === null) notes.push('no /etc/machine-id');
    else if (mid.trim() !== '') bad.push(`/etc/machine-id is set (${mid.trim().slice(0, 8)}…): every instance would share it`);
    const dbus = await v.stat('/var/lib/dbus/machine-id', { follow: false });
    if (dbus?.isFile && dbus.size > 0) bad.push('/var/lib/dbus/machine-id has a value');
    const secrets = (await v.list(SECRETS_DIR)) ?? [];
    if (secrets.length) bad.push(`${SECRETS_DIR} in the image holds ${listSome(secrets, 3)}`);
    if (bad.length) return result('B5', 'fail', bad.join('; '));
    return result('B5', 'pass', `no SSH host keys, empty machine-id, nothing under ${SECRETS_DIR} in the image${notes.length ? `; ${notes.join('; ')}` : ''}`);
  }
  const mid = (await readText(v, '/etc/machine-id'))?.trim() ?? '';
  if (!/^[0-9a-f]{32}$/.test(mid)) bad.push(`machine-id ${JSON.stringify(mid.slice(0, 40))} is not 32 hex digits`);
  const hostKeys = (f.sshd.get('hostkey') ?? '').split('\n').map((s) => s.trim()).filter(Boolean);
  if (!hostKeys.length) bad.push(`no HostKey in the sshd configuration (${f.sshdSource})`);
  const warn: string[] = [];
  for (const k of hostKeys) {
    const real = (await exec(v, `readlink -f -- '${k.replace(/'/g, `'\\''`)}'`)).stdout.trim() || k;
    const st = await v.stat(k);
    if (!st) {
      bad.push(`host key ${k} missing`);
      continue;
    }
    if (st.uid !== 0 || (st.mode & 0o077) !== 0) bad.push(`host key ${k} is ${octal(st.mode)} uid ${st.uid}, want 0600 root`);
    if (!real.startsWith(`${SSH_HOST_KEY_DIR}/`)) warn.push(k);
  }
  const secretFiles = (await v.list(SECRETS_DIR)) ?? [];
  for (const n of secretFiles) {
    const st = await v.stat(`${SECRETS_DIR}/${n}`);
    if (st && (st.uid !== 0 || (st.mode & 0o077) !== 0)) bad.push(`${SECRETS_DIR}/${n} is ${octal(st.mode)} uid ${st.uid}, want 0600 root`);
  }
  const dir = await v.stat(SECRETS_DIR);
  if (dir && (dir.uid !== 0 || (dir.mode & 0o077) !== 0)) bad.push(`${SECRETS_DIR} is ${octal(dir.mode)} uid ${dir.uid}, want 0700 root`);
  if (bad.length) return result('B5', 'fail', bad.join('; '));
  const summary = `machine-id set at first boot; ${hostKeys.length} host keys 0600 root; ${secretFiles.length} secret file(s) under ${SECRETS_DIR} 0600 root`;
  if (warn.length) return result('B5', 'warn', `${summary}; but ${listSome(warn, 3)} not on the data disk (${SSH_HOST_KEY_DIR}): a new image changes the host's identity`);
  return result('B5', 'pass', `${summary}; host keys on the data disk`);
}

// ---------------------------------------------------------------------------------------------
// B6: permissions

async function checkPermissions(f: HostFacts): Promise<CheckResult> {
  const v = f.view;
  const bad: string[] = [];
  const groups = parseGroup((await readText(v, '/etc/group')) ?? '');
  const shadowGid = groups.find((g) => g.name === 'shadow')?.gid;
  const shadow = await v.stat('/etc/shadow');
  if (!shadow) bad.push('/etc/shadow missing');
  else {
    if ((shadow.mode & 0o7777 & ~0o640) !== 0) bad.push(`/etc/shadow ${octal(shadow.mode)}, want 0640`);
    if (shadow.uid !== 0 || (shadow.gid !== 0 && shadow.gid !== shadowGid)) bad.push(`/etc/shadow owned ${shadow.uid}:${shadow.gid}, want root:shadow`);
  }
  const passwd = await v.stat('/etc/passwd');
  if (!passwd) bad.push('/etc/passwd missing');
  else if ((passwd.mode & 0o7777) !== 0o644 || passwd.uid !== 0) bad.push(`/etc/passwd ${octal(passwd.mode)} uid ${passwd.uid}, want 0644 root`);
  const sshdFiles = ['/etc/ssh/sshd_config', ...((await v.list('/etc/ssh/sshd_config.d')) ?? []).map((n) => `/etc/ssh/sshd_config.d/${n}`)];
  for (const p of sshdFiles) {
    const st = await v.stat(p);
    if (st && st.isFile && ((st.mode & 0o077) !== 0 || st.uid !== 0)) bad.push(`${p} ${octal(st.mode)} uid ${st.uid}, want 0600 root`);
  }
  let cron = 'cron not installed';
  const cronInstalled = ['cron', 'cronie', 'systemd-cron', 'bcron', 'busybox-cron'].some((p) => has(f, p)) || (await v.stat('/usr/sbin/cron')) !== null;
  if (cronInstalled) {
    cron = 'cron files root-only';
    const want: Array<[string, number]> = [['/etc/crontab', 0o600], ...['cron.d', 'cron.hourly', 'cron.daily', 'cron.weekly', 'cron.monthly', 'cron.yearly'].map((d): [string, number] => [`/etc/${d}`, 0o700])];
    for (const [p, mode] of want) {
      const st = await v.stat(p);
      if (st && ((st.mode & 0o077) !== 0 || st.uid !== 0)) bad.push(`${p} ${octal(st.mode)} uid ${st.uid}, want ${octal(mode)} root`);
    }
  }
  if (bad.length) return result('B6', 'fail', listSome(bad, 4));
  return result('B6', 'pass', `/etc/shadow, /etc/passwd and ${sshdFiles.length} sshd config file(s) as expected; ${cron}`);
}

// ---------------------------------------------------------------------------------------------
// B7: setuid/setgid

const WALK_SKIP = new Set(['/proc', '/sys', '/dev', '/run']);

async function localSetuid(root: string, rel = '/'): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = posix.join(rel, e.name);
    if (WALK_SKIP.has(p)) continue;
    if (e.isDirectory()) out.push(...(await localSetuid(root, p)));
    else if (e.isFile()) {
      const st = await lstat(join(root, p)).catch(() => null);
      if (st && (st.mode & 0o6000) !== 0) out.push(p);
    }
  }
  return out;
}

async function findSetuid(v: HostView): Promise<string[]> {
  if (v.kind === 'live') {
    const r = await exec(v, 'find / -xdev -type f -perm /6000 2>/dev/null', 300_000);
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).sort();
  }
  if (v.root) return (await localSetuid(v.root)).sort();
  const out: string[] = [];
  for await (const e of walk(v, '/', WALK_SKIP)) if (e.stat.isFile && (e.stat.mode & 0o6000) !== 0) out.push(e.path);
  return out.sort();
}

function checkSetuidFiles(f: HostFacts): CheckResult {
  const allowed = new Map(SETUID_ALLOWLIST.map((a) => [a.path, a.reason]));
  const unexpected = f.setuid.filter((p) => !allowed.has(p));
  const how = f.live ? 'find / -xdev -type f -perm /6000' : 'walk of the image (without /proc /sys /dev /run)';
  if (unexpected.length) return result('B7', 'fail', `${unexpected.length} setuid/setgid file(s) not in the allowlist: ${listSome(unexpected, 5)} [${how}]`);
  const listed = f.setuid.map((p) => `${p} (${allowed.get(p)})`);
  return result('B7', 'pass', f.setuid.length ? `only allowlisted: ${listSome(listed, 3)} [${how}]` : `none [${how}]`);
}

// ---------------------------------------------------------------------------------------------
// B8: banned packages

function checkBannedPackages(f: HostFacts): CheckResult {
  if (!f.packages) return result('B8', 'fail', 'no /var/lib/dpkg/status: cannot tell what is installed');
  const found = BANNED_PACKAGES.filter((p) => f.packages!.has(p));
  if (found.length) return result('B8', 'fail', `installed: ${found.join(', ')}`);
  return result('B8', 'pass', `none of ${BANNED_PACKAGES.length} banned packages among ${f.packages.size} installed`);
}

// ---------------------------------------------------------------------------------------------
// B9: modules and mounts

const MODPROBE_DIRS = ['/etc/modprobe.d', '/run/modprobe.d', '/usr/local/lib/modprobe.d', '/usr/lib/modprobe.d', '/lib/modprobe.d'];
const modName = (m: string) => m.replace(/-/g, '_');

/** Mount options of /tmp as the booted system would have them, from the image's files. */
async function offlineMountOptions(v: HostView, where: '/tmp' | '/dev/shm'): Promise<{ options: string[]; from: string } | null> {
  const fstab = parseFstab((await readText(v, '/etc/fstab')) ?? '').filter((e) => e.file === where).pop();
  const unit = where === '/tmp' ? 'tmp.mount' : 'dev-shm.mount';
  const readUnitOptions = (text: string) => {
    let opts: string | undefined;
    let what: string | undefined;
    let section = '';
    for (const raw of text.split('\n')) {
      const l = raw.trim();
      if (/^\[.*\]$/.test(l)) section = l;
      else if (section === '[Mount]' && /^Options\s*=/.test(l)) opts = l.replace(/^Options\s*=\s*/, '');
      else if (section === '[Mount]' && /^What\s*=/.test(l)) what = l.replace(/^What\s*=\s*/, '');
    }
    return { opts, what };
  };
  let options: string[] | null = null;
  let from = '';
  const etcUnit = await readText(v, `/etc/systemd/system/${unit}`);
  const masked = (await v.readlink(`/etc/systemd/system/${unit}`)) === '/dev/null';
  if (etcUnit !== null && !masked) {
    options = (readUnitOptions(etcUnit).opts ?? '').split(',').filter(Boolean);
    from = `/etc/systemd/system/${unit}`;
  } else if (fstab) {
    options = fstab.options;
    from = '/etc/fstab';
  } else if (!masked) {
    for (const d of ['/usr/lib/systemd/system', '/lib/systemd/system']) {
      const t = await readText(v, `${d}/${unit}`);
      if (t !== null) {
        options = (readUnitOptions(t).opts ?? '').split(',').filter(Boolean);
        from = `${d}/${unit}`;
        break;
      }
    }
  }
  if (options === null) {
    if (where !== '/dev/shm') return null;
    // systemd mounts /dev/shm itself, nosuid,nodev (no noexec); an enabled oneshot service may
    // remount it (`mount -o remount,nosuid,nodev,noexec /dev/shm`).
    for (const n of ((await v.list('/etc/systemd/system')) ?? []).filter((x) => x.endsWith('.service'))) {
      const text = (await readText(v, `/etc/systemd/system/${n}`)) ?? '';
      const m = /^ExecStart=\S*mount\s+(?:-o\s*|--options[= ])remount,(\S+)\s+\/dev\/shm\s*$/m.exec(text);
      if (m && (await unitEnabledOffline(v, n))) return { options: m[1]!.split(','), from: `remount by ${n}` };
    }
    return { options: ['nosuid', 'nodev'], from: 'systemd built-in' };
  }
  // Drop-ins: Options= in the last one that sets it replaces the unit's.
  for (const d of ['/etc/systemd/system', '/run/systemd/system', '/usr/lib/systemd/system']) {
    const names = ((await v.list(`${d}/${unit}.d`)) ?? []).filter((n) => n.endsWith('.conf'));
    for (const n of names) {
      const o = readUnitOptions((await readText(v, `${d}/${unit}.d/${n}`)) ?? '').opts;
      if (o !== undefined) {
        options = o.split(',').filter(Boolean);
        from = `${d}/${unit}.d/${n}`;
      }
    }
  }
  return { options, from };
}

async function checkModulesAndMounts(f: HostFacts): Promise<CheckResult> {
  const v = f.view;
  const bad: string[] = [];
  const disabled = new Set<string>();
  for (const d of MODPROBE_DIRS) {
    for (const n of ((await v.list(d)) ?? []).filter((x) => x.endsWith('.conf'))) {
      for (const line of ((await readText(v, `${d}/${n}`)) ?? '').split('\n')) {
        const m = /^\s*install\s+(\S+)\s+(\/usr)?\/bin\/(false|true)\s*$/.exec(line);
        if (m) disabled.add(modName(m[1]!));
      }
    }
  }
  const enabled = DISABLED_MODULES.filter((m) => !disabled.has(modName(m)));
  if (enabled.length) bad.push(`not disabled (install … /bin/false): ${enabled.join(' ')}`);
  const mounts: string[] = [];
  for (const where of ['/tmp', '/dev/shm'] as const) {
    let options: string[] | null;
    let from: string;
    if (f.live) {
      const r = await exec(v, `findmnt -no OPTIONS ${where}`);
      options = r.code === 0 && r.stdout.trim() ? r.stdout.trim().split(',') : null;
      from = 'findmnt';
    } else {
      const o = await offlineMountOptions(v, where);
      options = o?.options ?? null;
      from = o?.from ?? '';
    }
    if (!options) {
      bad.push(`${where} is not a separate mount`);
      continue;
    }
    const missing = ['nosuid', 'nodev', 'noexec'].filter((o) => !options!.includes(o));
    if (missing.length) bad.push(`${where} lacks ${missing.join(',')} (${from})`);
    else mounts.push(`${where} (${from})`);
  }
  if (bad.length) return result('B9', 'fail', bad.join('; '));
  return result('B9', 'pass', `${DISABLED_MODULES.length} modules disabled; nosuid,nodev,noexec on ${mounts.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// B10: core dumps

async function checkCoreDumps(f: HostFacts): Promise<CheckResult> {
  const v = f.view;
  const bad: string[] = [];
  const notes: string[] = [];
  const limitFiles = ['/etc/security/limits.conf', ...((await v.list('/etc/security/limits.d')) ?? []).filter((n) => n.endsWith('.conf')).map((n) => `/etc/security/limits.d/${n}`)];
  let hardCore: { value: string; file: string } | undefined;
  for (const file of limitFiles) {
    for (const line of ((await readText(v, file)) ?? '').split('\n')) {
      const m = /^\s*\*\s+(hard|-)\s+core\s+(\S+)/.exec(line);
      if (m) hardCore = { value: m[2]!, file };
    }
  }
  if (!hardCore) bad.push('no `* hard core 0` in limits.conf or limits.d');
  else if (hardCore.value !== '0') bad.push(`* hard core ${hardCore.value} (${hardCore.file})`);
  else notes.push(`* hard core 0 (${hardCore.file})`);
  if (has(f, 'systemd-coredump')) {
    let storage = 'external';
    let from = 'default';
    const files = ['/etc/systemd/coredump.conf'];
    for (const d of ['/usr/lib/systemd/coredump.conf.d', '/run/systemd/coredump.conf.d', '/etc/systemd/coredump.conf.d'])
      for (const n of ((await v.list(d)) ?? []).filter((x) => x.endsWith('.conf')).sort()) files.push(`${d}/${n}`);
    for (const file of files)
      for (const line of ((await readText(v, file)) ?? '').split('\n')) {
        const m = /^\s*Storage\s*=\s*(\S*)/.exec(line);
        if (m) {
          storage = m[1]!;
          from = file;
        }
      }
    if (storage !== 'none') bad.push(`systemd-coredump Storage=${storage} (${from}), want none`);
    else notes.push(`systemd-coredump Storage=none (${from})`);
  } else notes.push('systemd-coredump not installed');
  if (f.live) {
    const ulimit = (await exec(v, "sh -c 'ulimit -Hc'")).stdout.trim();
    if (ulimit !== '0') bad.push(`ulimit -Hc in a login shell is ${ulimit}`);
    const pattern = (await exec(v, 'sysctl -n kernel.core_pattern')).stdout.trim();
    notes.push(`core_pattern ${pattern}`);
    if (pattern.startsWith('|') && /systemd-coredump/.test(pattern) && !has(f, 'systemd-coredump')) bad.push('core_pattern pipes to systemd-coredump, which is not installed');
  }
  if (bad.length) return result('B10', 'fail', bad.join('; '));
  return result('B10', 'pass', notes.join('; '));
}

// ---------------------------------------------------------------------------------------------
// B11: firewall

/** Whether a unit is enabled in the tree: a link in some *.wants/ or *.requires/ directory. */
export async function unitEnabledOffline(v: HostView, unit: string): Promise<boolean> {
  if ((await v.readlink(`/etc/systemd/system/${unit}`)) === '/dev/null') return false;
  for (const base of ['/etc/systemd/system', '/usr/lib/systemd/system']) {
    for (const d of ((await v.list(base)) ?? []).filter((n) => /\.(wants|requires)$/.test(n))) {
      if ((await v.stat(`${base}/${d}/${unit}`, { follow: false })) !== null) return true;
    }
  }
  return false;
}

async function unitsEnabled(f: HostFacts, units: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (f.live) {
    const r = await exec(f.view, `systemctl is-enabled ${units.join(' ')} 2>&1`);
    const lines = r.stdout.trim().split('\n');
    units.forEach((u, i) => out.set(u, lines[i]?.trim() || 'unknown'));
  } else for (const u of units) out.set(u, (await unitEnabledOffline(f.view, u)) ? 'enabled' : 'not enabled');
  return out;
}

/** Input and forward hooks, ports opened, rules that accept more than they should. */
export function analyseNft(text: string): { problems: string[]; ports: Array<number | string>; linkLocal: Array<number | string> } {
  const chains = parseNftRuleset(text);
  const problems: string[] = [];
  const ports = new Set<number | string>();
  const linkLocal = new Set<number | string>();
  for (const hook of ['input', 'forward']) {
    const base = chains.filter((c) => c.hook === hook);
    if (base.length === 0) problems.push(`no ${hook} chain (its policy would be accept)`);
    for (const c of base) if (c.policy !== 'drop') problems.push(`${c.table} ${c.name} (hook ${hook}) policy ${c.policy ?? 'accept'}, want drop`);
  }
  // Rules of the input chains and of every chain they jump to.
  const seen = new Set<string>();
  const todo = chains.filter((c) => c.hook === 'input');
  while (todo.length) {
    const c = todo.shift()!;
    const key = `${c.table}/${c.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    for (const r of c.rules) {
      const target = /\b(?:jump|goto)\s+(\S+)/.exec(r)?.[1];
      if (target) todo.push(...chains.filter((x) => x.table === c.table && x.name === target));
      if (!/\baccept\b/.test(r) || harmlessAccept(r)) continue;
      const p = rulePorts(r);
      // Only from link-local sources (DHCPv6 replies): not reachable beyond the local link.
      if (/\b(ip6\s+)?saddr\s+fe80::\/(10|64)\b/.test(r)) {
        for (const x of p) linkLocal.add(x);
        continue;
      }
      if (p.length === 0) problems.push(`accepts without a port: "${r}"`);
      for (const x of p) ports.add(x);
    }
  }
  const extra = [...ports].filter((p) => !OPEN_PORTS.includes(p as number));
  if (extra.length) problems.push(`opens ${extra.join(', ')} (only ${OPEN_PORTS.join(', ')} allowed)`);
  return { problems, ports: [...ports], linkLocal: [...linkLocal] };
}

async function checkFirewall(f: HostFacts, opts: HostCheckOptions): Promise<CheckResult> {
  const v = f.view;
  const bad: string[] = [];
  const notes: string[] = [];
  let text: string | null;
  if (f.live) {
    const r = await exec(v, 'nft list ruleset');
    text = r.code === 0 ? r.stdout : null;
    if (text === null) bad.push(`nft list ruleset failed: ${r.stderr.trim().split('\n').pop()}`);
    const c = await exec(v, 'nft -c -f /etc/nftables.conf 2>&1');
    if (c.code !== 0) bad.push(`nft -c rejects /etc/nftables.conf: ${c.stdout.trim().split('\n').slice(0, 2).join(' ')}`);
    else notes.push('nft -c accepts /etc/nftables.conf');
  } else {
    text = await readText(v, '/etc/nftables.conf');
    if (text === null) bad.push('no /etc/nftables.conf');
    else if (opts.nftCheck !== false && v.root) {
      const local = join(v.root, 'etc/nftables.conf');
      const r = await run('nft', ['-c', '-f', local], { allowFail: true, timeoutMs: 30_000 }).catch(() => null);
      if (r === null) notes.push('nft -c not run (no nft on this machine: apt-get install nftables)');
      else if (r.code !== 0) bad.push(`nft -c rejects it: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 2).join(' ')}`);
      else notes.push('nft -c accepts it');
    } else notes.push('nft -c not run');
  }
  if (text !== null) {
    const a = analyseNft(text);
    bad.push(...a.problems);
    if (!a.problems.length) notes.unshift(`input/forward policy drop; open: ${a.ports.join(', ') || 'nothing'}${a.linkLocal.length ? ` (and ${a.linkLocal.join(', ')} from link-local sources only)` : ''}`);
  }
  const en = (await unitsEnabled(f, ['nftables.service'])).get('nftables.service')!;
  if (en !== 'enabled') bad.push(`nftables.service ${en}`);
  if (bad.length) return result('B11', 'fail', bad.join('; '));
  const unverified = notes.some((n) => n.startsWith('nft -c not run'));
  return result('B11', unverified ? 'warn' : 'pass', `nftables.service enabled; ${notes.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// B12: security updates

const isSecurityOrigin = (s: string) => /-security\b|label=Debian-Security/i.test(s);

async function aptConfig(f: HostFacts): Promise<Map<string, string[]>> {
  if (f.live) {
    const r = await exec(f.view, 'apt-config dump');
    return parseAptConf([r.stdout]);
  }
  const texts: string[] = [];
  const main = await readText(f.view, '/etc/apt/apt.conf');
  const names = ((await f.view.list('/etc/apt/apt.conf.d')) ?? []).filter((n) => /^[A-Za-z0-9_.-]+$/.test(n) && !/\.(dpkg-[a-z]+|ucf-[a-z]+|bak|orig|disabled)$/.test(n)).sort();
  for (const n of names) texts.push((await readText(f.view, `/etc/apt/apt.conf.d/${n}`)) ?? '');
  if (main !== null) texts.push(main);
  return parseAptConf(texts);
}

async function checkSecurityUpdates(f: HostFacts): Promise<CheckResult> {
  const bad: string[] = [];
  if (!has(f, 'unattended-upgrades')) bad.push('unattended-upgrades not installed');
  const conf = await aptConfig(f);
  const origins = [...(conf.get('Unattended-Upgrade::Origins-Pattern') ?? []), ...(conf.get('Unattended-Upgrade::Allowed-Origins') ?? [])];
  const security = origins.filter(isSecurityOrigin);
  if (!security.length) bad.push('no -security origin in Unattended-Upgrade::Origins-Pattern');
  const periodic = conf.get('APT::Periodic::Unattended-Upgrade')?.at(-1);
  if (periodic !== '1' && periodic !== 'always') bad.push(`APT::Periodic::Unattended-Upgrade ${periodic === undefined ? 'unset' : `"${periodic}"`}, want "1"`);
  const timers = await unitsEnabled(f, ['apt-daily.timer', 'apt-daily-upgrade.timer']);
  for (const [t, s] of timers) if (s !== 'enabled') bad.push(`${t} ${s}`);
  if (bad.length) return result('B12', 'fail', bad.join('; '));
  return result('B12', 'pass', `unattended-upgrades for ${JSON.stringify(security[0])}${security.length > 1 ? ` (+${security.length - 1})` : ''}; APT::Periodic::Unattended-Upgrade "1"; apt-daily and apt-daily-upgrade timers enabled`);
}

// ---------------------------------------------------------------------------------------------
// B13: AppArmor

async function checkAppArmor(f: HostFacts): Promise<CheckResult> {
  const v = f.view;
  const bad: string[] = [];
  const notes: string[] = [];
  if (!has(f, 'apparmor')) bad.push('apparmor not installed');
  const en = (await unitsEnabled(f, ['apparmor.service'])).get('apparmor.service')!;
  if (en !== 'enabled') bad.push(`apparmor.service ${en}`);
  if (f.live) {
    const cmdline = (await readText(v, '/proc/cmdline')) ?? '';
    if (/\bapparmor=0\b/.test(cmdline)) bad.push('kernel booted with apparmor=0');
    const enabled = ((await readText(v, '/sys/module/apparmor/parameters/enabled')) ?? '').trim();
    if (enabled !== 'Y') bad.push(`/sys/module/apparmor/parameters/enabled is ${JSON.stringify(enabled)}, want Y`);
    const aa = await exec(v, 'aa-status --enabled');
    if (aa.code !== 0) bad.push(`aa-status --enabled exit ${aa.code}`);
    const profiles = await exec(v, 'cat /sys/kernel/security/apparmor/profiles');
    if (profiles.code !== 0) bad.push('/sys/kernel/security/apparmor/profiles unreadable');
    else notes.push(`${profiles.stdout.split('\n').filter(Boolean).length} profiles loaded`);
  } else {
    const cfg = await readText(v, `${GRUB_DIR}/grub.cfg`);
    if (cfg === null) notes.push(`no ${GRUB_DIR}/grub.cfg: kernel command line not checked`);
    else {
      const linux = cfg.split('\n').filter((l) => /^\s*linux(16|efi)?\s/.test(l));
      const off = linux.filter((l) => /\bapparmor=0\b|\bsecurity=(?!apparmor\b)\S+/.test(l));
      if (off.length) bad.push(`kernel command line disables AppArmor: ${off[0]!.trim()}`);
      else notes.push(`${linux.length} kernel command line(s) in grub.cfg keep it on`);
    }
  }
  if (bad.length) return result('B13', 'fail', bad.join('; '));
  return result('B13', 'pass', `installed, apparmor.service enabled; ${notes.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// B14: known vulnerabilities

export const DEFAULT_SECURITY_MIRROR = 'http://deb.debian.org/debian-security';

/** Installed packages for which the -security index has a higher version (same name and architecture). */
export function outdatedInstalled(installed: Map<string, DpkgPackage>, security: DebPackage[]): Array<{ name: string; installed: string; fixed: string }> {
  const best = new Map<string, DebPackage>();
  for (const p of security) {
    const i = installed.get(p.name);
    if (!i || !(p.arch === i.arch || p.arch === 'all' || i.arch === 'all')) continue;
    const b = best.get(p.name);
    if (!b || compareDebVersions(p.version, b.version) > 0) best.set(p.name, p);
  }
  const out: Array<{ name: string; installed: string; fixed: string }> = [];
  for (const [name, p] of best) {
    const i = installed.get(name)!;
    if (compareDebVersions(p.version, i.version) > 0) out.push({ name, installed: i.version, fixed: p.version });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function checkKnownVulnerabilities(f: HostFacts, opts: HostCheckOptions): Promise<CheckResult> {
  if (!f.packages) return result('B14', 'fail', 'no /var/lib/dpkg/status');
  const osRelease = (await readText(f.view, '/etc/os-release')) ?? (await readText(f.view, '/usr/lib/os-release')) ?? '';
  const suite = /^VERSION_CODENAME=["']?([a-z]+)/m.exec(osRelease)?.[1];
  if (!suite) return result('B14', 'warn', 'not checked: no VERSION_CODENAME in /etc/os-release');
  const arch = [...f.packages.values()].find((p) => p.arch && p.arch !== 'all')?.arch ?? 'amd64';
  const mirror = opts.securityMirror ?? DEFAULT_SECURITY_MIRROR;
  let index: DebPackage[];
  try {
    index = await (opts.securityIndex ?? ((s, a) => loadSuiteIndex(mirror, `${s}-security`, a)))(suite, arch);
  } catch (e) {
    return result('B14', 'warn', `not checked: ${suite}-security index unavailable (${(e as Error).message.split('\n')[0]})`);
  }
  const old = outdatedInstalled(f.packages, index);
  if (old.length) return result('B14', 'fail', `${old.length} package(s) older than ${suite}-security: ${listSome(old.map((o) => `${o.name} ${o.installed} < ${o.fixed}`), 4)}`);
  return result('B14', 'pass', `${f.packages.size} installed packages at or above ${suite}-security (${index.length} entries)`);
}

// ---------------------------------------------------------------------------------------------
// B15: Lynis

async function checkLynis(f: HostFacts, opts: HostCheckOptions): Promise<CheckResult> {
  const v = f.view;
  const where = (await Promise.all(['/usr/bin/lynis', '/usr/sbin/lynis', '/usr/local/bin/lynis'].map(async (p) => ((await v.stat(p)) ? p : null)))).find(Boolean);
  if (!where) return result('B15', 'warn', `not run: Lynis is not on ${f.live ? 'the VM' : 'the image'} (it audits a running system: install it in the VM, e.g. apt-get install lynis, and audit with --vm)`);
  if (!f.live) return result('B15', 'warn', `not run: ${where} is in the image, but Lynis audits a running system (audit with --vm)`);
  if (opts.runLynis === false) return result('B15', 'skip', 'Lynis not run (disabled)');
  const r = await exec(v, `${where} audit system --quick --no-colors 2>&1`, 900_000);
  const idx = /Hardening index\s*:\s*\[?(\d+)/.exec(r.stdout);
  if (!idx) return result('B15', 'warn', `Lynis ran (exit ${r.code}) but printed no hardening index`);
  const n = Number(idx[1]);
  return result('B15', n >= 80 ? 'pass' : 'fail', `Lynis hardening index ${n} (want ≥ 80)`);
}

// ---------------------------------------------------------------------------------------------

/** SECURITY-CHECKS B1–B15 on a host, offline or live. */
export async function checkHost(view: HostView, opts: HostCheckOptions = {}): Promise<CheckResult[]> {
  const status = await readText(view, '/var/lib/dpkg/status');
  const [setuid, sshd] = await Promise.all([findSetuid(view), sshdEffective(view)]);
  const f: HostFacts = { view, live: view.kind === 'live', packages: status === null ? null : installedPackages(status), setuid, sshd: sshd.values, sshdSource: sshd.source };
  return [
    ...(await checkSysctl(view)),
    checkSshdConfig(f),
    await checkSshdCrypto(f),
    await checkInstanceSecrets(f),
    await checkPermissions(f),
    checkSetuidFiles(f),
    checkBannedPackages(f),
    await checkModulesAndMounts(f),
    await checkCoreDumps(f),
    await checkFirewall(f, opts),
    await checkSecurityUpdates(f),
    await checkAppArmor(f),
    await checkKnownVulnerabilities(f, opts),
    await checkLynis(f, opts),
  ];
}
