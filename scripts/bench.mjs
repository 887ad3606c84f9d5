#!/usr/bin/env node
// Side-by-side benchmark, one run on one machine (this machine is noisy: compare ratios):
// Bulwark vs a hand-written best-practice multi-stage Dockerfile for the same app on the same
// Debian base. Both start from nothing: the Dockerfile's cold time includes making its Debian
// base image with mmdebstrap; Bulwark's cold time uses an empty cache dir and no builder image.
// Usage: node scripts/bench.mjs [--runs N]   (median of N runs per figure; default 1)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 1;
const MIRROR = 'http://deb.debian.org/debian';
const HOST_CA = '/etc/ssl/certs/ca-certificates.crt';

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout).slice(-800)}`);
  return r;
}
const timed = (fn) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const size = (ref) => Number(sh('docker', ['image', 'inspect', '-f', '{{.Size}}', ref]).stdout.trim());
const mb = (b) => (b / 1e6).toFixed(0) + ' MB';

const dockerfiles = {
  'express-hello': `# Hand-written best practice: multi-stage, --no-install-recommends, npm ci --omit=dev,
# apt lists removed, non-root user, tini.
FROM bench/debian:trixie AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY bench-ca.crt /tmp/bench-ca.crt
COPY package.json package-lock.json ./
RUN NODE_EXTRA_CA_CERTS=/tmp/bench-ca.crt npm ci --omit=dev --no-audit --no-fund
COPY . .

FROM bench/debian:trixie
RUN apt-get update && apt-get install -y --no-install-recommends nodejs tini ca-certificates && rm -rf /var/lib/apt/lists/* \\
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /app /app
USER 10001
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "server.js"]
`,
  'django-hello': `# Hand-written best practice for a Django app on Debian packages: --no-install-recommends,
# apt lists removed, non-root user, tini, gunicorn.
FROM bench/debian:trixie
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-django python3-gunicorn python3-whitenoise tini ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin app
WORKDIR /app
COPY . .
USER 10001
EXPOSE 8000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python3", "-m", "gunicorn", "--bind", "0.0.0.0:8000", "mysite.wsgi:application"]
`,
};

function prepareCopy(app) {
  const dir = join(mkdtempSync(join(tmpdir(), 'bw-bench-')), app);
  cpSync(join(root, 'examples', app), dir, { recursive: true, filter: (p) => !/\/(\.bulwark|node_modules|data)(\/|$)/.test(p) });
  writeFileSync(join(dir, 'Dockerfile'), dockerfiles[app]);
  writeFileSync(join(dir, '.dockerignore'), 'node_modules\n.bulwark\ndata\nDockerfile\n');
  cpSync(HOST_CA, join(dir, 'bench-ca.crt'));
  return dir;
}

function dockerfileCold(dir, app) {
  sh('docker', ['rmi', '-f', 'bench/debian:trixie', `bench/${app}:latest`], { allowFail: true });
  const base = timed(() => sh('bash', ['-c', `set -o pipefail; mmdebstrap --quiet --mode=root --variant=minbase trixie - ${MIRROR} | docker import - bench/debian:trixie`]));
  const build = timed(() => sh('docker', ['build', '--no-cache', '-q', '-t', `bench/${app}:latest`, dir]));
  return { base, build, total: base + build };
}

function bulwarkCold(dir) {
  const cache = mkdtempSync(join(tmpdir(), 'bw-bench-cache-'));
  const builders = sh('docker', ['images', '-q', 'bulwark/builder-node']).stdout.split('\n').filter(Boolean);
  if (builders.length) sh('docker', ['rmi', '-f', ...builders], { allowFail: true });
  sh('docker', ['volume', 'rm', '-f', 'bulwark-npm-cache'], { allowFail: true });
  const t = timed(() => sh(process.execPath, [join(root, 'dist/src/cli/main.js'), 'build', dir], { env: { ...process.env, BULWARK_CACHE: cache } }));
  return { total: t, cache };
}

function touchApp(dir, app, i) {
  const f = app === 'express-hello' ? join(dir, 'server.js') : join(dir, 'notes/views.py');
  appendFileSync(f, `\n// bench change ${i} ${Date.now()}\n`.replace('//', app === 'express-hello' ? '//' : '#'));
}

const rows = [];
for (const app of Object.keys(dockerfiles)) {
  const res = { app, bwCold: [], dfCold: [], dfBase: [], bwRe: [], dfRe: [] };
  for (let i = 0; i < runs; i++) {
    const dir = prepareCopy(app);
    const df = dockerfileCold(dir, app);
    res.dfCold.push(df.total);
    res.dfBase.push(df.base);
    const bw = bulwarkCold(dir);
    res.bwCold.push(bw.total);
    // An app-only source change: Bulwark (warm caches) vs docker build (layer cache).
    touchApp(dir, app, i);
    res.bwRe.push(timed(() => sh(process.execPath, [join(root, 'dist/src/cli/main.js'), 'build', dir], { env: { ...process.env, BULWARK_CACHE: bw.cache } })));
    res.dfRe.push(timed(() => sh('docker', ['build', '-q', '-t', `bench/${app}:latest`, dir])));
    res.bwSize = size(`bulwark/${app}:latest`);
    res.dfSize = size(`bench/${app}:latest`);
    rmSync(bw.cache, { recursive: true, force: true });
    rmSync(dirname(dir), { recursive: true, force: true });
  }
  rows.push(res);
}

const f = (x) => x.toFixed(1).padStart(6);
console.log(`\nBulwark vs hand-written Dockerfile (median of ${runs} run(s), seconds; same machine, same run)`);
console.log('app            | bulwark cold | dockerfile cold (base+build) | ratio | rebuild after app change: bulwark / dockerfile | ratio | size bulwark / dockerfile | ratio');
for (const r of rows) {
  const bc = median(r.bwCold), dc = median(r.dfCold), br = median(r.bwRe), dr = median(r.dfRe);
  console.log(`${r.app.padEnd(14)} | ${f(bc)}       | ${f(dc)} (${median(r.dfBase).toFixed(1)} + ${(dc - median(r.dfBase)).toFixed(1)})       | ${(bc / dc).toFixed(2)}  | ${f(br)} / ${f(dr)}                              | ${(br / dr).toFixed(2)}  | ${mb(r.bwSize)} / ${mb(r.dfSize)}          | ${(r.bwSize / r.dfSize).toFixed(2)}`);
}
