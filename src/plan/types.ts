// The Plan: plain data printed by `bulwark plan`, rendered to files, executed by the builder.
import type { AppSpec } from '../types.js';

export type Suite = 'trixie' | 'bookworm';

/** A base layer (base-images/<name>) resolved to Debian packages. */
export interface LayerPlan {
  name: string; // userland, runtime-node, runtime-python, tls, host
  packages: string[]; // top-level Debian packages requested (dependencies resolved at build)
  /** Content hash over the definition and its inputs: the cache key. */
  hash: string;
}

export interface AppPlan {
  spec: AppSpec;
  uid: number;
  /** bulwark/<app> */
  image: string;
  /** Docker volume name for /var/lib/<app>. */
  stateVolume: string;
  /** Layers under the app, bottom first. */
  layers: LayerPlan[];
  /** Extra Debian packages the app needs at run time (Python deps from Debian). */
  appPackages: string[];
  /** Hash of the app's own inputs (source, spec, environment), without the layers under it. */
  appHash: string;
  /** Content hash of the app's inputs and its layers: the image tag. */
  contentHash: string;
  /** Environment baked into the image config (no secrets). */
  env: Record<string, string>;
}

export interface Plan {
  bulwarkVersion: string;
  /** Folder holding bulwark.hcl, or the app folder. */
  projectDir: string;
  /** <projectDir>/.bulwark/build */
  buildDir: string;
  suite: Suite;
  mirror: string; // Debian mirror URL
  securityMirror: string; // Debian security mirror URL
  /** SOURCE_DATE_EPOCH used for every timestamp in generated artifacts. */
  sourceDateEpoch: number;
  apps: AppPlan[];
  targets: string[]; // docker, qemu, aws, gcp, digitalocean
}
