// SECURITY-CHECKS D1–D10: the systemd units of the apps and of the TLS proxy, as the host has
// them (unit file plus drop-ins). D1 asks systemd-analyze for the exposure; D2–D10 read the
// parsed [Service] settings. One result per check, covering every unit; the evidence names the
// unit that fails.
import { run } from '../build/proc.js';
import { appUid } from '../names.js';
import { CADDY_STORAGE, HOST_APPS_DIR } from '../vm/host-spec.js';
import { parsePasswd } from './accounts.js';
import { result } from './checks-image.js';
import { readText, type HostView } from './host-view.js';
import { listSome, worse, type CheckResult, type CheckStatus } from './types.js';

/** Exposure limits of D1 (systemd-analyze security; a bare unit scores 9.6). */
export const EXPOSURE_LIMIT = { app: 1.5, proxy: 2.0 };
export const PROXY_UNITS = new Set(['caddy.service']);

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];

/**
 * Settings that are lists: each assignment adds, an empty one resets. Every other setting is a
 * scalar (the last assignment wins; an empty one returns it to the default).
 */
const LIST_KEYS = new Set([
  'CapabilityBoundingSet',
  'AmbientCapabilities',
  'SystemCallFilter',
  'SystemCallArchitectures',
  'RestrictAddressFamilies',
  'RestrictNamespaces',
  'ReadWritePaths',
  'ReadOnlyPaths',
  'InaccessiblePaths',
  'ExecPaths',
  'NoExecPaths',
  'BindPaths',
  'BindReadOnlyPaths',
  'IPAddressAllow',
  'IPAddressDeny',
  'SupplementaryGroups',
  'StateDirectory',
  'RuntimeDirectory',
  'LogsDirectory',
  'CacheDirectory',
  'ConfigurationDirectory',
  'Environment',
  'EnvironmentFile',
  'ExecStart',
  'ExecStartPre',
  'ExecStartPost',
  'DeviceAllow',
]);

export interface ParsedUnit {
  name: string;
  /** Files read: the unit, then its drop-ins in order. */
  files: string[];
  /** [Service] settings: scalars as one-element lists. */
  service: Map<string, string[]>;
  /** Every comment line of every file (D10 looks for the reason). */
  comments: string[];
}

