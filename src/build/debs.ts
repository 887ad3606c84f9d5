// The sha256-addressed .deb store: a locked package keeps building after the mirror drops it.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempSibling } from './atomic.js';
import type { DebPackage } from '../lock/archive.js';
import { httpGet, MirrorMissing, sha256hex } from '../lock/archive.js';
import { cacheDir } from './cache.js';
import { envError, workError } from '../types.js';

export const debStoreDir = () => join(cacheDir(), 'debs');

const inFlight = new Map<string, Promise<string>>();

/** Path of the verified .deb in the store, fetching it first when absent (once per process). */
export function fetchDeb(p: DebPackage): Promise<string> {
  let f = inFlight.get(p.sha256);
  if (!f) {
    f = fetchDebOnce(p);
    inFlight.set(p.sha256, f);
    f.catch(() => inFlight.delete(p.sha256));
  }
  return f;
}

async function fetchDebOnce(p: DebPackage): Promise<string> {
  const dir = debStoreDir();
  const path = join(dir, `${p.sha256}.deb`);
  if (existsSync(path)) return path;
  await mkdir(dir, { recursive: true });
  let data: Buffer;
  try {
    data = await httpGet(`${p.baseUrl}/${p.filename}`, `${p.name} ${p.version}`);
  } catch (e) {
    if (e instanceof MirrorMissing)
      throw envError(`${p.name} ${p.version} is pinned in bulwark.lock but is neither in the .deb store (${dir}) nor on ${p.baseUrl} (HTTP ${e.status}): run \`bulwark lock --update\` to pin current versions, or build with --mirror set to a snapshot mirror that still has it (e.g. http://snapshot.debian.org/archive/debian/<date>/)`);
    throw e;
  }
  if (sha256hex(data) !== p.sha256)
    throw workError(`${p.name} ${p.version} from the mirror does not match the sha256 in the signed index; retry, or use another --mirror`);
  // A unique temp name: another Bulwark process may be fetching the same package.
  const tmp = tempSibling(path);
  await writeFile(tmp, data);
  await rename(tmp, path);
  return path;
}

/** Fetch several with bounded parallelism; results in input order. */
export async function fetchDebs(pkgs: DebPackage[], parallel = 6): Promise<string[]> {
  const out: string[] = new Array(pkgs.length);
  let next = 0;
  const worker = async () => {
    while (next < pkgs.length) {
      const i = next++;
      out[i] = await fetchDeb(pkgs[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, pkgs.length) }, worker));
  return out;
}
