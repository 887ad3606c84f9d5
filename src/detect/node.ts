// Generic Node: a package.json without express, with something Bulwark can start
// (plain `node FILE` scripts.start, main, or server.js/app.js/index.js).
import { BulwarkError } from '../types.js';
import type { Detector } from './detector.js';
import { ev } from './evidence.js';
import { readPackageJson } from './package-json.js';
import { hasNodeStart, nodeSpec, nodeStart } from './node-app.js';

export const node: Detector = {
  framework: 'node',
  family: 'node',
  match(ctx) {
    const pkg = readPackageJson(ctx);
    if (!pkg) return undefined;
    const start = hasNodeStart(ctx, pkg);
    if (start === 'none') return undefined;
    // An unusable start script is still a Node app (detect explains the fix), but it must not
    // outvote a Django or Flask app that merely carries a package.json for front-end tooling.
    return {
      framework: 'node',
      family: 'node',
      strong: start === 'usable',
      found: 'package.json with a start command (Node)',
      evidence: ev('package.json', pkg.scripts.start !== undefined ? pkg.line('scripts', 'start') : 1),
    };
  },
  detect(ctx) {
    const pkg = readPackageJson(ctx)!;
    const start = nodeStart(ctx, pkg);
    if (!start) throw new BulwarkError(`${ctx.where('package.json')}: no start command: add "scripts": { "start": "node server.js" }`, 2);
    return nodeSpec(ctx, pkg, 'node', start, { value: [], evidence: [ev('package.json', 1, 'generic Node app: no static folders detected')] });
  },
};
