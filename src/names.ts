// DESIGN "Names": an app's name names the image, the unit, the user and the paths,
// and its numeric uid/gid is derived from that name so data moves between releases.
import { createHash } from 'node:crypto';

/** Lowercase to [a-z0-9-], drop an npm scope, trim dashes. '' when nothing is left. */
export function normalizeAppName(raw: string): string {
  const unscoped = raw.replace(/^@[^/]+\//, '');
  return unscoped
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 48);
}

/**
 * Stable uid/gid for an app: 10000 + (first 32 bits of sha256(name) mod 50000).
 * The range 10000–59999 stays clear of Debian's system (<1000) and user (1000–59999 overlap
 * is avoided on VMs by Bulwark owning the machine) ranges and below 65534 (nobody).
 */
export function appUid(name: string): number {
  const h = createHash('sha256').update(`bulwark-app:${name}`).digest();
  return 10000 + (h.readUInt32BE(0) % 50000);
}

export const appPaths = (name: string) => ({
  code: `/opt/${name}`,
  state: `/var/lib/${name}`,
  image: `bulwark/${name}`,
  volume: `${name}-state`,
  unit: `${name}.service`,
});
