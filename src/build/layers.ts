// Base layers (base-images/<name>/layer.json): resolved to Debian packages, unpacked, stripped,
// tarred once per content hash and reused by every app that stands on them.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { DebPackage } from '../lock/archive.js';
import { resolveClosure, RUNTIME_EXCLUDES, type Universe } from '../lock/resolve.js';
import { repoRoot } from '../version.js';
import { cacheDir } from './cache.js';
import { fetchDebs } from './debs.js';
import { extractDeb, prepareStaging, stripRootfs, writeCaBundle, writeUserlandEtc, MERGED_USR } from './rootfs.js';
import { writeLayerTar, type LayerFile } from './layer-tar.js';
import { usageError } from '../types.js';

export interface LayerDefinition {
  name: string;
  description: string;
  packages: string[];
  below: string[];
  vmOnly?: boolean;
}

/** Bump when the way layers are assembled changes, so old cache entries are not reused. */
export const LAYER_FORMAT = 2;

export function loadLayerDefinition(name: string): LayerDefinition {
  const file = join(repoRoot, 'base-images', name, 'layer.json');
  if (!existsSync(file)) throw usageError(`unknown base layer '${name}': expected ${file}`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

export interface ResolvedLayer {
  def: LayerDefinition;
  packages: DebPackage[];
  /** Cache key: definition, suite and every package's sha256. */
  hash: string;
}

/** Resolve layers bottom-up: each layer holds only what the layers below it lack. */
export function resolveLayers(u: Universe, defs: LayerDefinition[], extra: Array<{ name: string; packages: string[] }> = []): ResolvedLayer[] {
  const have = new Set<string>();
  const out: ResolvedLayer[] = [];
  for (const def of [...defs, ...extra.map((e) => ({ name: e.name, description: '', packages: e.packages, below: [] }))]) {
    const packages = def.packages.length ? resolveClosure(u, def.packages, { exclude: RUNTIME_EXCLUDES, have }) : [];
    for (const p of packages) have.add(p.name);
    const hash = createHash('sha256')
      .update(JSON.stringify({ f: LAYER_FORMAT, name: def.name, packages: packages.map((p) => [p.name, p.version, p.sha256]) }))
      .digest('hex');
    out.push({ def, packages, hash });
  }
  return out;
}

const inFlight = new Map<string, Promise<LayerFile & { cached: boolean }>>();

/** Build (or reuse) one base layer tar, once per process even when apps build in parallel. */
export function buildBaseLayer(layer: ResolvedLayer, epoch: number, log: (s: string) => void): Promise<LayerFile & { cached: boolean }> {
  const key = `${layer.hash}-${epoch}`;
  let p = inFlight.get(key);
  if (!p) {
    p = buildBaseLayerOnce(layer, epoch, log);
    inFlight.set(key, p);
    p.catch(() => inFlight.delete(key));
  }
  return p;
}

async function buildBaseLayerOnce(layer: ResolvedLayer, epoch: number, log: (s: string) => void): Promise<LayerFile & { cached: boolean }> {
  const dir = join(cacheDir(), 'layers');
  await mkdir(dir, { recursive: true });
  const key = `${layer.def.name}-${layer.hash.slice(0, 24)}-${epoch}`;
  const tar = join(dir, `${key}.tar`);
  const meta = join(dir, `${key}.json`);
  if (existsSync(tar) && existsSync(meta)) return { ...JSON.parse(await readFile(meta, 'utf8')), path: tar, cached: true };
  log(`layer ${layer.def.name}: unpacking ${layer.packages.length} Debian packages`);
  const debs = await fetchDebs(layer.packages);
  const staging = await mkdtemp(join(dir, `.${layer.def.name}-`));
  try {
    await prepareStaging(staging);
    for (const d of debs) await extractDeb(d, staging);
    await stripRootfs(staging);
    if (layer.def.name === 'userland') {
      await writeCaBundle(staging);
      await writeUserlandEtc(staging);
    }
    // Only the bottom layer carries the merged-/usr symlinks; the others would shadow them.
    const exclude = layer.def.name === 'userland' ? [] : MERGED_USR.map(([l]) => `./${l}`);
    const tmpTar = `${tar}.${process.pid}.tmp`;
    const lf = await writeLayerTar(staging, tmpTar, epoch, exclude);
    await rename(tmpTar, tar);
    const info = { diffId: lf.diffId, size: lf.size };
    await writeFile(meta, JSON.stringify(info));
    return { ...info, path: tar, cached: false };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
