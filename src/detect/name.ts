// DESIGN "Names": package.json / pyproject name (scope dropped), else the folder name, as [a-z0-9-].
import { basename } from 'node:path';
import { BulwarkError } from '../types.js';
import { normalizeAppName } from '../names.js';
import type { DetectContext } from './context.js';

export interface NameSource {
  value: string;
  file: string;
  line?: number;
}

export function appName(ctx: DetectContext, declared: NameSource | undefined, manifest: 'package.json' | 'pyproject.toml'): string {
  if (declared && declared.value.trim()) {
    const n = normalizeAppName(declared.value);
    if (n) return n;
    throw new BulwarkError(
      `${ctx.where(declared.file, declared.line)}: name "${declared.value}" has no letters or digits left after normalizing to [a-z0-9-]; set "name" to something like "my-app"`,
      2,
    );
  }
  const n = normalizeAppName(basename(ctx.abs));
  if (n) return n;
  const how = manifest === 'package.json' ? 'set "name" in package.json' : 'set name under [project] in pyproject.toml';
  throw new BulwarkError(`cannot name the app in ${ctx.shown}: the folder name "${basename(ctx.abs)}" has no letters or digits; ${how}`, 2);
}
