// Dependency closure over Debian Packages indexes, distroless-style: no maintainer scripts run,
// and packages that only matter to a system with a shell and dpkg are left out on purpose.
import type { DebPackage } from './archive.js';
import { compareDebVersions, satisfies } from './debversion.js';
import { workError } from '../types.js';

export interface Universe {
  byName: Map<string, DebPackage>;
  providers: Map<string, string[]>;
}

/** Highest version of each package across the suite, -updates and -security indexes. */
export function buildUniverse(indexes: DebPackage[][], arch = 'amd64'): Universe {
  const byName = new Map<string, DebPackage>();
  for (const idx of indexes)
    for (const p of idx) {
      if (p.arch !== arch && p.arch !== 'all') continue;
      const cur = byName.get(p.name);
      if (!cur || compareDebVersions(p.version, cur.version) > 0) byName.set(p.name, p);
    }
  const providers = new Map<string, string[]>();
  for (const p of [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)))
    for (const prov of p.provides.split(',')) {
      const name = prov.trim().split(/\s/)[0];
      if (!name) continue;
      const list = providers.get(name) ?? [];
      list.push(p.name);
      providers.set(name, list);
    }
  return { byName, providers };
}

interface Relation {
  name: string;
  op?: string;
  version?: string;
}

export function parseDepends(field: string): Relation[][] {
  if (!field.trim()) return [];
  return field.split(',').map((group) =>
    group.split('|').map((alt) => {
      const m = alt.trim().match(/^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9]+)?\s*(?:\(\s*([<>=]+)\s*([^)\s]+)\s*\))?/);
      if (!m) throw workError(`cannot parse dependency "${alt.trim()}"`);
      return { name: m[1]!, op: m[2], version: m[3] };
    }),
  );
}

/**
 * Packages never put into a Bulwark runtime layer: shells, dpkg/apt and what only their
 * maintainer scripts need. Dependencies on them are treated as satisfied.
 */
export const RUNTIME_EXCLUDES = [
  'adduser', 'apt', 'awk', 'base-passwd', 'bash', 'coreutils', 'dash', 'debconf', 'debconf-2.0', 'debianutils', 'diffutils',
  'dpkg', 'findutils', 'grep', 'gzip', 'init-system-helpers', 'libc-bin', 'login', 'mawk', 'ncurses-bin', 'openssl',
  'passwd', 'perl-base', 'readline-common', 'sed', 'sensible-utils', 'tar', 'usr-is-merged', 'util-linux',
  'python3-pip', 'python3-setuptools', 'nodejs-doc', 'node-corepack', 'npm',
];

export function resolveClosure(u: Universe, roots: string[], opts: { exclude?: Iterable<string>; have?: Iterable<string> } = {}): DebPackage[] {
  const exclude = new Set(opts.exclude ?? []);
  const have = new Set(opts.have ?? []);
  const chosen = new Map<string, DebPackage>();
  const queue: string[] = [];
  const pick = (name: string, why: string) => {
    if (chosen.has(name) || have.has(name)) return;
    const p = u.byName.get(name);
    if (!p) throw workError(`Debian package ${name} (needed by ${why}) is not in the archive for this suite`);
    chosen.set(name, p);
    queue.push(name);
  };
  for (const r of roots) pick(r, 'the layer definition');
  while (queue.length) {
    const p = chosen.get(queue.shift()!)!;
    for (const group of parseDepends(p.depends)) {
      const ok = (rel: Relation) =>
        exclude.has(rel.name) || have.has(rel.name) || (chosen.has(rel.name) && (!rel.op || satisfies(chosen.get(rel.name)!.version, rel.op, rel.version!)));
      if (group.some(ok)) continue;
      const viaProviders = (rel: Relation) => (u.providers.get(rel.name) ?? []).find((n) => chosen.has(n) || have.has(n) || exclude.has(n));
      if (group.some((rel) => !rel.op && viaProviders(rel))) continue;
      const real = group.find((rel) => u.byName.has(rel.name));
      if (real) {
        pick(real.name, p.name);
        continue;
      }
      const virt = group.map((rel) => u.providers.get(rel.name)?.[0]).find(Boolean);
      if (virt) {
        pick(virt, p.name);
        continue;
      }
      throw workError(`cannot satisfy "${group.map((r) => r.name).join(' | ')}" for Debian package ${p.name}`);
    }
  }
  return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
}
