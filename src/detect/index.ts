// detect: an app folder → AppSpec (DESIGN "The pipeline", 1). Tries one detector per framework,
// in a fixed order, and refuses to guess when two runtimes both claim the folder.
import { statSync } from 'node:fs';
import { BulwarkError, usageError, type AppSpec, type Framework } from '../types.js';
import type { Suite } from '../plan/types.js';
import { createContext } from './context.js';
import type { Detector, Match } from './detector.js';
import { django } from './django.js';
import { express } from './express.js';
import { flask } from './flask.js';
import { node } from './node.js';
import { python } from './python.js';
import { staticSite } from './static.js';
import { readPackageJson } from './package-json.js';

export { suiteRuntimes } from './runtimes.js';
export { formatDetect } from './explain.js';

/** Most specific first: Django and Flask apps often also have a wsgi.py; Express is a Node app. */
export const detectors: readonly Detector[] = [django, flask, express, node, python, staticSite];

export interface DetectOptions {
  /** Debian suite whose runtimes the app must fit (default trixie). */
  suite?: Suite;
  /** Settles the framework (bulwark.hcl `app { framework = "…" }`) instead of detecting it. */
  framework?: Framework;
}

/** What to add for each framework, for messages. */
const hints: Record<Framework, string> = {
  express: 'a package.json with express in dependencies',
  node: 'a package.json with a "start" script',
  django: 'manage.py',
  flask: 'app.py with `app = Flask(__name__)`',
  python: 'wsgi.py or asgi.py',
  static: 'index.html',
};

export async function detectApp(dir: string, opts: DetectOptions = {}): Promise<AppSpec> {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    /* reported below */
  }
  if (!isDir) throw usageError(`${dir}: no such folder; give the path of an app folder`);
  const ctx = createContext(dir, opts.suite ?? 'trixie');

  if (opts.framework) {
    const d = detectors.find((x) => x.framework === opts.framework);
    if (!d) throw usageError(`unknown framework "${opts.framework}"; use one of ${detectors.map((x) => x.framework).join(', ')}`);
    if (!d.match(ctx)) throw usageError(`${dir}: framework "${d.framework}" was chosen but ${hints[d.framework]} was not found; add it or choose another framework`);
    return d.detect(ctx);
  }

  const matches: { d: Detector; m: Match }[] = [];
  for (const d of detectors) {
    const m = d.match(ctx);
    if (m) matches.push({ d, m });
  }
  const strong = matches.filter((x) => x.m.strong);
  const byFamily = new Map<string, { d: Detector; m: Match }>();
  for (const x of strong) if (!byFamily.has(x.m.family)) byFamily.set(x.m.family, x);
  if (byFamily.size > 1) {
    const found = [...byFamily.values()];
    throw new BulwarkError(
      `ambiguous app in ${dir}: found ${found.map((x) => x.m.found).join(' and ')}; add a bulwark.hcl with app { framework = "${found[0].m.framework}" } (or ${found
        .slice(1)
        .map((x) => `"${x.m.framework}"`)
        .join(', ')}) to settle it`,
      2,
    );
  }
  const chosen = strong[0] ?? matches[0];
  if (!chosen) {
    const pkg = readPackageJson(ctx);
    const why = pkg ? ' (package.json has no "start" script, no main and no server.js)' : '';
    throw new BulwarkError(
      `no app found in ${dir}${why}: add package.json with a "start" script (Node), manage.py (Django), app.py with Flask or wsgi.py (Python), or index.html (static site)`,
      2,
    );
  }
  return chosen.d.detect(ctx);
}
