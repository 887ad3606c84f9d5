// Built layer tars kept by content key under the build cache (--no-cache uses a fresh one):
// app code layers (app-layers/), dependency layers (app-deps/) and Django's collected static files (static/).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCacheDir } from './cache.js';
import { tempSibling } from './atomic.js';
import { writeLayerTar, type LayerFile } from './layer-tar.js';

export type LayerCacheKind = 'app-layers' | 'app-deps' | 'static';

export async function readCachedLayer(kind: LayerCacheKind, key: string): Promise<LayerFile | null> {
  const tar = join(buildCacheDir(), kind, `${key}.tar`);
  if (!existsSync(tar) || !existsSync(`${tar}.json`)) return null;
  return { ...JSON.parse(await readFile(`${tar}.json`, 'utf8')), path: tar };
}

/** Tar `root` into the cache under `key` (written aside, then renamed: never half a layer). */
export async function writeCachedLayer(kind: LayerCacheKind, key: string, root: string, epoch: number): Promise<LayerFile> {
  const dir = join(buildCacheDir(), kind);
  await mkdir(dir, { recursive: true });
  const tar = join(dir, `${key}.tar`);
  const lf = await writeLayerTar(root, tempSibling(tar), epoch);
  await rename(lf.path, tar);
  await writeFile(`${tar}.json`, JSON.stringify({ diffId: lf.diffId, size: lf.size }));
  return { ...lf, path: tar };
}
