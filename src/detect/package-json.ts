// package.json: parsed once, with line numbers for evidence and errors that point into it.
import { BulwarkError } from '../types.js';
import type { DetectContext } from './context.js';
import { lineAt } from './evidence.js';
import { jsonErrorOffset } from './json-position.js';

export interface PackageJson {
  text: string;
  name?: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  main?: string;
  enginesNode?: string;
  packageManager?: string;
  /** 1-based line of a key path, e.g. ('scripts', 'start'); falls back to the outer key's line. */
  line(...keys: string[]): number;
}

const strings = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v))
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The parser's message without the position and echoed text, which the file:line replaces. */
function cleanMessage(msg: string): string {
  return msg
    .replace(/,\s*".*" is not valid JSON$/s, '')
    .replace(/\s*in JSON at position \d+.*$/s, '')
    .replace(/\s*\(line \d+ column \d+\)$/, '')
    .trim();
}

/** Read DIR/package.json; undefined when absent. Malformed JSON is a configuration error (exit 2). */
export function readPackageJson(ctx: DetectContext): PackageJson | undefined {
  const raw = ctx.read('package.json');
  if (raw === undefined) return undefined;
  const text = raw.replace(/^\uFEFF/, ''); // npm tolerates a BOM; JSON.parse does not
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const at = jsonErrorOffset(text);
    const line = lineAt(text, at < 0 ? text.length : at);
    throw new BulwarkError(`${ctx.where('package.json', line)}: invalid JSON (${cleanMessage((e as Error).message)}); fix it and retry`, 2);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data))
    throw new BulwarkError(`${ctx.where('package.json', 1)}: invalid package.json (expected a JSON object); fix it and retry`, 2);
  const o = data as Record<string, unknown>;
  const engines = strings(o.engines);
  return {
    text,
    name: str(o.name),
    scripts: strings(o.scripts),
    dependencies: strings(o.dependencies),
    devDependencies: strings(o.devDependencies),
    main: str(o.main),
    enginesNode: engines.node,
    packageManager: str(o.packageManager),
    line(...keys) {
      // Key paths are found in order ("scripts" then "start" after it): enough for real package.json files.
      let from = 0;
      let line = 1;
      for (const k of keys) {
        const re = new RegExp(`"${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`, 'g');
        re.lastIndex = from;
        const m = re.exec(text);
        if (!m) break;
        from = m.index + m[0].length;
        line = lineAt(text, m.index);
      }
      return line;
    },
  };
}
