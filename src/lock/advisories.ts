// npm advisories for the packages an app ships, from the registry's bulk advisory endpoint
// (what `npm audit` asks). Best effort: a registry that does not answer is reported, never fatal.
import { npmComponentsFromLock } from '../sbom/lockfiles.js';

/** Package name → the versions of it in the locked tree. */
export type NpmAdvisoryQuery = Record<string, string[]>;

/** One advisory as the bulk endpoint returns it (fields Bulwark reads; more may be present). */
export interface RegistryAdvisory {
  id: number | string;
  url: string;
  title: string;
  severity: string;
  vulnerable_versions: string;
}

export interface NpmAdvisory {
  app: string;
  package: string;
  version: string;
  id: number | string;
  severity: string;
  title: string;
  url: string;
}

export type NpmAdvisoryAnswer = { ok: true; advisories: Record<string, RegistryAdvisory[]> } | { ok: false; reason: string };

export const NPM_REGISTRY = 'https://registry.npmjs.org';
const BULK_PATH = '/-/npm/v1/security/advisories/bulk';
export const NPM_ADVISORY_TIMEOUT_MS = 15_000;

/** The bulk endpoint: BULWARK_NPM_REGISTRY (a registry base URL, or the endpoint itself) or npmjs. */
export function npmAdvisoryEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const base = (env.BULWARK_NPM_REGISTRY || NPM_REGISTRY).replace(/\/+$/, '');
  return base.endsWith(BULK_PATH) ? base : base + BULK_PATH;
}

/** The production packages of a package-lock.json as { name: [versions] }, names and versions sorted. */
export function npmAdvisoryQuery(packageLockJson: unknown): NpmAdvisoryQuery {
  const q: NpmAdvisoryQuery = {};
  for (const c of npmComponentsFromLock(packageLockJson)) (q[c.name] ??= []).includes(c.version) || q[c.name]!.push(c.version);
  return Object.fromEntries(Object.keys(q).sort().map((k) => [k, q[k]!.sort()]));
}

/** Union of several apps' queries: one request for the whole project. */
export function mergeQueries(queries: NpmAdvisoryQuery[]): NpmAdvisoryQuery {
  const q: Record<string, Set<string>> = {};
  for (const one of queries) for (const [name, versions] of Object.entries(one)) for (const v of versions) (q[name] ??= new Set()).add(v);
  return Object.fromEntries(Object.keys(q).sort().map((k) => [k, [...q[k]!].sort()]));
}

const isAdvisory = (a: unknown): a is RegistryAdvisory =>
  typeof a === 'object' && a !== null && typeof (a as RegistryAdvisory).vulnerable_versions === 'string' && (a as RegistryAdvisory).id !== undefined;

/** POST the query; { ok: false, reason } on a network error, a timeout, a non-2xx or a non-JSON answer. */
export async function fetchNpmAdvisories(query: NpmAdvisoryQuery, registry = npmAdvisoryEndpoint(), timeoutMs = NPM_ADVISORY_TIMEOUT_MS): Promise<NpmAdvisoryAnswer> {
  if (!Object.keys(query).length) return { ok: true, advisories: {} };
  let res: Response;
  try {
    res = await fetch(registry, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(query),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError') return { ok: false, reason: `${registry} did not answer within ${Math.round(timeoutMs / 1000)} s` };
    return { ok: false, reason: `cannot reach ${registry}: ${err.cause?.code ?? err.cause?.message ?? err.message}` };
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, reason: `${registry} answered ${res.status}${res.statusText ? ' ' + res.statusText : ''}` };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { ok: false, reason: `${registry} answered with something that is not JSON` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: `${registry} answered with something that is not an advisory map` };
  const advisories: Record<string, RegistryAdvisory[]> = {};
  for (const [name, list] of Object.entries(body)) if (Array.isArray(list)) advisories[name] = list.filter(isAdvisory);
  return { ok: true, advisories };
}

/** The advisories that apply to the versions one app has, sorted by package, version, id. */
export function matchAdvisories(app: string, query: NpmAdvisoryQuery, answer: Record<string, RegistryAdvisory[]>): NpmAdvisory[] {
  const out: NpmAdvisory[] = [];
  for (const [name, versions] of Object.entries(query))
    for (const adv of answer[name] ?? [])
      for (const version of versions)
        // A range we cannot read counts as affected: the registry only returns advisories it thinks apply.
        if (semverRangeIncludes(version, adv.vulnerable_versions) !== false)
          out.push({ app, package: name, version, id: adv.id, severity: String(adv.severity ?? 'unknown'), title: String(adv.title ?? ''), url: String(adv.url ?? '') });
  const key = (a: NpmAdvisory) => [a.package, a.version, String(a.id).padStart(12, '0')].join('\0');
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

// --- The subset of node-semver ranges that advisories use: comparators, x-ranges, ^, ~, hyphens, ||.

type SemVer = { major: number; minor: number; patch: number; pre: Array<string | number> };

function parseSemver(v: string): SemVer | null {
  const m = v.trim().replace(/^[=v]+/, '').match(/^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/);
  if (!m) return null;
  return { major: +m[1]!, minor: +m[2]!, patch: +m[3]!, pre: m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? +p : p)) : [] };
}

