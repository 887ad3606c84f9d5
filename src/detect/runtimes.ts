// The runtimes each Debian suite ships, and the check that the app's requested version fits.
// Bulwark installs Node and Python from Debian (DESIGN "Layers"), so the suite decides the version:
// a constraint the suite cannot meet is a configuration error (exit 2), caught before any build.
import { BulwarkError, type Evidence } from '../types.js';
import type { Suite } from '../plan/types.js';
import type { DetectContext } from './context.js';
import { satisfiesPep440, satisfiesSemver } from './version-ranges.js';

/** yarn: the major version of Debian's yarnpkg (trixie ships Yarn 4 "berry", bookworm Yarn 1). */
export const suiteRuntimes: Record<Suite, { node: string; python: string; yarn: 1 | 4 }> = {
  trixie: { node: '20.19.2', python: '3.13.5', yarn: 4 },
  bookworm: { node: '18.19.0', python: '3.11.2', yarn: 1 },
};

export const suites = Object.keys(suiteRuntimes) as Suite[];

/** nvm's LTS code names, so `.nvmrc` with "lts/iron" can be checked too. */
const nodeLts: Record<string, number> = {
  argon: 4, boron: 6, carbon: 8, dubnium: 10, erbium: 12, fermium: 14,
  gallium: 16, hydrogen: 18, iron: 20, jod: 22, krypton: 24,
};

/** Where a version request was written and how to read it. */
export interface VersionRequest {
  /** What the user wrote it as: engines.node, .nvmrc, .python-version, runtime.txt, requires-python. */
  label: string;
  value: string;
  /**
   * semver: npm range. pep440: specifier set. node-major: .nvmrc (a dev pin: only its major is held
   * against Debian's). python-minor: .python-version / runtime.txt (only X.Y is held against Debian's).
   */
  kind: 'semver' | 'pep440' | 'node-major' | 'python-minor';
  evidence: Evidence;
}

type RuntimeName = 'node' | 'python';

/** true/false when checked, a reason string when the request cannot be read. */
function fits(version: string, req: VersionRequest): boolean | string {
  const v = req.value.trim();
  switch (req.kind) {
    case 'semver':
      return satisfiesSemver(version, v) ?? 'not a range Bulwark can read';
    case 'pep440':
      return satisfiesPep440(version, v) ?? 'not a specifier Bulwark can read';
    case 'node-major': {
      const lts = /^lts\/(.+)$/i.exec(v);
      if (lts) {
        const major = nodeLts[lts[1].toLowerCase()];
        return major === undefined ? 'no fixed major version' : satisfiesSemver(version, String(major))!;
      }
      const m = /^v?(\d+)(\.|$)/.exec(v);
      return m ? satisfiesSemver(version, m[1])! : 'no fixed major version';
    }
    case 'python-minor': {
      const m = /^(?:python-?)?(\d+)\.(\d+)/i.exec(v);
      return m ? satisfiesPep440(version, `==${m[1]}.${m[2]}.*`)! : 'no fixed Python version';
    }
  }
}

const pretty = (r: RuntimeName) => (r === 'node' ? 'Node' : 'Python');

/**
 * Throw a configuration error when the suite's runtime does not fit the request; otherwise return
 * the note to attach to the evidence (what Debian ships, or why the request was not checked).
 */
export function checkRuntimeVersion(ctx: DetectContext, runtime: RuntimeName, req: VersionRequest): string {
  const shipped = suiteRuntimes[ctx.suite][runtime];
  const ok = fits(shipped, req);
  if (typeof ok === 'string') return `${ok}; not checked (Debian ${ctx.suite} ships ${pretty(runtime)} ${shipped})`;
  if (ok) return `Debian ${ctx.suite} ships ${pretty(runtime)} ${shipped}`;
  const others = suites.filter((s) => s !== ctx.suite && fits(suiteRuntimes[s][runtime], req) === true);
  const fix = others.length
    ? `relax ${req.label} or choose ${others.map((s) => `--suite ${s} (${pretty(runtime)} ${suiteRuntimes[s][runtime]})`).join(' or ')}`
    : `relax ${req.label} (${suites.map((s) => `${s} ships ${suiteRuntimes[s][runtime]}`).join(', ')})`;
  throw new BulwarkError(
    `${ctx.where(req.evidence.file, req.evidence.line)}: ${req.label} "${req.value}" is not met by ${pretty(runtime)} ${shipped}, which Debian ${ctx.suite} ships; ${fix}`,
    2,
  );
}

/** Check every request; the first one becomes the app's runtimeVersion fact. */
export function runtimeVersionFact(ctx: DetectContext, runtime: RuntimeName, reqs: VersionRequest[], defaultFile: string) {
  const evidence: Evidence[] = [];
  for (const r of reqs) evidence.push({ ...r.evidence, note: `${r.label} "${r.value}": ${checkRuntimeVersion(ctx, runtime, r)}` });
  if (!reqs.length) {
    evidence.push({ file: defaultFile, note: `no version requested: Debian ${ctx.suite}'s ${pretty(runtime)} ${suiteRuntimes[ctx.suite][runtime]}` });
  }
  // runtime.txt spells the version python-3.12.1; the fact holds the version itself.
  return { value: reqs[0]?.value.trim().replace(/^python-/i, '') ?? '', evidence };
}
