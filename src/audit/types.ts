// Plain data for `bulwark audit` (SECURITY-CHECKS.md section A): what the checks read and what they report.
// Checks are pure functions over these types, so unit tests need neither Docker nor files.

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  /** Check id from SECURITY-CHECKS.md (A1…A15); kept stable in output. */
  id: string;
  title: string;
  status: CheckStatus;
  evidence: string;
}

export interface AuditReport {
  /** What the user asked to audit (image reference or app folder). */
  target: string;
  /** Resolved image ID (sha256:…). */
  image: string;
  /** Compose file the run-side checks read, when there was one. */
  runConfig?: string;
  results: CheckResult[];
  /** Percentage of non-skipped checks that pass; a warning counts half. */
  score: number;
  passed: number;
  failed: number;
}

export type FileType = 'file' | 'directory' | 'symlink' | 'link' | 'other';

/** One entry of an image filesystem as a layer tar records it. */
export interface ImageFile {
  /** Absolute, normalised path: "/usr/bin/env". */
  path: string;
  type: FileType;
  /** Full mode including setuid (0o4000), setgid (0o2000) and sticky (0o1000) bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Symlink target as written, or the absolute path a hardlink points to. */
  linkname?: string;
  /** 0-based index of the layer (bottom first) that holds this version. */
  layer: number;
  /** UTF-8 contents, kept only for small files that checks read (accounts, keys, .npmrc). */
  content?: string;
}

/** An image filesystem after applying every layer and whiteout in order. */
export interface ImageFs {
  /** The merged view a container sees. */
  files: ImageFile[];
  /** Versions hidden by a later layer (deleted or overwritten): still shipped in the image. */
  shadowed: ImageFile[];
  layers: number;
}

/** The parts of `docker image inspect` the checks read. */
export interface ImageInspect {
  Id: string;
  RepoTags?: string[] | null;
  Config?: {
    User?: string;
    Env?: string[] | null;
    Healthcheck?: { Test?: string[] | null } | null;
    Volumes?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    Entrypoint?: string[] | null;
  } | null;
}

const rank: Record<CheckStatus, number> = { skip: 0, pass: 1, warn: 2, fail: 3 };

/** The more severe of two statuses (fail > warn > pass > skip). */
export const worse = (a: CheckStatus, b: CheckStatus): CheckStatus => (rank[a] >= rank[b] ? a : b);

/** "a, b, c (+4 more)": evidence stays one readable line however many findings there are. */
export function listSome(items: string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} (+${items.length - max} more)` : shown;
}