/** Parse unit file texts (the unit, then drop-ins) into [Service] settings, systemd's way. */
export function parseUnitFiles(name: string, files: Array<{ file: string; text: string }>): ParsedUnit {
  const service = new Map<string, string[]>();
  const comments: string[] = [];
  for (const { text } of files) {
    let section = '';
    const joined = text.replace(/\\\n/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith('#') || line.startsWith(';')) {
        comments.push(line.replace(/^[#;]\s?/, ''));
        continue;
      }
      if (/^\[.*\]$/.test(line)) {
        section = line;
        continue;
      }
      if (section !== '[Service]') continue;
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (LIST_KEYS.has(key)) {
        // An empty assignment resets; for capability sets, the reset is itself the (empty) value.
        if (value === '') service.set(key, key === 'CapabilityBoundingSet' || key === 'AmbientCapabilities' ? [''] : []);
        else service.set(key, [...(service.get(key) ?? []).filter((v) => v !== ''), value]);
      } else service.set(key, [value]);
    }
  }
  return { name, files: files.map((f) => f.file), service, comments };
}

/** The unit file and its drop-ins as systemd finds them (a same-named file in /etc wins). */
export async function loadUnit(view: HostView, name: string): Promise<ParsedUnit | null> {
  let main: { file: string; text: string } | null = null;
  for (const d of UNIT_DIRS) {
    const p = `${d}/${name}`;
    if ((await view.readlink(p)) === '/dev/null') return null; // masked
    const t = await readText(view, p);
    if (t !== null) {
      main = { file: p, text: t };
      break;
    }
  }
  if (!main) return null;
  const dropIns = new Map<string, string>();
  for (const d of UNIT_DIRS)
    for (const n of ((await view.list(`${d}/${name}.d`)) ?? []).filter((x) => x.endsWith('.conf')))
      if (!dropIns.has(n)) dropIns.set(n, `${d}/${name}.d/${n}`);
  const files = [main];
  for (const n of [...dropIns.keys()].sort()) {
    const t = await readText(view, dropIns.get(n)!);
    if (t !== null) files.push({ file: dropIns.get(n)!, text: t });
  }
  return parseUnitFiles(name, files);
}

const TRUE = /^(yes|true|on|1)$/i;
const scalar = (u: ParsedUnit, k: string) => u.service.get(k)?.at(-1);
const isTrue = (u: ParsedUnit, k: string) => TRUE.test(scalar(u, k) ?? '');
const words = (u: ParsedUnit, k: string) => (u.service.get(k) ?? []).flatMap((v) => v.split(/\s+/).filter(Boolean));

/** A capability set after all assignments: explicit caps, or "all but" when a ~ form was used. */
export function capabilitySet(u: ParsedUnit, key: 'CapabilityBoundingSet' | 'AmbientCapabilities'): { all: boolean; caps: Set<string> } | null {
  const values = u.service.get(key);
  if (!values) return null; // unset: the bounding set is everything; ambient is empty
  // all: the set is every capability except `caps`; else exactly `caps`.
  let all = false;
  let started = false;
  const caps = new Set<string>();
  for (const v of values) {
    if (v === '') continue;
    const invert = v.startsWith('~');
    const list = v.replace(/^~/, '').trim().split(/\s+/).filter(Boolean);
    if (!started && invert) all = true;
    started = true;
    for (const c of list) {
      const remove = invert !== all; // ~ on an explicit set removes; a plain cap on an "all but" set adds back
      if (remove) caps.delete(c);
      else caps.add(c);
    }
  }
  return { all, caps };
}

/** Whether the unit keeps any capability (a bounding set not empty, or ambient caps). */
function holdsCapabilities(u: ParsedUnit): boolean {
  const b = capabilitySet(u, 'CapabilityBoundingSet');
  const a = capabilitySet(u, 'AmbientCapabilities');
  return !b || b.all || b.caps.size > 0 || (!!a && (a.all || a.caps.size > 0));
}

const isNodeUnit = (u: ParsedUnit) => (u.service.get('ExecStart') ?? []).some((e) => /(^|[\s/@+!:-])(node|nodejs)(\s|$)/.test(e.replace(/^[-@:+!]+/, '')));

interface UnitContext {
  unit: ParsedUnit;
  proxy: boolean;
  passwd: ReturnType<typeof parsePasswd>;
  /** Units sharing a User= with this one. */
  sharedUser: string[];
}

type Finding = { status: CheckStatus; why: string } | null;
const fail = (why: string): Finding => ({ status: 'fail', why });
const problems = (list: string[]): Finding => (list.length ? fail(list.join(', ')) : null);

function d2(c: UnitContext): Finding {
  const u = c.unit;
  if (isTrue(u, 'DynamicUser')) return fail('DynamicUser=yes (the uid changes between images)');
  const user = scalar(u, 'User');
  if (!user) return fail('no User= (runs as root)');
  if (user === 'root' || user === '0') return fail(`User=${user}`);
  const entry = /^\d+$/.test(user) ? c.passwd.find((p) => p.uid === Number(user)) : c.passwd.find((p) => p.name === user);
  const bad: string[] = [];
  if (!entry) bad.push(`user ${user} not in /etc/passwd`);
  else if (entry.uid === 0) bad.push(`user ${user} has uid 0`);
  else if (!c.proxy && entry.name === u.name.replace(/\.service$/, '') && entry.uid !== appUid(entry.name)) bad.push(`uid ${entry.uid} is not the app's stable uid ${appUid(entry.name)}`);
  const group = scalar(u, 'Group');
  if (group === 'root' || group === '0') bad.push(`Group=${group}`);
  const sup = words(u, 'SupplementaryGroups');
  if (sup.length) bad.push(`SupplementaryGroups=${sup.join(' ')}`);
  if (c.sharedUser.length) bad.push(`User=${user} shared with ${c.sharedUser.join(', ')}`);
  return problems(bad);
}

function d3(c: UnitContext): Finding {
  const u = c.unit;
  const bad: string[] = [];
  if (!isTrue(u, 'NoNewPrivileges')) bad.push('NoNewPrivileges not yes');
  const allowed = c.proxy ? new Set(['CAP_NET_BIND_SERVICE']) : new Set<string>();
  const describe = (s: { all: boolean; caps: Set<string> }) => (s.all ? `all but ${[...s.caps].join(' ') || 'nothing'}` : [...s.caps].join(' ') || '(empty)');
  const b = capabilitySet(u, 'CapabilityBoundingSet');
  if (!b) bad.push('CapabilityBoundingSet unset (all capabilities)');
  else if (b.all || [...b.caps].some((x) => !allowed.has(x))) bad.push(`CapabilityBoundingSet=${describe(b)}`);
  const a = capabilitySet(u, 'AmbientCapabilities');
  if (a && (a.all || [...a.caps].some((x) => !allowed.has(x)))) bad.push(`AmbientCapabilities=${describe(a)}`);
  return problems(bad);
}

function d4(c: UnitContext): Finding {
  const u = c.unit;
  const bad: string[] = [];
  if (scalar(u, 'ProtectSystem') !== 'strict') bad.push(`ProtectSystem=${scalar(u, 'ProtectSystem') ?? 'unset'}`);
  if (!isTrue(u, 'ProtectHome')) bad.push(`ProtectHome=${scalar(u, 'ProtectHome') ?? 'unset'}`);
  if (!isTrue(u, 'PrivateTmp')) bad.push('PrivateTmp not yes');
  const rw = words(u, 'ReadWritePaths').map((p) => p.replace(/^[-+]+/, ''));
  const allowed = c.proxy ? [CADDY_STORAGE] : [];
  const extra = rw.filter((p) => !allowed.some((a) => p === a || p.startsWith(`${a}/`)));
  if (extra.length) bad.push(`ReadWritePaths=${extra.join(' ')}`);
  return problems(bad);
}

function d5(c: UnitContext): Finding {
  const u = c.unit;
  const bad = ['PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectClock', 'ProtectHostname', 'PrivateMounts'].filter((k) => !isTrue(u, k)).map((k) => `${k} not yes`);
  const cg = scalar(u, 'ProtectControlGroups') ?? '';
  if (!TRUE.test(cg) && !/^(strict|private)$/.test(cg)) bad.push('ProtectControlGroups not yes');
  const policy = scalar(u, 'DevicePolicy');
  // PrivateDevices=yes implies DevicePolicy=closed (systemd.exec(5)).
  if (!(policy === 'closed' || policy === 'strict' || (policy === undefined && isTrue(u, 'PrivateDevices')))) bad.push(`DevicePolicy=${policy ?? 'auto'}`);
  return problems(bad);
}

function d6(c: UnitContext): Finding {
  const u = c.unit;
  const bad: string[] = [];
  const fams = words(u, 'RestrictAddressFamilies');
  const ok = new Set(['AF_INET', 'AF_INET6', 'AF_UNIX']);
  if (!fams.length) bad.push('RestrictAddressFamilies unset');
  else if (fams.some((f) => f.startsWith('~') || !ok.has(f))) bad.push(`RestrictAddressFamilies=${fams.join(' ')}`);
  const ns = u.service.get('RestrictNamespaces') ?? [];
  if (!(ns.length && TRUE.test(ns.at(-1)!))) bad.push(`RestrictNamespaces=${ns.join(' ') || 'unset'}`);
  for (const k of ['RestrictRealtime', 'RestrictSUIDSGID', 'LockPersonality']) if (!isTrue(u, k)) bad.push(`${k} not yes`);
  return problems(bad);
}

function d7(c: UnitContext): Finding {
  const u = c.unit;
  const bad: string[] = [];
  if (words(u, 'SystemCallArchitectures').join(' ') !== 'native') bad.push(`SystemCallArchitectures=${words(u, 'SystemCallArchitectures').join(' ') || 'unset'}`);
  const filters = u.service.get('SystemCallFilter') ?? [];
  const allow = filters.filter((f) => !f.startsWith('~')).flatMap((f) => f.split(/\s+/));
  const deny = filters.filter((f) => f.startsWith('~')).flatMap((f) => f.slice(1).split(/\s+/));
  if (!filters.length) bad.push('no SystemCallFilter');
  else {
    if (!allow.includes('@system-service')) bad.push(`allow-list ${allow.join(' ') || '(none)'} is not @system-service`);
    if (allow.includes('@privileged') || !deny.includes('@privileged')) bad.push('@privileged not denied');
  }
  const errno = scalar(u, 'SystemCallErrorNumber');
  if (errno !== 'EPERM') bad.push(`SystemCallErrorNumber=${errno ?? 'unset (kill)'}`);
  return problems(bad);
}

function d8(c: UnitContext): Finding {
  const u = c.unit;
  const bad: string[] = [];
  const proc = scalar(u, 'ProtectProc');
  if (proc !== 'invisible' && proc !== 'noaccess') bad.push(`ProtectProc=${proc ?? 'default'}`);
  const umask = parseInt(scalar(u, 'UMask') ?? '0022', 8);
  if ((umask & 0o077) !== 0o077) bad.push(`UMask=${scalar(u, 'UMask') ?? '0022 (default)'}`);
  if (!isTrue(u, 'RemoveIPC')) bad.push('RemoveIPC not yes');
  if (!holdsCapabilities(u) && !isTrue(u, 'PrivateUsers')) bad.push('PrivateUsers not yes (the unit holds no capability)');
  if (bad.length) return fail(bad.join(', '));
  if (scalar(u, 'ProcSubset') !== 'pid') return { status: 'warn', why: 'ProcSubset=pid not set' };
  return null;
}

function d9(c: UnitContext): Finding {
  if (c.proxy) return null; // the proxy serves the internet and reaches the ACME CA
  const u = c.unit;
  const deny = words(u, 'IPAddressDeny');
  const allow = words(u, 'IPAddressAllow');
  const bad: string[] = [];
  if (!deny.includes('any')) bad.push(`IPAddressDeny=${deny.join(' ') || 'unset'}`);
  if (!allow.includes('localhost') && !allow.includes('127.0.0.0/8')) bad.push('IPAddressAllow lacks localhost');
  if (allow.includes('any')) bad.push('IPAddressAllow=any');
  return problems(bad);
}

function d10(c: UnitContext): Finding {
  const u = c.unit;
  const mdwe = isTrue(u, 'MemoryDenyWriteExecute');
  if (isNodeUnit(u)) {
    if (mdwe) return fail('MemoryDenyWriteExecute=yes on a Node.js unit (V8 aborts at start)');
    if (!u.comments.some((l) => /\bJIT\b/.test(l))) return fail('Node.js unit without MemoryDenyWriteExecute and no comment saying why (JIT)');
    return null;
  }
  return mdwe ? null : fail('MemoryDenyWriteExecute not yes');
}

const RULES: Array<[string, (c: UnitContext) => Finding, string]> = [
  ['D2', d2, 'dedicated non-root user, no supplementary groups'],
  ['D3', d3, 'NoNewPrivileges, no capabilities (proxy: CAP_NET_BIND_SERVICE)'],
  ['D4', d4, 'ProtectSystem=strict, ProtectHome, PrivateTmp, no ReadWritePaths'],
  ['D5', d5, 'devices, kernel, cgroups, clock, hostname, mounts protected'],
  ['D6', d6, 'AF_INET AF_INET6 AF_UNIX only, namespaces, realtime, SUID/SGID, personality restricted'],
  ['D7', d7, 'native, @system-service minus @privileged, EPERM'],
  ['D8', d8, 'ProtectProc, UMask 0077, RemoveIPC, PrivateUsers'],
  ['D9', d9, 'IPAddressDeny=any, IPAddressAllow=localhost (apps)'],
  ['D10', d10, 'MemoryDenyWriteExecute (Node: JIT reason given)'],
];

/** Exposure of one unit from `systemd-analyze security` output. */
export const parseExposure = (out: string) => {
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(out);
  return m ? Number(m[1]) : null;
};

async function exposureOf(view: HostView, unit: string, offlineRoot?: string): Promise<{ level: number | null; why: string }> {
  if (view.kind === 'live' && view.exec) {
    const r = await view.exec(`SYSTEMD_COLORS=0 systemd-analyze security --no-pager ${unit}`, { timeoutMs: 60_000 });
    return { level: parseExposure(r.stdout), why: (r.stderr || r.stdout).trim().split('\n').pop() ?? '' };
  }
  const root = offlineRoot ?? view.root;
  if (!root) return { level: null, why: 'no root directory for --offline' };
  const r = await run('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, '--no-pager', unit], { allowFail: true, timeoutMs: 60_000, env: { ...process.env, SYSTEMD_COLORS: '0' } }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
  return { level: parseExposure(r.stdout), why: (r.stderr || r.stdout).trim().split('\n').pop() ?? '' };
}

export interface UnitCheckOptions {
  /** The tree for `systemd-analyze --offline=yes --root=` (default: the view's own root). */
  offlineRoot?: string;
  /** Units held to the proxy's rules (default caddy.service). */
  proxyUnits?: Set<string>;
  /** Skip D1 (no systemd-analyze measurement). */
  skipExposure?: boolean;
}

/** SECURITY-CHECKS D1–D10 over every unit named (apps and the proxy). */
export async function checkUnits(view: HostView, units: string[], opts: UnitCheckOptions = {}): Promise<CheckResult[]> {
  const proxyUnits = opts.proxyUnits ?? PROXY_UNITS;
  const passwd = parsePasswd((await readText(view, '/etc/passwd')) ?? '');
  const parsed = new Map<string, ParsedUnit | null>();
  for (const u of units) parsed.set(u, await loadUnit(view, u));
  const missing = units.filter((u) => !parsed.get(u));
  const found = units.filter((u) => parsed.get(u));
  const missingNote = missing.length ? `unit file not found: ${missing.join(', ')}` : '';
  if (units.length === 0) return ['D1', ...RULES.map((r) => r[0])].map((id) => result(id, 'skip', 'no units to check'));

  const out: CheckResult[] = [];
  // D1
  if (opts.skipExposure) out.push(result('D1', 'skip', 'exposure not measured'));
  else {
    let status: CheckStatus = missing.length ? 'fail' : 'pass';
    const parts: string[] = [];
    for (const u of found) {
      const limit = proxyUnits.has(u) ? EXPOSURE_LIMIT.proxy : EXPOSURE_LIMIT.app;
      const { level, why } = await exposureOf(view, u, opts.offlineRoot);
      if (level === null) {
        status = worse(status, 'warn');
        parts.push(`${u}: not measured (${why})`);
      } else {
        if (level > limit) status = 'fail';
        parts.push(`${u} ${level}${level > limit ? ` > ${limit}` : ''}`);
      }
    }
    out.push(result('D1', status, [missingNote, parts.length ? `exposure (limit ${EXPOSURE_LIMIT.app} apps, ${EXPOSURE_LIMIT.proxy} proxy): ${parts.join(', ')}` : ''].filter(Boolean).join('; ')));
  }

  const users = new Map<string, string[]>();
  for (const u of found) {
    const user = scalar(parsed.get(u)!, 'User');
    if (user) users.set(user, [...(users.get(user) ?? []), u]);
  }
  for (const [id, rule, what] of RULES) {
    let status: CheckStatus = missing.length ? 'fail' : 'pass';
    const findings: string[] = missing.length ? [missingNote] : [];
    for (const name of found) {
      const unit = parsed.get(name)!;
      const user = scalar(unit, 'User');
      const c: UnitContext = { unit, proxy: proxyUnits.has(name), passwd, sharedUser: user ? (users.get(user) ?? []).filter((x) => x !== name) : [] };
      const f = rule(c);
      if (f) {
        status = worse(status, f.status);
        findings.push(`${name}: ${f.why}`);
      }
    }
    out.push(result(id, status, findings.length ? listSome(findings, 4) : `${what}: ${found.join(', ')}`));
  }
  return out;
}

/**
 * The units an image runs: every *.service in /etc/systemd/system with an app record in
 * /etc/bulwark/apps (HOST_APPS_DIR: <name>.env), plus the proxy.
 */
export async function discoverUnits(view: HostView, appsDir = HOST_APPS_DIR): Promise<string[]> {
  const apps = new Set(((await view.list(appsDir)) ?? []).filter((n) => n.endsWith('.env')).map((n) => n.slice(0, -4)));
  const services = ((await view.list('/etc/systemd/system')) ?? []).filter((n) => n.endsWith('.service') && apps.has(n.slice(0, -8)));
  return [...services.sort(), ...PROXY_UNITS];
}
