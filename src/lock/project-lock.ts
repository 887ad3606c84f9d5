// The project's lock: use bulwark.lock as it is when it covers every app, otherwise resolve
// against the signed archive (keeping existing pins unless told to update) and write it.
// Returns the resolved layers of every app, so planning needs no archive when the lock is good.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AppSpec } from '../types.js';
import { usageError } from '../types.js';
import type { Suite } from '../plan/types.js';
import { loadSuiteRelease, suiteSources, type DebPackage, type SuiteRelease } from './archive.js';
import { buildUniverse, type Universe } from './resolve.js';
import { compareDebVersions } from './debversion.js';
import { LOCK_FILE, LOCK_VERSION, type BulwarkLock, type LockedApp } from './types.js';
import { diffLocks, fromLocked, readLock, serializeLock, toLocked, writeLock, type LockChange } from './lockfile.js';
import { definitionHash, layerHash, loadLayerDefinition, resolveLayers, type LayerDefinition, type ResolvedLayer } from '../build/layers.js';
import { mapRequirements } from '../plan/python-deps.js';

export type UpdatePolicy = 'none' | 'security' | 'all';

export interface LockOptions {
  suite: Suite;
  mirror: string;
  securityMirror: string;
  /** --frozen-lock: fail instead of creating or changing the lock. */
  frozen: boolean;
  update: UpdatePolicy;
  /** Write the lock when it changed (false for `plan`, which decides nothing). */
  write: boolean;
  log?: (s: string) => void;
}

export interface ProjectLock {
  lock: BulwarkLock;
  previous: BulwarkLock | null;
  changes: LockChange[];
  /** True when the lock on disk was created or changed by this call. */
  written: boolean;
  /** Resolved from the archive (false: the lock was used as it is, offline). */
  resolved: boolean;
  layers: Map<string, ResolvedLayer[]>;
}

/** Which base layers an app stands on, bottom first. */
export function layersFor(spec: AppSpec): string[] {
  // Static sites are served by Bulwark's small Node file server.
  return ['userland', spec.runtime.value === 'python' ? 'runtime-python' : 'runtime-node'];
}

export const appPackagesLayer = (app: string) => `app-packages/${app}`;

const DEPENDENCY_LOCKS = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'requirements.txt', 'pyproject.toml'];

export function dependencyLockOf(spec: AppSpec): LockedApp['dependencyLock'] {
  const file = DEPENDENCY_LOCKS.find((f) => existsSync(join(spec.dir, f)));
  if (!file) return null;
  return { file, sha256: createHash('sha256').update(readFileSync(join(spec.dir, file))).digest('hex') };
}

/** Debian packages a Python app needs on top of its runtime; one line with the fix when Debian lacks one. */
export function pythonAppPackages(spec: AppSpec, u: Universe, suite: string): string[] {
  if (!spec.python) return [];
  const r = mapRequirements(spec.python.requirements, u, suite);
  if (r.problems.length) throw usageError(r.problems[0]!);
  // Bulwark serves Python apps with gunicorn, and Django's static files with WhiteNoise.
  return [...new Set([...r.packages, 'python3-gunicorn', ...(spec.django ? ['python3-whitenoise'] : [])])].sort();
}

interface AppInput {
  spec: AppSpec;
  defs: LayerDefinition[];
  path: string;
  dependencyLock: LockedApp['dependencyLock'];
  layerNames: string[];
}

function appInputs(projectDir: string, specs: AppSpec[]): AppInput[] {
  return specs.map((spec) => {
    const defs = layersFor(spec).map(loadLayerDefinition);
    const layerNames = [...defs.map((d) => d.name), ...(spec.runtime.value === 'python' ? [appPackagesLayer(spec.name)] : [])];
    return { spec, defs, path: relative(projectDir, spec.dir) || '.', dependencyLock: dependencyLockOf(spec), layerNames };
  });
}

/** Why the lock cannot be used as it is ('' when it can). */
export function staleness(lock: BulwarkLock, apps: AppInput[], opts: Pick<LockOptions, 'suite' | 'mirror' | 'securityMirror'>): string {
  if (lock.suite !== opts.suite) return `it is for Debian ${lock.suite}, not ${opts.suite}`;
  if (lock.mirror !== opts.mirror || lock.securityMirror !== opts.securityMirror) return 'its mirrors differ from the ones asked for';
  for (const a of apps) {
    const la = lock.apps[a.spec.name];
    if (!la) return `it has no entry for app ${a.spec.name}`;
    if (la.path !== a.path) return `app ${a.spec.name} moved from ${la.path} to ${a.path}`;
    if (JSON.stringify(la.dependencyLock) !== JSON.stringify(a.dependencyLock)) return `${a.spec.name}'s ${a.dependencyLock?.file ?? la.dependencyLock?.file ?? 'dependency lock'} changed`;
    if (JSON.stringify(la.layers) !== JSON.stringify(a.layerNames)) return `app ${a.spec.name} now stands on ${a.layerNames.join(', ')}`;
    for (const d of a.defs) if (lock.layers[d.name]?.definition !== definitionHash(d)) return `base-images/${d.name}/layer.json changed`;
  }
  return '';
}

/** The live archive, with the lock's pins kept where the policy says so. */
export function pinnedUniverse(prev: BulwarkLock | null, live: Universe, policy: UpdatePolicy): Universe {
  if (!prev || policy === 'all') return live;
  const byName = new Map(live.byName);
  for (const name of Object.keys(prev.packages)) {
    const cur = live.byName.get(name);
    const locked = fromLocked(prev, name);
    if (policy === 'security' && cur && cur.suite.endsWith('-security') && compareDebVersions(cur.version, locked.version) > 0) continue;
    byName.set(name, { ...locked, provides: cur?.provides ?? '' });
  }
  return { byName, providers: live.providers };
}

