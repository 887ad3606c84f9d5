// Parsers for the host configuration files the B checks read: sysctl.d, sshd_config, nftables,
// APT configuration, dpkg status. Pure (text in, data out) so each rule is unit-tested on strings;
// checks-host.ts reads the files through a HostView.
import { parseStanzas } from '../lock/archive.js';

// ---------------------------------------------------------------------------------------------
// sysctl.d (systemd-sysctl order)

/** Directories systemd-sysctl reads, highest priority first: a same-named file in /etc wins. */
export const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];

/**
 * Config file names to read, in the order systemd applies them: every *.conf of every directory,
 * a name found in a higher-priority directory hiding the same name below, sorted by file name.
 * `dirs`: directory → its entries (null when missing). /etc/sysctl.conf comes last (procps reads
 * it; Debian links it as /etc/sysctl.d/99-sysctl.conf).
 */
export function confOrder(dirs: Array<[string, string[] | null]>, last?: string): string[] {
  const byName = new Map<string, string>();
  for (const [dir, names] of dirs) for (const n of names ?? []) if (n.endsWith('.conf') && !byName.has(n)) byName.set(n, `${dir}/${n}`);
  const files = [...byName.keys()].sort().map((n) => byName.get(n)!);
  return last ? [...files, last] : files;
}

/** A sysctl key as written (dots or slashes) → dotted form. */
// sysctl.d(5) allows slashes as separators ("net/ipv4/ip_forward").
const dotted = (k: string) => k.replace(/\//g, '.');

export interface SysctlSetting {
  value: string;
  file: string;
}

/**
 * Effective settings after applying files in order: later assignments win; an explicit key beats
 * a glob (systemd skips glob matches for keys set explicitly). Globs are kept separately.
 */
export function parseSysctlFiles(files: Array<{ file: string; text: string }>): { explicit: Map<string, SysctlSetting>; globs: Array<{ pattern: string } & SysctlSetting> } {
  const explicit = new Map<string, SysctlSetting>();
  const globs: Array<{ pattern: string } & SysctlSetting> = [];
  for (const { file, text } of files) {
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const key = dotted(line.slice(0, eq).trim().replace(/^-/, ''));
      const value = line.slice(eq + 1).trim().replace(/\s+/g, ' ');
      if (/[*?[]/.test(key)) globs.push({ pattern: key, value, file });
      else explicit.set(key, { value, file });
    }
  }
  return { explicit, globs };
}

const globRe = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]')}$`);

/** The value a key ends up with: explicit, else the last matching glob; undefined when unset. */
export function sysctlValue(parsed: ReturnType<typeof parseSysctlFiles>, key: string): SysctlSetting | undefined {
  const e = parsed.explicit.get(key);
  if (e) return e;
  const g = parsed.globs.filter((x) => globRe(x.pattern).test(key)).pop();
  return g ? { value: g.value, file: g.file } : undefined;
}

// ---------------------------------------------------------------------------------------------
// sshd_config

export interface SshdConfig {
  /** lowercase keyword → value (first occurrence wins, as sshd does); multi-valued keys keep every value. */
  values: Map<string, string>;
  multi: Map<string, string[]>;
  /** Files read, in order. */
  files: string[];
}

/** Keywords sshd accepts more than once (each adds a value). */
const SSHD_MULTI = new Set(['hostkey', 'include', 'listenaddress', 'port', 'acceptenv', 'subsystem', 'hostcertificate', 'setenv']);
const SSHD_ALIASES: Record<string, string> = { challengeresponseauthentication: 'kbdinteractiveauthentication', dsaauthentication: 'pubkeyauthentication' };

/** Split a config line into words, honouring double quotes. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] ?? m[2]!);
  return out;
}

/** Expand a shell-style glob of one path component level (Include /etc/ssh/sshd_config.d/*.conf). */
const matchesGlob = (name: string, glob: string) => new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(name);

/**
 * sshd's global configuration from its files: Include expanded in place (relative paths are under
 * /etc/ssh; glob matches in lexical order), everything after the first Match ignored (conditional),
 * first value wins. `read`: path → text or null; `list`: dir → names or null.
 */
