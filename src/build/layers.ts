// Base layers (base-images/<name>/layer.json): resolved to Debian packages, unpacked, stripped,
// tarred once per content hash and reused by every app that stands on them.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { DebPackage } from '../lock/archive.js';
import { resolveClosure, RUNTIME_EXCLUDES, type Universe } from '../lock/resolve.js';
import { repoRoot } from '../version.js';
import { buildCacheDir } from './cache.js';
import { fetchDeb, fetchDebs } from './debs.js';
import { extractDeb, prepareStaging, stripRootfs, writeCaBundle, writeUserlandEtc, MERGED_USR } from './rootfs.js';
import { writeLayerTar } from './layer-tar.js';
import { run } from './proc.js';
import { tempSibling } from './atomic.js';
import { usageError } from '../types.js';

export interface LayerDefinition {
  name: string;
  description: string;
  packages: string[];
  below: string[];
  vmOnly?: boolean;
}

/** Bump when the way layers are assembled changes, so old cache entries are not reused. */
export const LAYER_FORMAT = 4;

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
    out.push({ def, packages, hash: layerHash(def.name, packages) });
  }
  return out;
}

/** Cache key of a base layer: its name and the exact packages in it. */
export function layerHash(name: string, packages: DebPackage[]): string {
  return createHash('sha256')
    .update(JSON.stringify({ f: LAYER_FORMAT, name, packages: packages.map((p) => [p.name, p.version, p.sha256]) }))
    .digest('hex');
}

/** The definition hash recorded in the lock: a changed layer.json invalidates its pins. */
export function definitionHash(def: Pick<LayerDefinition, 'name' | 'packages'>): string {
  return createHash('sha256').update(JSON.stringify({ name: def.name, packages: [...def.packages].sort() })).digest('hex');
}

/**
 * One image layer: a group of Debian packages from the same source package (as apko groups by
 * origin, as Nix's layered images do), so a security bump replaces only the layers of the
 * sources it touches, and a rebase and a fresh build give the same image.
 */
export interface LayerPart {
  /** e.g. "userland/openssl" or "userland/filesystem" */
  name: string;
  /** The base layer it belongs to. */
  layer: string;
  path: string;
  diffId: string;
  size: number;
  cached: boolean;
  packages: string[];
}

/** Docker's overlay stacks at most ~125 layers: past this many parts, a base layer is one part. */
export const MAX_PARTS = 100;

const partsDir = () => join(buildCacheDir(), 'layers');

/** FILESYSTEM_VERSION: bump when the generated userland files change. */
const FILESYSTEM_VERSION = 1;

export interface PartSpec {
  name: string;
  layer: string;
  packages: DebPackage[];
  key: string;
  /** The generated merged-/usr, /etc and CA bundle layer of userland. */
  filesystem?: { caCertificates: DebPackage | undefined };
}

export function planParts(layers: ResolvedLayer[], epoch: number): PartSpec[] {
  const key = (o: unknown) => createHash('sha256').update(JSON.stringify({ f: LAYER_FORMAT, epoch, o })).digest('hex');
  const bySource = (r: ResolvedLayer) => {
    const groups = new Map<string, DebPackage[]>();
    for (const p of r.packages) groups.set(p.source, [...(groups.get(p.source) ?? []), p]);
    return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  };
  const total = layers.reduce((n, r) => n + bySource(r).length, 1);
  const parts: PartSpec[] = [];
  for (const r of layers) {
    if (r.def.name === 'userland') {
      const ca = r.packages.find((p) => p.name === 'ca-certificates');
      parts.push({ name: 'userland/filesystem', layer: r.def.name, packages: [], key: key({ fs: FILESYSTEM_VERSION, ca: ca?.sha256 ?? null }), filesystem: { caCertificates: ca } });
    }
    const groups = total > MAX_PARTS ? [[r.def.name, r.packages] as [string, DebPackage[]]] : bySource(r);
    for (const [source, pkgs] of groups)
      parts.push({ name: `${r.def.name}/${source}`, layer: r.def.name, packages: pkgs, key: key(pkgs.map((p) => [p.name, p.sha256])) });
  }
  return parts;
}

const inFlight = new Map<string, Promise<LayerPart>>();

/** Build (or reuse) every part of these base layers, bottom first; each part once per process. */
export async function buildLayerParts(layers: ResolvedLayer[], epoch: number, log: (s: string) => void): Promise<LayerPart[]> {
  const specs = planParts(layers, epoch);
  const fresh = specs.filter((s) => !existsSync(partTar(s)));
  if (fresh.length) log(`layers: unpacking ${fresh.length} of ${specs.length} package groups (${fresh.reduce((n, s) => n + s.packages.length, 0)} Debian packages)`);
  await fetchDebs(fresh.flatMap((s) => [...s.packages, ...(s.filesystem?.caCertificates ? [s.filesystem.caCertificates] : [])]));
  const out: LayerPart[] = new Array(specs.length);
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const i = next++;
      const s = specs[i]!;
      const k = `${partsDir()}:${s.key}`;
      let p = inFlight.get(k);
      if (!p) {
        p = buildPart(s, epoch);
        inFlight.set(k, p);
        p.catch(() => inFlight.delete(k));
      }
      out[i] = await p;
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return out;
}

const partTar = (s: PartSpec) => join(partsDir(), `${s.key}.tar`);

/** Is this part already built (for `bulwark plan`)? */
export const partCached = (s: PartSpec) => existsSync(partTar(s)) && existsSync(`${partTar(s)}.json`);

async function buildPart(s: PartSpec, epoch: number): Promise<LayerPart> {
  const dir = partsDir();
  await mkdir(dir, { recursive: true });
  const tar = partTar(s);
  const meta = `${tar}.json`;
  const base = { name: s.name, layer: s.layer, packages: s.packages.map((p) => p.name) };
  if (existsSync(tar) && existsSync(meta)) return { ...JSON.parse(await readFile(meta, 'utf8')), ...base, path: tar, cached: true };
  const staging = await mkdtemp(join(dir, '.part-'));
  try {
    await prepareStaging(staging);
    if (s.filesystem) {
      await writeUserlandEtc(staging);
      if (s.filesystem.caCertificates) {
        const ca = await mkdtemp(join(dir, '.ca-'));
        try {
          await extractDeb(await fetchDeb(s.filesystem.caCertificates), ca);
          await writeCaBundle(staging, ca);
        } finally {
          await rm(ca, { recursive: true, force: true });
        }
      }
      await run('chown', ['-hR', '0:0', staging]);
    } else {
      for (const p of s.packages) await extractDeb(await fetchDeb(p), staging);
      await stripRootfs(staging);
    }
    // Only the filesystem part carries the merged-/usr symlinks; in others they would shadow them.
    const exclude = s.filesystem ? [] : MERGED_USR.map(([l]) => `./${l}`);
    const lf = await writeLayerTar(staging, tempSibling(tar), epoch, exclude);
    await rename(lf.path, tar);
    const info = { diffId: lf.diffId, size: lf.size };
    await writeFile(meta, JSON.stringify(info));
    return { ...info, ...base, path: tar, cached: false };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The digest recorded in labels for a base layer: its parts' diff_ids, in order. */
export function baseLayerDigest(parts: LayerPart[]): string {
  return `sha256:${createHash('sha256').update(parts.map((p) => p.diffId).join('\n')).digest('hex')}`;
}
