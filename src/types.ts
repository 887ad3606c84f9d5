// Plain data that flows between Bulwark's stages (see DESIGN.md "The pipeline").
// Every stage takes and returns these types; nothing here does I/O.

/** Where a detected fact came from, so `bulwark detect` can explain itself. */
export interface Evidence {
  file: string; // path relative to the app folder
  line?: number; // 1-based
  note?: string;
}

/** A detected value together with the evidence for it. */
export interface Fact<T> {
  value: T;
  evidence: Evidence[];
}

export type Framework = 'express' | 'django' | 'flask' | 'static' | 'node' | 'python';
export type Runtime = 'node' | 'python' | 'static';

export interface Secret {
  /** Environment variable the app reads, e.g. SECRET_KEY or SESSION_SECRET. */
  env: string;
  evidence: Evidence[];
}

export interface WritablePath {
  /** Path relative to the app folder that the app writes (a file or a dir). */
  path: string;
  kind: 'file' | 'dir';
  /** Why: sqlite, gitignored-dir, media-root, … */
  reason: string;
  evidence: Evidence[];
}

/** How the app is started, as argv (exec form: no shell in the image). */
export interface StartCommand {
  argv: string[];
  /** How the port reaches the app. */
  portVia: 'env' | 'gunicorn-bind' | 'none';
}

export interface PythonRequirement {
  name: string; // as written in requirements.txt
  spec: string; // version specifier, may be ''
  evidence: Evidence[];
}

export interface AppSpec {
  /** Name per DESIGN "Names": [a-z0-9-]. */
  name: string;
  /** Absolute path of the app folder. */
  dir: string;
  framework: Fact<Framework>;
  runtime: Fact<Runtime>;
  /** Requested runtime version constraint (engines, .nvmrc, .python-version); '' when none. */
  runtimeVersion: Fact<string>;
  /** Package manager for dependencies. */
  packageManager: Fact<'npm' | 'yarn' | 'pip' | 'none'>;
  /** Commands run at build time inside the build container (argv form). */
  install: Fact<string[][]>;
  build: Fact<string[][]>;
  start: Fact<StartCommand>;
  port: Fact<number>;
  healthPath: Fact<string>;
  staticDirs: Fact<string[]>;
  writable: WritablePath[];
  secrets: Secret[];
  /** Django only: dotted settings module, wsgi module, and the project package. */
  django?: { settingsModule: string; wsgiModule: string; settingsFile: string };
  /** Flask / generic python: "module:callable". */
  wsgiEntry?: Fact<string>;
  python?: { requirements: PythonRequirement[] };
}

/** Error with the fix in it; `code` is the process exit code (DESIGN "CLI"). */
export class BulwarkError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3 = 1,
  ) {
    super(message);
    this.name = 'BulwarkError';
  }
}
export const usageError = (msg: string) => new BulwarkError(msg, 2);
export const envError = (msg: string) => new BulwarkError(msg, 3);
export const workError = (msg: string) => new BulwarkError(msg, 1);

export type ArtifactKind = 'docker-image' | 'qcow2' | 'raw' | 'ami' | 'gcp-image' | 'do-snapshot';

/** One entry of `build --json` and `.bulwark/artifacts.json` (schemaVersion 1). */
export interface Artifact {
  app: string;
  target: string;
  kind: ArtifactKind;
  id: string;
  tags: string[];
  path?: string;
  sha256?: string;
  runConfig?: string;
  port: number;
  stateVolume: string;
  healthPath: string;
  /** CycloneDX SBOM of the image (absolute path); its sha256 is in the image label dev.bulwark.sbom. */
  sbom?: string;
  /** Base layer digests (sha256 of each layer's uncompressed tar) by layer name. */
  baseLayers?: Record<string, string>;
  builtAt?: string;
  /** VM disks served without a domain: the internal CA's root certificate that verifies them. */
  caCert?: string;
}

export interface ArtifactManifest {
  schemaVersion: 1;
  artifacts: Artifact[];
}