function layersFromLock(lock: BulwarkLock, a: AppInput): ResolvedLayer[] {
  return a.layerNames.map((name) => {
    const def = a.defs.find((d) => d.name === name) ?? { name: 'app-packages', description: `Debian packages of ${a.spec.name}`, packages: lock.layers[name]!.packages, below: [] };
    const packages: DebPackage[] = lock.layers[name]!.packages.map((n) => fromLocked(lock, n));
    return { def, packages, hash: layerHash(def.name, packages) };
  });
}

export async function resolveProjectLock(projectDir: string, specs: AppSpec[], opts: LockOptions): Promise<ProjectLock> {
  const previous = readLock(projectDir);
  const apps = appInputs(projectDir, specs);
  const why = previous ? staleness(previous, apps, opts) : `there is no ${LOCK_FILE} in ${projectDir}`;
  if (previous && !why && opts.update === 'none') {
    const layers = new Map(apps.map((a) => [a.spec.name, layersFromLock(previous, a)]));
    return { lock: previous, previous, changes: [], written: false, resolved: false, layers };
  }
  if (opts.frozen)
    throw usageError(opts.update !== 'none' ? '--frozen-lock cannot be combined with an update' : `--frozen-lock: ${LOCK_FILE} cannot be used as it is: ${why}; run \`bulwark lock\` and commit ${LOCK_FILE}`);
  opts.log?.(previous ? `lock: ${opts.update !== 'none' ? `updating (${opts.update})` : `re-resolving: ${why}`}` : 'lock: resolving every layer against the Debian archive');
  const sources = suiteSources(opts.suite, opts.mirror, opts.securityMirror);
  const load = (list: typeof sources) => Promise.all(list.map((s) => loadSuiteRelease(s.baseUrl, s.suite)));
  // A security update of a lock that is otherwise current needs only the small -updates and
  // -security indexes on top of the pins; the suite's full index is read only if a new
  // dependency appears (a pin kept as it is needs no index).
  const light = opts.update === 'security' && previous !== null && !why;
  let releases = await load(light ? sources.slice(1) : sources);
  let attempt: { layers: Map<string, ResolvedLayer[]>; lock: BulwarkLock };
  try {
    attempt = resolveAll(apps, pinnedUniverse(previous, buildUniverse(releases.map((r) => r.packages)), opts.update), releases, previous, opts);
  } catch (e) {
    if (!light) throw e;
    releases = await load(sources);
    attempt = resolveAll(apps, pinnedUniverse(previous, buildUniverse(releases.map((r) => r.packages)), opts.update), releases, previous, opts);
  }
  const { layers, lock } = attempt;
  // Keep entries of apps not built this time (another app of the same site), so one app's
  // build does not drop the others' pins.
  if (previous)
    for (const [name, la] of Object.entries(previous.apps))
      if (!lock.apps[name]) {
        lock.apps[name] = la;
        for (const l of la.layers) {
          lock.layers[l] ??= previous.layers[l]!;
          for (const p of previous.layers[l]?.packages ?? []) lock.packages[p] ??= previous.packages[p]!;
        }
      }
  for (const [rt, pkg] of [['node', 'nodejs'], ['python', 'python3']] as const) if (lock.packages[pkg]) lock.runtimes[rt] = lock.packages[pkg]!.version;
  const changes = diffLocks(previous, lock);
  const differs = !previous || serializeLock(previous) !== serializeLock(lock);
  if (differs && opts.write) await writeLock(projectDir, lock);
  return { lock, previous, changes, written: differs && opts.write, resolved: true, layers };
}

function resolveAll(apps: AppInput[], u: Universe, releases: SuiteRelease[], previous: BulwarkLock | null, opts: LockOptions): { layers: Map<string, ResolvedLayer[]>; lock: BulwarkLock } {
  const layers = new Map<string, ResolvedLayer[]>();
  const indexes: BulwarkLock['indexes'] = { ...(previous?.indexes ?? {}) };
  for (const r of releases) indexes[r.suite] = { date: new Date(r.date * 1000).toISOString(), baseUrl: r.baseUrl };
  const lock: BulwarkLock = {
    lockVersion: LOCK_VERSION,
    suite: opts.suite,
    mirror: opts.mirror,
    securityMirror: opts.securityMirror,
    // Kept across updates: a new epoch would change every layer, and a security bump must
    // replace only the layers it touches.
    sourceDateEpoch: previous?.sourceDateEpoch ?? Math.max(...releases.map((r) => r.date)),
    indexes,
    runtimes: {},
    layers: {},
    packages: {},
    apps: {},
  };
  for (const a of apps) {
    const appPackages = pythonAppPackages(a.spec, u, opts.suite);
    const resolved = resolveLayers(u, a.defs, appPackages.length ? [{ name: 'app-packages', packages: appPackages }] : []);
    layers.set(a.spec.name, resolved);
    for (const [i, r] of resolved.entries()) {
      const key = a.layerNames[i]!;
      lock.layers[key] = { definition: definitionHash(r.def), packages: r.packages.map((p) => p.name) };
      for (const p of r.packages) lock.packages[p.name] = toLocked(p);
    }
    lock.apps[a.spec.name] = { path: a.path, layers: a.layerNames, dependencyLock: a.dependencyLock };
  }
  return { layers, lock };
}
