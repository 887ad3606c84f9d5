// SECURITY-CHECKS E4: which locked Debian packages have a newer version in the suite's
// -security or -updates index, and which layers and apps (images) therefore need a rebuild.
// Pure: the caller fetches the indexes (src/cli/outdated.ts).
import type { DebPackage } from './archive.js';
import { compareDebVersions } from './debversion.js';
import type { BulwarkLock } from './types.js';

export interface OutdatedEntry {
  package: string;
  /** Source package of the locked version (what Debian security advisories name). */
  source: string;
  locked: string;
  available: string;
  /** The index the newer version is in, e.g. trixie-security. */
  suite: string;
  /** Layers whose `packages` hold it, and the apps standing on one of those layers. */
  layers: string[];
  apps: string[];
}

const archMatches = (locked: string, candidate: string) => candidate === locked || candidate === 'all' || locked === 'all';

/**
 * Every locked package for which some index offers a higher version, sorted by package name.
 * On equal versions in several indexes the earlier index wins, so pass -security first.
 */
export function findOutdated(lock: BulwarkLock, indexes: DebPackage[][]): OutdatedEntry[] {
  const candidates = new Map<string, DebPackage[]>();
  for (const idx of indexes)
    for (const p of idx) {
      if (!(p.name in lock.packages)) continue;
      const list = candidates.get(p.name) ?? [];
      list.push(p);
      candidates.set(p.name, list);
    }

  const layersOf = new Map<string, string[]>();
  for (const [layer, def] of Object.entries(lock.layers))
    for (const name of def.packages) layersOf.set(name, [...(layersOf.get(name) ?? []), layer]);

  const out: OutdatedEntry[] = [];
  for (const name of Object.keys(lock.packages).sort()) {
    const pin = lock.packages[name]!;
    let best: DebPackage | undefined;
    for (const p of candidates.get(name) ?? []) {
      if (!archMatches(pin.arch, p.arch)) continue;
      if (compareDebVersions(p.version, best?.version ?? pin.version) > 0) best = p;
    }
    if (!best) continue;
    const layers = [...new Set(layersOf.get(name) ?? [])].sort();
    const apps = Object.entries(lock.apps)
      .filter(([, app]) => app.layers.some((l) => layers.includes(l)))
      .map(([app]) => app)
      .sort();
    out.push({ package: name, source: pin.source, locked: pin.version, available: best.version, suite: best.suite, layers, apps });
  }
  return out;
}

/** App → the outdated packages it carries (what "needs a rebuild, and why" means for E4). */
export function rebuildsByApp(entries: OutdatedEntry[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of entries) for (const app of e.apps) (out[app] ??= []).push(e.package);
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]!.sort()]));
}
