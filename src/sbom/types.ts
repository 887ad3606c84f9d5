// What an image's SBOM is made of (SECURITY-CHECKS E1): plain data gathered from the lock,
// the app's dependency lockfile and the Python dependency plan.

export interface SbomInput {
  /** App name (DESIGN "Names"); the image is bulwark/<app>. */
  app: string;
  /** The app image's content hash. */
  version: string;
  /** ISO 8601 time of the build inputs (SOURCE_DATE_EPOCH), never the wall clock. */
  created: string;
  bulwarkVersion: string;
  debian: Array<{ name: string; version: string; arch: string; source: string; sourceVersion: string; sha256: string; suite: string; layer: string }>;
  npm: Array<{ name: string; version: string; integrity?: string; resolved?: string; dev?: boolean }>;
  python: Array<{ name: string; version: string; debianPackage?: string }>;
}
