// The Site: what `bulwark.hcl` says (DESIGN "The pipeline", 2), validated into plain data.
// No bulwark.hcl means one app in the project folder and defaults everywhere.
import type { Framework } from '../types.js';
import type { Suite } from '../plan/types.js';

/** Targets a site can name in `targets` (the CLI's --target accepts the same). */
export const siteTargets = ['docker', 'qemu', 'aws', 'gcp', 'digitalocean'] as const;
export type SiteTarget = (typeof siteTargets)[number];

/** Frameworks `app { framework = "…" }` can settle on (the detectors' names). */
export const siteFrameworks = ['express', 'django', 'flask', 'static', 'node', 'python'] as const satisfies readonly Framework[];

export const siteSuites = ['trixie', 'bookworm'] as const satisfies readonly Suite[];

/** 1-based lines in bulwark.hcl of an app's settings, for evidence and later messages. */
export interface SiteAppLines {
  block?: number;
  path?: number;
  framework?: number;
  port?: number;
  healthPath?: number;
  domains?: number;
  env?: number;
  secrets?: number;
}

export interface SiteApp {
  /** From the block label ([a-z0-9-]); '' when there is no bulwark.hcl: use the detected name. */
  name: string;
  /** Absolute path of the app folder. */
  path: string;
  framework?: Framework;
  port?: number;
  healthPath?: string;
  /** Host names the proxy serves this app on (lowercase). */
  domains: string[];
  /** Non-secret environment, sorted by name. */
  env: Record<string, string>;
  /** Extra secret environment names, generated at first start like detected secrets; sorted. */
  secrets: string[];
  /** Where each setting was written; absent without bulwark.hcl. */
  lines?: SiteAppLines;
}

export interface Site {
  /** Absolute path of bulwark.hcl, null when there is none. */
  file: string | null;
  /** The folder holding bulwark.hcl, or the app folder. */
  projectDir: string;
  suite?: Suite;
  mirror?: string;
  securityMirror?: string;
  targets?: string[];
  /** ACME directory for apps with domains on VM images (default Let's Encrypt); --acme-directory wins. */
  acmeDirectory?: string;
  /** Contact address of the ACME account; --acme-email wins. */
  acmeEmail?: string;
  apps: SiteApp[];
}
