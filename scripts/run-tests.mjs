#!/usr/bin/env node
// Runs the compiled uvu suites (dist/test/unit, then dist/test/integration) in one process each,
// and ends with the one line CI reads: "N passed, N failed".
// Usage: node scripts/run-tests.mjs [unit|integration] [pattern]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv[2];
const pattern = process.argv[3] ?? '\\.test\\.js$';
const suites = (which ? [which] : ['unit', 'integration']).filter((s) => existsSync(join(root, 'dist/test', s)));
// Plain output off a TTY (CI logs): NO_COLOR, and no FORCE_COLOR that would override it.
function plainEnv() {
  const { FORCE_COLOR, ...env } = process.env;
  return { ...env, NO_COLOR: '1' };
}
let passed = 0, failed = 0;
const t0 = Date.now();
for (const s of suites) {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/uvu/bin.js'), join('dist/test', s), pattern], {
    cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28,
    env: process.stdout.isTTY ? process.env : plainEnv(),
  });
  process.stdout.write(r.stdout);
  const total = +(r.stdout.match(/Total:\s+(\d+)/)?.[1] ?? 0);
  const ok = +(r.stdout.match(/Passed:\s+(\d+)/)?.[1] ?? 0);
  passed += ok;
  failed += total - ok;
  if (r.status !== 0 && total === ok) failed += 1; // a crash outside any test counts as a failure
}
process.stdout.write(`\n(${Math.round((Date.now() - t0) / 1000)} s)\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed ? 1 : 0;
