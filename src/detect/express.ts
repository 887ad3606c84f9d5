// Express: package.json with express in dependencies. Adds the folders served by express.static.
import { posix } from 'node:path';
import { BulwarkError, type Evidence, type Fact } from '../types.js';
import type { DetectContext } from './context.js';
import type { Detector } from './detector.js';
import { ev } from './evidence.js';
import { callArgs, pathRefs, splitArgs } from './paths.js';
import { readPackageJson } from './package-json.js';
import { nodeSources, nodeSpec, nodeStart } from './node-app.js';

/** Folders passed to express.static(...) / serveStatic(...), resolved like the app resolves them. */
function expressStaticDirs(ctx: DetectContext, files: string[]): Fact<string[]> {
  const dirs = new Map<string, Evidence>();
  for (const f of files) {
    const lines = (ctx.read(f) ?? '').split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(/\b(?:express\.static|serveStatic|serve_static)\(/g)) {
        const inner = callArgs(line, m.index! + m[0].length - 1);
        if (inner === undefined) continue;
        const first = splitArgs(inner)[0] ?? '';
        // pathRefs resolves 'public', path.join(__dirname, 'public') and __dirname + '/public' alike.
        const ref = pathRefs(f, first, 'js')[0];
        const dir = ref?.path ?? (/^['"`]\.\/?['"`]$/.test(first) ? '.' : undefined);
        if (dir && !dirs.has(dir)) dirs.set(dir, ev(f, i + 1, 'express.static'));
      }
    });
  }
  if (!dirs.size) {
    // No express.static call: a conventional public/ folder is still worth serving from the proxy.
    return ctx.isDir('public')
      ? { value: [], evidence: [ev('public', undefined, 'exists but no express.static call serves it')] }
      : { value: [], evidence: [ev(files[0] ?? 'package.json', undefined, 'no express.static call')] };
  }
  return { value: [...dirs.keys()].map((d) => posix.normalize(d)), evidence: [...dirs.values()] };
}

export const express: Detector = {
  framework: 'express',
  family: 'node',
  match(ctx) {
    const pkg = readPackageJson(ctx);
    if (!pkg || pkg.dependencies.express === undefined) return undefined;
    return { framework: 'express', family: 'node', strong: true, found: 'package.json with express (Express)', evidence: ev('package.json', pkg.line('dependencies', 'express')) };
  },
  detect(ctx) {
    const pkg = readPackageJson(ctx)!;
    const start = nodeStart(ctx, pkg);
    if (!start)
      throw new BulwarkError(
        `${ctx.where('package.json')}: no start command for this Express app: add "scripts": { "start": "node server.js" } (or create server.js)`,
        2,
      );
    return nodeSpec(ctx, pkg, 'express', start, expressStaticDirs(ctx, nodeSources(ctx, start.entry)));
  },
};