export async function parseSshdConfig(read: (p: string) => Promise<string | null>, list: (d: string) => Promise<string[] | null>, main = '/etc/ssh/sshd_config'): Promise<SshdConfig> {
  const values = new Map<string, string>();
  const multi = new Map<string, string[]>();
  const files: string[] = [];
  let inMatch = false;
  const visit = async (file: string, depth: number): Promise<void> => {
    if (depth > 16) return;
    const text = await read(file);
    if (text === null) return;
    files.push(file);
    for (const raw of text.split('\n')) {
      if (inMatch) return;
      const line = raw.replace(/#.*$/, '').trim();
      if (!line) continue;
      const [kw0, ...rest] = words(line.replace(/^(\S+)\s*=\s*/, '$1 '));
      if (!kw0) continue;
      const kw = SSHD_ALIASES[kw0.toLowerCase()] ?? kw0.toLowerCase();
      if (kw === 'match') {
        inMatch = true;
        return;
      }
      if (kw === 'include') {
        for (const pat of rest) {
          const abs = pat.startsWith('/') ? pat : `/etc/ssh/${pat}`;
          const slash = abs.lastIndexOf('/');
          const dir = abs.slice(0, slash);
          const base = abs.slice(slash + 1);
          if (!/[*?[]/.test(base)) await visit(abs, depth + 1);
          else for (const n of ((await list(dir)) ?? []).filter((n) => matchesGlob(n, base)).sort()) await visit(`${dir}/${n}`, depth + 1);
        }
        continue;
      }
      if (SSHD_MULTI.has(kw)) multi.set(kw, [...(multi.get(kw) ?? []), rest.join(' ')]);
      else if (!values.has(kw)) values.set(kw, rest.join(' '));
    }
  };
  await visit(main, 0);
  return { values, multi, files };
}

/** `sshd -T` output → lowercase keyword → value (multi-valued keys joined by newlines). */
export function parseSshdT(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const k = m[1]!.toLowerCase();
    out.set(k, out.has(k) ? `${out.get(k)}\n${m[2]}` : m[2]!);
  }
  return out;
}

/** sshd time format (30, 30s, 2m, 1h30m) → seconds. */
export function sshdSeconds(v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  let total = 0;
  const re = /(\d+)([smhdwSMHDW]?)/g;
  let m: RegExpExecArray | null;
  const unit: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  while ((m = re.exec(v))) total += Number(m[1]) * (unit[m[2]!.toLowerCase()] ?? 1);
  return total;
}

/**
 * An algorithm list option as sshd resolves it: `+x` appends to the default, `-x` removes from it
 * (wildcards allowed), `^x` puts in front of it, anything else replaces it.
 */
export function resolveAlgorithms(value: string | undefined, defaults: string[]): string[] {
  if (value === undefined || value === '') return defaults;
  const list = value.slice(/^[+\-^]/.test(value) ? 1 : 0).split(',').map((s) => s.trim()).filter(Boolean);
  const wild = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  if (value.startsWith('+')) return [...defaults, ...list.filter((a) => !defaults.includes(a))];
  if (value.startsWith('-')) return defaults.filter((a) => !list.some((p) => wild(p).test(a)));
  if (value.startsWith('^')) return [...list, ...defaults.filter((a) => !list.includes(a))];
  return list;
}

/** /etc/ssh/moduli: the size (bits) of every group. The file's size field is bits − 1. */
export function moduliSizes(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7 || line.trim().startsWith('#')) continue;
    const size = Number(f[4]);
    if (Number.isFinite(size)) out.push(size + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// nftables

export interface NftChain {
  table: string;
  name: string;
  hook?: string;
  policy?: string;
  rules: string[];
}

/**
 * Chains of an nftables ruleset (a /etc/nftables.conf or `nft list ruleset`), with their base
 * chain hook and policy. Enough structure for B11; `nft -c` checks the syntax for real.
 */
export function parseNftRuleset(text: string): NftChain[] {
  const chains: NftChain[] = [];
  // Statements end at newlines or `;`; braces open and close blocks. Sets ({ 22, 80 }) stay inside a statement.
  const src = text.replace(/#[^\n]*/g, '').replace(/\\\n/g, ' ');
  let table = '';
  let chain: NftChain | null = null;
  let depth = 0;
  let tableDepth = -1;
  let chainDepth = -1;
  let stmt = '';
  const flush = () => {
    const s = stmt.trim();
    stmt = '';
    if (!s || !chain) return;
    const hook = /\bhook\s+(\w+)/.exec(s);
    if (/^type\s/.test(s) && hook) {
      chain.hook = hook[1];
      const pol = /\bpolicy\s+(\w+)/.exec(s);
      if (pol) chain.policy = pol[1];
      return;
    }
    const pol = /^policy\s+(\w+)/.exec(s);
    if (pol) {
      chain.policy = pol[1];
      return;
    }
    if (/^(priority|comment|devices?)\b/.test(s)) return;
    chain.rules.push(s.replace(/\s+/g, ' '));
  };
  let setDepth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '{') {
      const head = stmt.trim();
      if (chain || setDepth > 0) {
        // Inside a chain a brace is an anonymous set, map or verdict map: part of the rule.
        setDepth++;
        stmt += c;
        continue;
      }
      const t = /^table\s+(?:(\w+)\s+)?(\S+)$/.exec(head);
      const ch = /^chain\s+(\S+)$/.exec(head);
      depth++;
      if (t) {
        table = t[2]!;
        tableDepth = depth;
      } else if (ch) {
        chain = { table, name: ch[1]!, rules: [] };
        chains.push(chain);
        chainDepth = depth;
      }
      stmt = '';
      continue;
    }
    if (c === '}') {
      if (setDepth > 0) {
        setDepth--;
        stmt += c;
        continue;
      }
      flush();
      if (depth === chainDepth) {
        chain = null;
        chainDepth = -1;
      }
      if (depth === tableDepth) {
        table = '';
        tableDepth = -1;
      }
      depth--;
      continue;
    }
    if ((c === '\n' || c === ';') && setDepth === 0) {
      flush();
      continue;
    }
    stmt += c;
  }
  return chains;
}

/** Ports a rule opens: `tcp dport 22`, `tcp dport { 22, 80, 443 }`, `th dport 80-90` (expanded when small). */
export function rulePorts(rule: string): Array<number | string> {
  const m = /\b(?:tcp|udp|th|sctp|dccp)\s+dport\s+(\{[^}]*\}|\S+)/.exec(rule);
  if (!m) return [];
  return m[1]!
    .replace(/[{}]/g, '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : ({ ssh: 22, http: 80, https: 443 } as Record<string, number>)[p] ?? p));
}

/** Accept rules that open nothing from outside: loopback, replies, ICMP. */
export const harmlessAccept = (rule: string) =>
  /\b(iif|iifname)\s+"?lo"?\b/.test(rule) ||
  /\bct state\s+(\{\s*)?(established|related)(\s*,\s*(established|related))*(\s*\})?\s+accept\b/.test(rule) ||
  /\b(icmp|icmpv6|ipv6-icmp)\b/.test(rule);

// ---------------------------------------------------------------------------------------------
// APT configuration (apt.conf.d) and dpkg status

/**
 * APT configuration text → flat "A::B::C" → values (lists keep every value). Handles nested
 * blocks (`APT { Periodic { … } }`), `//` and `/* *\/` comments, and `#clear`. Files in lexical
 * order, later values win for scalars.
 */
export function parseAptConf(texts: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const text of texts) {
    const src = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:"])\/\/[^\n]*/g, '$1').replace(/^\s*#(?!clear)[^\n]*/gm, '');
    const stack: string[] = [];
    const re = /\s*(#clear\s+[^;]+;|[^\s{};"]+\s*\{|\}\s*;?|(?:[^\s{};"]+\s+)?"(?:[^"\\]|\\.)*"\s*;|[^\s{};"]+\s+[^\s{};"]+\s*;)/y;
    let m: RegExpExecArray | null;
    let pos = 0;
    while (pos < src.length) {
      re.lastIndex = pos;
      m = re.exec(src);
      if (!m) {
        pos++;
        continue;
      }
      pos = re.lastIndex;
      const tok = m[1]!.trim();
      if (tok.startsWith('#clear')) {
        out.delete(tok.slice(6).replace(/;$/, '').trim());
        continue;
      }
      if (tok.startsWith('}')) {
        stack.pop();
        continue;
      }
      if (tok.endsWith('{')) {
        stack.push(tok.slice(0, -1).trim());
        continue;
      }
      const q = /^(?:(\S+)\s+)?"((?:[^"\\]|\\.)*)"\s*;$/.exec(tok) ?? /^(\S+)\s+(\S+?)\s*;$/.exec(tok);
      if (!q) continue;
      const key = [...stack, ...(q[1] ? [q[1]] : [])].join('::').replace(/::$/, '');
      const value = q[2]!;
      if (q[1] && !/::$/.test(q[1])) {
        // A scalar: `Key "v";` inside or outside a block. A list item is `"v";` in a block.
        out.set(key, [value]);
      } else out.set(key, [...(out.get(key) ?? []), value]);
    }
  }
  return out;
}

export interface DpkgPackage {
  name: string;
  version: string;
  arch: string;
  status: string;
}

/** Installed packages ("install ok installed") of /var/lib/dpkg/status. */
export function installedPackages(status: string): Map<string, DpkgPackage> {
  const out = new Map<string, DpkgPackage>();
  for (const s of parseStanzas(status)) {
    if (!/\sinstalled$/.test(s.Status ?? '') || !s.Package) continue;
    out.set(s.Package, { name: s.Package, version: s.Version ?? '', arch: s.Architecture ?? '', status: s.Status! });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mount options (fstab, .mount units)

export interface FstabEntry {
  spec: string;
  file: string;
  type: string;
  options: string[];
}

export function parseFstab(text: string): FstabEntry[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .filter((f) => f.length >= 4)
    .map((f) => ({ spec: f[0]!, file: f[1]!, type: f[2]!, options: f[3]!.split(',') }));
}
