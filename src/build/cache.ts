// Where Bulwark keeps what it can reuse across builds: Debian indexes, the sha256-addressed
// .deb store, built base layers. BULWARK_CACHE overrides; root uses /var/cache/bulwark.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  if (process.env.BULWARK_CACHE) return process.env.BULWARK_CACHE;
  if (process.getuid?.() === 0) return '/var/cache/bulwark';
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bulwark');
}
