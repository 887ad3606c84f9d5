// requirements.txt → Debian packages. Debian's python3-<name> is used when its version meets
// the specifier; otherwise the build stops with the requirement and what Debian offers
// (PyPI is a fallback only where it can be reached, which Bulwark does not assume).
import type { PythonRequirement } from '../types.js';
import type { Universe } from '../lock/resolve.js';

/** Names whose Debian package is not python3-<normalised name>. */
const DEBIAN_NAMES: Record<string, string> = {
  pillow: 'python3-pil',
  pyyaml: 'python3-yaml',
  'psycopg2-binary': 'python3-psycopg2',
  'python-dateutil': 'python3-dateutil',
  'beautifulsoup4': 'python3-bs4',
  'scikit-learn': 'python3-sklearn',
  'djangorestframework': 'python3-djangorestframework',
  'python-dotenv': 'python3-dotenv',
  'pyjwt': 'python3-jwt',
};

export const normalizePyName = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');

export function debianNameFor(req: string): string {
  const n = normalizePyName(req);
  return DEBIAN_NAMES[n] ?? `python3-${n}`;
}

/** Upstream part of a Debian version: no epoch, no revision, no +dfsg/~ suffixes. */
export function upstreamOf(debVersion: string): string {
  return debVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '').replace(/[+~].*$/, '');
}

const parts = (v: string) => v.split('.').map((x) => parseInt(x, 10) || 0);
function cmp(a: string, b: string): number {
  const pa = parts(a),
    pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** PEP 440 specifier check, for the release-number subset that requirements files use. */
export function pep440Satisfies(version: string, spec: string): boolean {
  for (const clause of spec.split(',').map((c) => c.trim()).filter(Boolean)) {
    const m = clause.match(/^(===|==|!=|~=|>=|<=|>|<)\s*([0-9][0-9a-zA-Z.*+!-]*)$/);
    if (!m) return false;
    const [, op, ref] = m as unknown as [string, string, string];
    if (ref.endsWith('.*')) {
      const prefix = ref.slice(0, -2);
      const match = version === prefix || version.startsWith(prefix + '.');
      if ((op === '==') !== match) return false;
      continue;
    }
    const c = cmp(version, ref);
    const ok =
      op === '==' || op === '===' ? c === 0
      : op === '!=' ? c !== 0
      : op === '>=' ? c >= 0
      : op === '<=' ? c <= 0
      : op === '>' ? c > 0
      : op === '<' ? c < 0
      : /* ~= */ c >= 0 && cmp(version, bumpCompatible(ref)) < 0;
    if (!ok) return false;
  }
  return true;
}

function bumpCompatible(ref: string): string {
  const p = parts(ref);
  p.pop();
  p[p.length - 1] = (p[p.length - 1] ?? 0) + 1;
  return p.join('.');
}

export interface PythonDepsResult {
  packages: string[];
  problems: string[]; // one line each: requirement, what Debian offers, the fix
}

export function mapRequirements(reqs: PythonRequirement[], u: Universe, suite: string): PythonDepsResult {
  const packages = new Set<string>();
  const problems: string[] = [];
  for (const r of reqs) {
    const where = r.evidence[0] ? `${r.evidence[0].file}${r.evidence[0].line ? ':' + r.evidence[0].line : ''}: ` : '';
    const deb = debianNameFor(r.name);
    const p = u.byName.get(deb);
    if (!p) {
      problems.push(`${where}${r.name}${r.spec} has no Debian package in ${suite} (looked for ${deb}) and PyPI cannot be reached; remove it or vendor it into the app`);
      continue;
    }
    const up = upstreamOf(p.version);
    if (r.spec && !pep440Satisfies(up, r.spec)) {
      problems.push(`${where}${r.name}${r.spec} is not met by Debian ${suite}'s ${deb} ${up}, and PyPI cannot be reached; relax the requirement to allow ${up}`);
      continue;
    }
    packages.add(deb);
  }
  return { packages: [...packages].sort(), problems };
}
