#!/usr/bin/env node
// `npm run demo`: build the bundled Express example, run it with its generated compose.yaml,
// show a page, the health check and the audit, then stop it. Leaves the image in place.
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(root, 'examples', 'express-hello');
const bulwark = (...args) => spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), ...args], { stdio: 'inherit' });
const sh = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' });

console.log('$ bulwark build examples/express-hello');
if (bulwark('build', app).status !== 0) process.exit(1);
const compose = join(app, '.bulwark/build/express-hello/compose.yaml');
const hasV2 = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
const up = hasV2 ? ['docker', ['compose', '-f', compose]] : ['docker-compose', ['-f', compose]];
console.log(`\n$ ${up[0]} ${up[1].join(' ')} up -d`);
sh(up[0], [...up[1], 'up', '-d']);
let ok = false;
for (let i = 0; i < 40 && !ok; i++) {
  try {
    const r = await fetch('http://127.0.0.1:3000/', { signal: AbortSignal.timeout(3000) });
    console.log(`\nGET http://127.0.0.1:3000/ → ${r.status}\n${(await r.text()).slice(0, 300)}`);
    ok = true;
  } catch {
    await new Promise((r) => setTimeout(r, 250));
  }
}
console.log('\n$ bulwark audit examples/express-hello');
const audit = bulwark('audit', app);
console.log(`\n$ ${up[0]} ${up[1].join(' ')} down`);
sh(up[0], [...up[1], 'down']);
process.exitCode = ok && audit.status === 0 ? 0 : 1;
