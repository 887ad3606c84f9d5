#!/usr/bin/env node
// Side-by-side benchmark in one run on one machine (it is noisy: read the ratios).
// Bulwark vs a hand-written best-practice multi-stage Dockerfile for the same app on the same
// Debian base; both start from nothing: the Dockerfile's cold time includes making its Debian
// base image with mmdebstrap, Bulwark's cold build is `--no-cache` (only the sha256-addressed
// .deb store is reused). Each figure is the median of --runs (default 3), in seconds (ms resolution).
// Usage: node scripts/bench.mjs [--runs N] [--only compare|second|security] [--apps express-hello,django-hello]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync, readFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const runs = Number(arg('--runs', 3));
const only = arg('--only', '');
const apps = arg('--apps', 'express-hello,django-hello').split(',');
const MIRROR = 'http://deb.debian.org/debian';
const HOST_CA = '/etc/ssl/certs/ca-certificates.crt';
const CLI = join(root, 'dist/src/cli/main.js');
const SHARED_CACHE = process.env.BULWARK_CACHE ?? '/var/cache/bulwark';

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout).slice(-1500)}`);
  return r;
}
const bw = (args, env = {}) => sh(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
const timed = (fn) => {
  const t0 = process.hrtime.bigint();
  const v = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, v];
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const size = (ref) => Number(sh('docker', ['image', 'inspect', '-f', '{{.Size}}', ref]).stdout.trim());
const s = (x) => x.toFixed(3);
const mb = (b) => (b / 1e6).toFixed(0) + ' MB';
const out = [];
const say = (line) => {
  out.push(line);
  console.log(line);
};

/** A cache dir that reuses the shared .deb store and signed indexes but no built layer. */
function freshCache() {
  const d = mkdtempSync(join(tmpdir(), 'bw-bench-cache-'));
  mkdirSync(join(SHARED_CACHE, 'debs'), { recursive: true });
  symlinkSync(join(SHARED_CACHE, 'debs'), join(d, 'debs'));
  symlinkSync(join(SHARED_CACHE, 'indexes'), join(d, 'indexes'));
  return d;
}

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

function copyExample(app, name = app) {
  const dir = join(mkdtempSync(join(tmpdir(), 'bw-bench-')), name);
  cpSync(join(root, 'examples', app), dir, { recursive: true, filter: (p) => !/\/(\.bulwark|node_modules|data|bulwark\.lock)(\/|$)/.test(p) });
  if (name !== app) {
    const pj = join(dir, 'package.json');
    const pkg = JSON.parse(readFileSync(pj, 'utf8'));
    pkg.name = name;
    writeFileSync(pj, JSON.stringify(pkg, null, 2) + '\n');
  }
  return dir;
}

function touchApp(dir, app, i) {
  const py = app.startsWith('django');
  appendFileSync(join(dir, py ? 'notes/views.py' : 'server.js'), `\n${py ? '#' : '//'} bench change ${i} ${Date.now()}\n`);
}

// ---- 1. Bulwark vs Dockerfile: cold, app-only change, size ------------------------------------
function compare(app) {
  const r = { cold: [], dfCold: [], dfBase: [], re: [], dfRe: [] };
  for (let i = 0; i < runs; i++) {
    const dir = copyExample(app);
    writeFileSync(join(dir, 'Dockerfile'), dockerfiles[app]);
    writeFileSync(join(dir, '.dockerignore'), 'node_modules\n.bulwark\ndata\nDockerfile\nbulwark.lock\n');
    cpSync(HOST_CA, join(dir, 'bench-ca.crt'));
    sh('docker', ['rmi', '-f', 'bench/debian:trixie', `bench/${app}:latest`], { allowFail: true });
    const [base] = timed(() => sh('bash', ['-c', `set -o pipefail; mmdebstrap --quiet --mode=root --variant=minbase trixie - ${MIRROR} | docker import - bench/debian:trixie`]));
    const [build] = timed(() => sh('docker', ['build', '--no-cache', '-q', '-t', `bench/${app}:latest`, dir]));
    r.dfBase.push(base);
    r.dfCold.push(base + build);
    bw(['lock', dir]); // the lock is an input, made once
    const [cold] = timed(() => bw(['build', dir, '--no-cache', '--frozen-lock']));
    r.cold.push(cold);
    bw(['build', dir]); // warm the shared caches for this app
    touchApp(dir, app, i);
    r.re.push(timed(() => bw(['build', dir]))[0]);
    touchApp(dir, app, i); // docker's cache is warm from its cold build; the same change
    r.dfRe.push(timed(() => sh('docker', ['build', '-q', '-t', `bench/${app}:latest`, dir]))[0]);
    r.size = size(`bulwark/${app}:latest`);
    r.dfSize = size(`bench/${app}:latest`);
    rmSync(dirname(dir), { recursive: true, force: true });
  }
  const c = median(r.cold), d = median(r.dfCold), re = median(r.re), dre = median(r.dfRe);
  say(`${app}: cold ${s(c)} s vs Dockerfile ${s(d)} s (base ${s(median(r.dfBase))} s) → ${(c / d).toFixed(2)}×; ` +
    `app-only change ${s(re)} s vs cached docker build ${s(dre)} s → ${(re / dre).toFixed(2)}×; ` +
    `size ${mb(r.size)} vs ${mb(r.dfSize)} → ${(r.size / r.dfSize).toFixed(2)}×`);
}

// ---- 2. A second app on the same base ---------------------------------------------------------
function secondApp() {
  const first = [], second = [];
  for (let i = 0; i < runs; i++) {
    const cache = freshCache();
    const builders = sh('docker', ['images', '-q', 'bulwark/builder-node']).stdout.split('\n').filter(Boolean);
    if (builders.length) sh('docker', ['rmi', '-f', ...builders], { allowFail: true });
    const a = copyExample('express-hello', 'bench-first');
    const b = copyExample('express-hello', 'bench-second');
    touchApp(b, 'express-hello', i);
    bw(['lock', a], { BULWARK_CACHE: cache });
    bw(['lock', b], { BULWARK_CACHE: cache });
    first.push(timed(() => bw(['build', a], { BULWARK_CACHE: cache }))[0]);
    second.push(timed(() => bw(['build', b], { BULWARK_CACHE: cache }))[0]);
    for (const d of [a, b, cache]) rmSync(d.endsWith('bench-first') || d.endsWith('bench-second') ? dirname(d) : d, { recursive: true, force: true });
  }
  const f = median(first), g = median(second);
  say(`second app on the same base: first ${s(f)} s, second ${s(g)} s → ${((g / f) * 100).toFixed(0)} % of the first`);
}

// ---- 3. A security bump under 5 apps ----------------------------------------------------------
async function securityBump() {
  const { loadSuiteIndex } = await import(join(root, 'dist/src/lock/archive.js'));
  const rebuildT = [], oneApp = [];
  let sameAsFresh = true, serving = 0, rebasedCount = 0;
  for (let i = 0; i < runs; i++) {
    const site = mkdtempSync(join(tmpdir(), 'bw-bench-site-'));
    const names = ['shop', 'blog', 'wiki', 'chat', 'docs'];
    for (const n of names) {
      cpSync(join(root, 'examples/express-hello'), join(site, n), { recursive: true, filter: (p) => !/\/(\.bulwark|node_modules|data|bulwark\.lock)(\/|$)/.test(p) });
      appendFileSync(join(site, n, 'server.js'), `\n// ${n}\n`);
    }
    writeFileSync(join(site, 'bulwark.hcl'), names.map((n, k) => `app "${n}" {\n  path = "./${n}"\n  port = ${3100 + k}\n}\n`).join('\n'));
    bw(['lock', site]);
    const lockFile = join(site, 'bulwark.lock');
    const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
    const trixie = new Map((await loadSuiteIndex(lock.mirror, 'trixie')).map((p) => [p.name, p]));
    const name = Object.keys(lock.packages).find((n) => lock.packages[n].suite === 'trixie-security' && trixie.has(n));
    const old = trixie.get(name);
    Object.assign(lock.packages[name], { version: old.version, suite: 'trixie', filename: old.filename, sha256: old.sha256, size: old.size, sourceVersion: old.sourceVersion });
    writeFileSync(lockFile, JSON.stringify(lock, null, 2));
    bw(['build', site, '--frozen-lock']);
    // One app-layer build, in the same project: an app-only change to one of its apps.
    appendFileSync(join(site, 'shop', 'server.js'), `\n// change ${i}\n`);
    oneApp.push(timed(() => bw(['build', site, '--frozen-lock']))[0]);
    const [t, r] = timed(() => bw(['rebuild', '--security', site, '--json']));
    rebuildT.push(t);
    const rep = JSON.parse(r.stdout);
    rebasedCount = rep.images.filter((x) => x.action === 'rebased').length;
    const fresh = JSON.parse(bw(['build', site, '--no-cache', '--frozen-lock', '--json']).stdout).artifacts;
    for (const img of rep.images) if (fresh.find((a) => a.app === img.app)?.id !== img.image) sameAsFresh = false;
    serving = 0;
    for (const [k, img] of rep.images.entries()) {
      const c = `bw-bench-serve-${k}`;
      sh('docker', ['rm', '-f', c], { allowFail: true });
      const port = rep.artifacts.find((a) => a.app === img.app).port; // the port bulwark.hcl gave this app
      sh('docker', ['run', '-d', '--name', c, '-p', `127.0.0.1:${3200 + k}:${port}`, img.image]);
      for (let w = 0; w < 120; w++) {
        const ok = sh('curl', ['-fsS', '-o', '/dev/null', `http://127.0.0.1:${3200 + k}/healthz`], { allowFail: true }).status === 0;
        if (ok) { serving++; break; }
        spawnSync('sleep', ['0.25']);
      }
      if (serving <= k) console.error(`bench: ${img.app} did not answer: ${sh('docker', ['logs', c], { allowFail: true }).stdout.slice(-500)}`);
      sh('docker', ['rm', '-f', c], { allowFail: true });
    }
    rmSync(site, { recursive: true, force: true });
  }
  const t = median(rebuildT), o = median(oneApp);
  say(`security bump under 5 apps: rebuild --security ${s(t)} s vs one app-layer build ${s(o)} s → ${(t / o).toFixed(2)}×; ` +
    `${rebasedCount}/5 rebased, ${serving}/5 serving, equal to a fresh --no-cache build: ${sameAsFresh ? 'yes' : 'NO'}`);
}

console.log(`bench: median of ${runs} run(s) per figure, on ${spawnSync('nproc').stdout.toString().trim()} cores`);
if (!only || only === 'compare') for (const app of apps) compare(app);
if (!only || only === 'second') secondApp();
if (!only || only === 'security') await securityBump();
console.log('\nsummary\n' + out.join('\n'));