function comparePre(a: SemVer['pre'], b: SemVer['pre']): number {
  if (!a.length || !b.length) return (b.length ? 1 : 0) - (a.length ? 1 : 0) || 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i], y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function compareSemver(a: SemVer, b: SemVer): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || comparePre(a.pre, b.pre);
}

type Comparator = { op: '<' | '<=' | '>' | '>=' | '='; v: SemVer };

/** A partial version ("1", "1.2", "1.x", "*") as its numbers, undefined for wildcards. */
function partial(s: string): { parts: Array<number | undefined>; pre: SemVer['pre'] } | null {
  const m = s.replace(/^[=v]+/, '').match(/^(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/);
  if (!m) return null;
  const num = (x: string | undefined) => (x === undefined || /^[xX*]$/.test(x) ? undefined : +x);
  const parts = [num(m[1]), num(m[2]), num(m[3])];
  // "1.x.3" is not a thing: everything after the first wildcard is a wildcard.
  const firstWild = parts.indexOf(undefined);
  if (firstWild >= 0) for (let i = firstWild; i < 3; i++) parts[i] = undefined;
  return { parts, pre: m[4] ? m[4].split('.').map((p) => (/^\d+$/.test(p) ? +p : p)) : [] };
}

const sv = (major: number, minor: number, patch: number, pre: SemVer['pre'] = []): SemVer => ({ major, minor, patch, pre });

/** Desugar one token (with its operator) into plain comparators; null when unreadable. */
function desugar(op: string, ver: string): Comparator[] | null {
  if (ver === '' || ver === '*' || /^[xX]$/.test(ver)) return op === '<' || op === '>' ? [{ op: '<', v: sv(0, 0, 0, [0]) }] : [];
  const p = partial(ver);
  if (!p) return null;
  const [M, m, pt] = p.parts;
  if (M === undefined) return [];
  const lo = sv(M, m ?? 0, pt ?? 0, p.pre);
  const exact = m !== undefined && pt !== undefined;
  const nextUp = m === undefined ? sv(M + 1, 0, 0, [0]) : sv(M, m + 1, 0, [0]);
  switch (op) {
    case '^': {
      const hi = M > 0 || m === undefined ? sv(M + 1, 0, 0, [0]) : m > 0 || pt === undefined ? sv(0, m + 1, 0, [0]) : sv(0, 0, pt + 1, [0]);
      return [{ op: '>=', v: lo }, { op: '<', v: hi }];
    }
    case '~':
    case '~>':
      return [{ op: '>=', v: lo }, { op: '<', v: nextUp }];
    case '':
    case '=':
      return exact ? [{ op: '=', v: lo }] : [{ op: '>=', v: lo }, { op: '<', v: nextUp }];
    case '>=':
      return [{ op: '>=', v: lo }];
    case '<':
      return [{ op: '<', v: exact ? lo : sv(M, m ?? 0, 0, [0]) }];
    case '>':
      return exact ? [{ op: '>', v: lo }] : [{ op: '>=', v: nextUp }];
    case '<=':
      return exact ? [{ op: '<=', v: lo }] : [{ op: '<', v: nextUp }];
    default:
      return null;
  }
}

function parseSet(set: string): Comparator[] | null {
  const s = set.replace(/,/g, ' ').trim();
  const hyphen = s.match(/^(\S+)\s+-\s+(\S+)$/);
  if (hyphen) {
    const a = desugar('>=', hyphen[1]!), b = desugar('<=', hyphen[2]!);
    return a && b ? [...a, ...b] : null;
  }
  const out: Comparator[] = [];
  // "<= 1.2.3" and "<=1.2.3" alike: glue operators to the version that follows them.
  for (const tok of s.replace(/(<=|>=|<|>|=|\^|~>|~)\s+/g, '$1').split(/\s+/).filter(Boolean)) {
    const m = tok.match(/^(<=|>=|<|>|=|\^|~>|~)?(.*)$/)!;
    const c = desugar(m[1] ?? '', m[2]!);
    if (!c) return null;
    out.push(...c);
  }
  return out;
}

function satisfiesComparator(v: SemVer, c: Comparator): boolean {
  const d = compareSemver(v, c.v);
  return c.op === '<' ? d < 0 : c.op === '<=' ? d <= 0 : c.op === '>' ? d > 0 : c.op === '>=' ? d >= 0 : d === 0;
}

/**
 * Is `version` in the node-semver `range`? undefined when either cannot be read.
 * A prerelease only matches a set that names a prerelease of the same major.minor.patch (node-semver).
 */
export function semverRangeIncludes(version: string, range: string): boolean | undefined {
  const v = parseSemver(version);
  if (!v) return undefined;
  let unreadable = false;
  for (const set of range.split('||')) {
    const comps = parseSet(set);
    if (!comps) {
      unreadable = true;
      continue;
    }
    if (!comps.every((c) => satisfiesComparator(v, c))) continue;
    if (v.pre.length && !comps.some((c) => c.v.pre.length && c.v.pre[0] !== 0 && c.v.major === v.major && c.v.minor === v.minor && c.v.patch === v.patch)) {
      // The synthetic "-0" bounds above are not prereleases the user wrote.
      continue;
    }
    return true;
  }
  return unreadable ? undefined : false;
}
