// The shape every framework detector has: a cheap "does this folder look like me?" and the full read.
import type { AppSpec, Evidence, Framework } from '../types.js';
import type { DetectContext } from './context.js';

/** Apps of one family share a runtime; two families in one folder is ambiguous. */
export type Family = 'node' | 'python' | 'static';

export interface Match {
  framework: Framework;
  family: Family;
  /**
   * A weak match only counts when nothing stronger does: a package.json whose start script Bulwark
   * cannot run, or an index.html (which many apps carry as a template).
   */
  strong: boolean;
  /** What was found, for messages: "manage.py (Django)". */
  found: string;
  evidence: Evidence;
}

export interface Detector {
  framework: Framework;
  family: Family;
  match(ctx: DetectContext): Match | undefined;
  /** Read the whole AppSpec; configuration problems throw BulwarkError exit 2 naming the file. */
  detect(ctx: DetectContext): AppSpec;
}
