// bulwark.lock: inputs only (DESIGN "The lock"). JSON with sorted keys, one entry per line
// where it matters, so a security bump is a small, readable diff.

export const LOCK_VERSION = 1;
export const LOCK_FILE = 'bulwark.lock';

export interface LockedPackage {
  version: string;
  arch: string;
  /** Index it was resolved from: trixie, trixie-updates or trixie-security. */
  suite: string;
  /** Pool path on the mirror, and the verified sha256 and size of the .deb. */
  filename: string;
  sha256: string;
  size: number;
  /** Source package name and version (SBOM, grouping into image layers, security notices). */
  source: string;
  sourceVersion: string;
  /** Raw Pre-Depends + Depends, kept so a partial update can re-resolve without the archive. */
  depends: string;
}

export interface LockedLayer {
  /** sha256 of base-images/<layer>/layer.json (or of the app's Debian package list). */
  definition: string;
  /** Debian packages in this layer (not in the layers below it), sorted. */
  packages: string[];
}

export interface LockedApp {
  /** App folder relative to the lock file's folder ('.' for a single-app project). */
  path: string;
  /** The layers the app stands on, bottom first (names are keys of `layers`). */
  layers: string[];
  /** The app's dependency lockfile (package-lock.json, yarn.lock, requirements.txt) and its sha256. */
  dependencyLock: { file: string; sha256: string } | null;
}

export interface LockedIndex {
  /** Date: field of the signed InRelease the pins came from. */
  date: string;
  baseUrl: string;
}

export interface BulwarkLock {
  lockVersion: typeof LOCK_VERSION;
  suite: string;
  mirror: string;
  securityMirror: string;
  /** Every timestamp in images: the newest InRelease Date at lock time (reproducible builds). */
  sourceDateEpoch: number;
  indexes: Record<string, LockedIndex>;
  /** Runtime versions, for people reading the lock (also pinned in `packages`). */
  runtimes: Record<string, string>;
  layers: Record<string, LockedLayer>;
  packages: Record<string, LockedPackage>;
  apps: Record<string, LockedApp>;
}
