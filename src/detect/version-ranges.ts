// Small, dependency-free checks of "does Debian's runtime satisfy what the app asks for":
// npm semver ranges (engines.node) and PEP 440 specifiers (requires-python).
// Only the release numbers matter here: Debian ships plain X.Y.Z versions.

type Version = [number, number, number];

function parseVersion(v: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  return m ? [+m[1], +m[2], +m[3]] : undefined;
}

function cmp(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

type Test = (v: Version) => boolean;
const ge = (b: Version): Test => (v) => cmp(v, b) >= 0;
const gt = (b: Version): Test => (v) => cmp(v, b) > 0;
const lt = (b: Version): Test => (v) => cmp(v, b) < 0;
const le = (b: Version): Test => (v) => cmp(v, b) <= 0;
const any: Test = () => true;

/** A possibly partial version: "20", "20.x", "20.1", "v20.1.2", "*". Missing parts are undefined. */
function parsePartial(s: string): (number | undefined)[] | undefined {
  const t = s.replace(/^v/i, '').replace(/[-+].*$/, ''); // prerelease/build tags do not matter for Debian's X.Y.Z
  if (t === '' || t === '*' || t === 'x' || t === 'X') return [];
  const parts = t.split('.');
  if (parts.length > 3) return undefined;
  const out: (number | undefined)[] = [];
  for (const p of parts) {
    if (p === 'x' || p === 'X' || p === '*') break; // everything after a wildcard is a wildcard
    if (!/^\d+$/.test(p)) return undefined;
    out.push(+p);
  }
  return out;
}

/** One comparator ("^18.2", ">=20", "20.x") desugared into a test. */
function comparator(op: string, ver: string): Test | undefined {
  const p = parsePartial(ver);
  if (!p) return undefined;
  const [M, m, pt] = p;
  const full = (): Version => [M ?? 0, m ?? 0, pt ?? 0];
  // The first version past the partial one: "20" → 21.0.0, "20.1" → 20.2.0.
  const next = (): Version => (m === undefined ? [M! + 1, 0, 0] : pt === undefined ? [M!, m + 1, 0] : [M!, m, pt + 1]);
  if (M === undefined) return op === '<' || op === '>' ? () => false : any;
  switch (op) {
    case '':
    case '=':
      return pt !== undefined ? (v) => cmp(v, full()) === 0 : (v) => ge(full())(v) && lt(next())(v);
    case '>=':
      return ge(full());
    case '>':
      return pt !== undefined ? gt(full()) : ge(next());
    case '<':
      return lt(full());
    case '<=':
      return pt !== undefined ? le(full()) : lt(next());
    case '~':
    case '~>': {
      const upper: Version = m === undefined ? [M + 1, 0, 0] : [M, m + 1, 0];
      return (v) => ge(full())(v) && lt(upper)(v);
    }
    case '^': {
      const upper: Version =
        M > 0 || m === undefined ? [M + 1, 0, 0] : m > 0 || pt === undefined ? [0, m + 1, 0] : [0, 0, pt + 1];
      return (v) => ge(full())(v) && lt(upper)(v);
    }
  }
  return undefined;
}

/**
 * Does `version` (X.Y.Z) satisfy the npm range? Supports ||, space-separated AND, hyphen ranges,
 * >= > < <= = ^ ~, x-ranges and bare majors ("20", "v20"). undefined: the range could not be read.
 */
export function satisfiesSemver(version: string, range: string): boolean | undefined {
  const v = parseVersion(version);
  if (!v) return undefined;
  let ok = false;
  for (const alt of range.split('||')) {
    const set = alt.trim();
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(set);
    const tests: Test[] = [];
    if (hyphen) {
      const lo = comparator('>=', hyphen[1]);
      const hi = comparator('<=', hyphen[2]);
      if (!lo || !hi) return undefined;
      tests.push(lo, hi);
    } else {
      // ">= 20" is written with a space sometimes: glue the operator to its version first.
      const tokens = set.replace(/(>=|<=|~>|[<>=^~])\s+/g, '$1').split(/\s+/).filter(Boolean);
      for (const tok of tokens) {
        const m = /^(>=|<=|~>|[<>=^~]?)(.*)$/.exec(tok)!;
        const t = comparator(m[1], m[2]);
        if (!t) return undefined;
        tests.push(t);
      }
    }
    if (tests.every((t) => t(v))) ok = true;
  }
  return ok;
}

/** Release numbers of a PEP 440 version ("3.11", "3.11.4", "3.12rc1" → [3, 12]). */
function pepRelease(s: string): number[] | undefined {
  const m = /^v?(\d+(?:\.\d+)*)/.exec(s.trim());
  return m ? m[1].split('.').map(Number) : undefined;
}

function pepCmp(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Does `version` satisfy a PEP 440 specifier set (">=3.10,<3.14", "~=3.11", "==3.12.*")?
 * undefined: the specifier could not be read.
 */
export function satisfiesPep440(version: string, spec: string): boolean | undefined {
  const v = pepRelease(version);
  if (!v) return undefined;
  for (const clause of spec.split(',').map((c) => c.trim()).filter(Boolean)) {
    const m = /^(===|~=|==|!=|<=|>=|<|>)\s*(.+)$/.exec(clause);
    if (!m) return undefined;
    const [, op, rawVer] = m;
    const wildcard = rawVer.endsWith('.*');
    const b = pepRelease(wildcard ? rawVer.slice(0, -2) : rawVer);
    if (!b) return undefined;
    const prefixEq = () => b.every((x, i) => (v[i] ?? 0) === x);
    let ok: boolean;
    switch (op) {
      case '==':
      case '===':
        ok = wildcard ? prefixEq() : pepCmp(v, b) === 0;
        break;
      case '!=':
        ok = wildcard ? !prefixEq() : pepCmp(v, b) !== 0;
        break;
      case '~=': {
        // ~=3.11 means >=3.11, ==3.*; ~=3.11.2 means >=3.11.2, ==3.11.*
        if (b.length < 2) return undefined;
        const prefix = b.slice(0, -1);
        ok = pepCmp(v, b) >= 0 && prefix.every((x, i) => (v[i] ?? 0) === x);
        break;
      }
      case '<=':
        ok = pepCmp(v, b) <= 0;
        break;
      case '>=':
        ok = pepCmp(v, b) >= 0;
        break;
      case '<':
        ok = pepCmp(v, b) < 0;
        break;
      default:
        ok = pepCmp(v, b) > 0;
    }
    if (!ok) return false;
  }
  return true;
}
