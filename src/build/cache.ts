// Where Bulwark keeps what it can reuse across builds: Debian indexes, the sha256-addressed
// .deb store, built layers. BULWARK_CACHE overrides; root uses /var/cache/bulwark.
// `--no-cache` gives one run a fresh directory for everything except the .deb store and the
// signed indexes (both verified by sha256, so reusing them cannot change a result).
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  if (process.env.BULWARK_CACHE) return process.env.BULWARK_CACHE;
  if (process.getuid?.() === 0) return '/var/cache/bulwark';
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bulwark');
}

let freshBuildCache: string | null = null;

/** --no-cache: built layers go to `dir` for this run; null restores the shared cache. */
export function useFreshBuildCache(dir: string | null): void {
  freshBuildCache = dir;
}

export const noCache = () => freshBuildCache !== null;

/** Built layers, app layers and dependency layers. */
export const buildCacheDir = () => freshBuildCache ?? cacheDir();
