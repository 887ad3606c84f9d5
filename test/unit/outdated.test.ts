import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOutdated, rebuildsByApp } from '../../src/lock/outdated.js';
import { fetchNpmAdvisories, matchAdvisories, mergeQueries, npmAdvisoryEndpoint, npmAdvisoryQuery, semverRangeIncludes } from '../../src/lock/advisories.js';
import type { DebPackage } from '../../src/lock/archive.js';
import type { BulwarkLock } from '../../src/lock/types.js';
import { bulwark, fixture, withTimeout } from '../helpers.js';

const lock = async (): Promise<BulwarkLock> => JSON.parse(await readFile(fixture('lock', 'project', 'bulwark.lock'), 'utf8'));
const packageLock = async () => JSON.parse(await readFile(fixture('lock', 'project', 'web', 'package-lock.json'), 'utf8'));

const deb = (name: string, version: string, suite: string, arch = 'amd64', source = name): DebPackage => ({
  name, version, arch, source, sourceVersion: version, filename: `pool/${name}_${version}.deb`, sha256: '0'.repeat(64), size: 1, depends: '', provides: '', suite,
  baseUrl: suite.endsWith('-security') ? 'http://deb.debian.org/debian-security' : 'http://deb.debian.org/debian',
});

const security = [
  deb('libssl3t64', '3.5.1-1+deb13u1', 'trixie-security', 'amd64', 'openssl'),
  deb('openssl', '3.5.1-1+deb13u1', 'trixie-security', 'amd64', 'openssl'), // not locked: ignored
  deb('nodejs', '20.19.2+dfsg-1+deb13u1', 'trixie-security', 'amd64'),
  deb('libnode115', '20.19.2+dfsg-1+deb13u1', 'trixie-security', 'amd64', 'nodejs'),
  deb('zlib1g', '1:1.3.dfsg+really1.3.1-1+b1', 'trixie-security'), // equal to the pin: clean
  deb('python3.13-minimal', '3.13.5-1', 'trixie-security'), // older than the pin: clean
  deb('libc6', '2.41-13', 'trixie-security', 'arm64'), // other arch: clean
];
const updates = [
  deb('tzdata', '2025c-0+deb13u1', 'trixie-updates', 'all'),
  deb('libnode115', '20.19.2+dfsg-1+deb13u1', 'trixie-updates', 'amd64', 'nodejs'), // same as -security: -security wins
];

test('findOutdated flags an old pin with its newer -security version, layers and apps', async () => {
  const out = findOutdated(await lock(), [security, updates]);
  assert.equal(out.map((e) => e.package), ['libnode115', 'libssl3t64', 'nodejs', 'tzdata'], 'sorted by package name');
  const ssl = out.find((e) => e.package === 'libssl3t64')!;
  assert.equal(ssl, { package: 'libssl3t64', source: 'openssl', locked: '3.5.1-1', available: '3.5.1-1+deb13u1', suite: 'trixie-security', layers: ['userland'], apps: ['api', 'web'] });
  const node = out.find((e) => e.package === 'nodejs')!;
  assert.equal(node.layers, ['runtime-node']);
  assert.equal(node.apps, ['web'], 'only the app standing on runtime-node');
  assert.is(out.find((e) => e.package === 'libnode115')!.suite, 'trixie-security', 'on a tie the first index (-security) is named');
  const tz = out.find((e) => e.package === 'tzdata')!;
  assert.is(tz.suite, 'trixie-updates');
  assert.is(tz.available, '2025c-0+deb13u1');
});

test('findOutdated: equal versions, older versions, other archs and absent packages are clean', async () => {
  const out = findOutdated(await lock(), [security, updates]).map((e) => e.package);
  for (const clean of ['zlib1g', 'python3.13-minimal', 'libc6', 'ca-certificates', 'libpython3.13-minimal']) assert.not.ok(out.includes(clean), clean);
  assert.not.ok(out.includes('openssl'), 'a package the lock does not hold is never reported');
  assert.equal(findOutdated(await lock(), []), []);
  assert.equal(findOutdated(await lock(), [[deb('zlib1g', '1:1.3.dfsg+really1.3.1-1+b1', 'trixie-security')]]), []);
});

test('findOutdated compares Debian versions, not strings (epochs, ~)', async () => {
  const l = await lock();
  // The epoch outranks the rest: 2:0.1-1 is newer than 1:1.3….
  assert.is(findOutdated(l, [[deb('zlib1g', '2:0.1-1', 'trixie-security')]])[0]?.available, '2:0.1-1');
  // ~ sorts before anything: 3.5.1-1~deb13u1 is older than the locked 3.5.1-1.
  assert.equal(findOutdated(l, [[deb('libssl3t64', '3.5.1-1~deb13u1', 'trixie-security')]]), []);
});

test('rebuildsByApp lists, per app, the packages that make it need a rebuild', async () => {
  const out = findOutdated(await lock(), [security, updates]);
  assert.equal(rebuildsByApp(out), { api: ['libssl3t64', 'tzdata'], web: ['libnode115', 'libssl3t64', 'nodejs', 'tzdata'] });
});

test('npmAdvisoryQuery: production packages of a package-lock, aliases by real name, dev left out', async () => {
  const q = npmAdvisoryQuery(await packageLock());
  assert.equal(q, {
    '@acme/logger': ['2.1.0'],
    'body-parser': ['1.19.0'],
    express: ['4.17.1'],
    'left-pad': ['1.3.0'],
    qs: ['6.11.0', '6.7.0'],
  });
  assert.equal(npmAdvisoryQuery({}), {});
  assert.equal(npmAdvisoryQuery(null), {});
  // lockfileVersion 1: nested dependencies.
  assert.equal(npmAdvisoryQuery({ lockfileVersion: 1, dependencies: { a: { version: '1.0.0', dependencies: { b: { version: '2.0.0' } } }, c: { version: '3.0.0', dev: true } } }), { a: ['1.0.0'], b: ['2.0.0'] });
  assert.equal(mergeQueries([{ qs: ['6.7.0'] }, { qs: ['6.11.0', '6.7.0'], a: ['1.0.0'] }]), { a: ['1.0.0'], qs: ['6.11.0', '6.7.0'] });
});

test('semverRangeIncludes reads the ranges advisories use', () => {
  const yes: Array<[string, string]> = [
    ['6.7.0', '<6.10.3'],
    ['6.7.0', '>=6.7.0 <6.7.3'],
    ['4.17.1', '<4.19.2 || >=5.0.0 <5.0.1'],
    ['5.0.0', '<4.19.2 || >=5.0.0 <5.0.1'],
    ['1.2.3', '*'],
    ['1.2.3', '<= 1.2.3'],
    ['1.2.9', '1.2.x'],
    ['1.5.0', '^1.2.0'],
    ['0.2.5', '^0.2.0'],
    ['1.2.5', '~1.2.0'],
    ['1.5.0', '1.0.0 - 2.0.0'],
    ['2.0.0-beta.1', '<2.0.0-beta.2'],
    ['1.0.0', '<1.1'],
    ['2.5.0', '>=2.0.0, <2.5.1'],
  ];
  for (const [v, r] of yes) assert.is(semverRangeIncludes(v, r), true, `${v} in ${r}`);
  const no: Array<[string, string]> = [
    ['6.11.0', '<6.10.3'],
    ['6.7.3', '>=6.7.0 <6.7.3'],
    ['4.19.2', '<4.19.2 || >=5.0.0 <5.0.1'],
    ['0.3.0', '^0.2.0'],
    ['2.0.0', '^1.2.0'],
    ['1.3.0', '~1.2.0'],
    ['2.0.0-beta.1', '<2.0.0'], // a prerelease only matches a range that names one of its version
    ['1.1.0', '<1.1'],
    ['1.2.3', '<0.0.0-0'],
  ];
  for (const [v, r] of no) assert.is(semverRangeIncludes(v, r), false, `${v} not in ${r}`);
  assert.is(semverRangeIncludes('not-a-version', '<1.0.0'), undefined);
  assert.is(semverRangeIncludes('1.0.0', 'what even'), undefined);
});

test('matchAdvisories keeps the versions an advisory affects', async () => {
  const q = npmAdvisoryQuery(await packageLock());
  const answer = {
    qs: [{ id: 1104, url: 'https://github.com/advisories/GHSA-hrpp-h998-j3pp', title: 'qs vulnerable to Prototype Pollution', severity: 'high', vulnerable_versions: '>=6.7.0 <6.7.3' }],
    express: [{ id: 1096820, url: 'https://github.com/advisories/GHSA-qw6h-vgh9-j6wx', title: 'express XSS via response.redirect()', severity: 'low', vulnerable_versions: '<4.20.0' }],
    'left-pad': [{ id: 7, url: 'u', title: 't', severity: 'moderate', vulnerable_versions: '<1.0.0' }],
  };
  const found = matchAdvisories('web', q, answer);
  assert.equal(found.map((a) => `${a.app} ${a.package}@${a.version} ${a.id} ${a.severity}`), ['web express@4.17.1 1096820 low', 'web qs@6.7.0 1104 high']);
  assert.equal(Object.keys(found[0]!).sort(), ['app', 'id', 'package', 'severity', 'title', 'url', 'version']);
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
const close = (s: Server) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())));

/** A port nothing listens on: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const { server, url } = await listen(() => {});
  await close(server);
  return Number(new URL(url).port);
}

test('fetchNpmAdvisories POSTs the query as JSON and reads the answer', () =>
  withTimeout(20_000, async (cleanup) => {
    let got: { method?: string; type?: string; path?: string; body?: unknown } = {};
    const { server, url } = await listen((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got = { method: req.method, type: req.headers['content-type'], path: req.url, body: JSON.parse(body) };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ qs: [{ id: 1, url: 'u', title: 't', severity: 'high', vulnerable_versions: '<6.7.3' }, { junk: true }] }));
      });
    });
    cleanup(() => close(server));
    const endpoint = npmAdvisoryEndpoint({ BULWARK_NPM_REGISTRY: url + '/' });
    assert.is(endpoint, `${url}/-/npm/v1/security/advisories/bulk`);
    assert.is(npmAdvisoryEndpoint({}), 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk');
    const answer = await fetchNpmAdvisories({ qs: ['6.7.0'] }, endpoint);
    assert.equal(got, { method: 'POST', type: 'application/json', path: '/-/npm/v1/security/advisories/bulk', body: { qs: ['6.7.0'] } });
    assert.ok(answer.ok);
    if (answer.ok) assert.is(answer.advisories['qs']!.length, 1, 'entries that are not advisories are dropped');
  }));

test('fetchNpmAdvisories: no answer, an error status or a timeout is a reason, never a throw', () =>
  withTimeout(20_000, async (cleanup) => {
    const { server, url } = await listen((req, res) => {
      if (req.url!.startsWith('/slow')) return; // never answers
      res.statusCode = 405;
      res.end();
    });
    cleanup(() => close(server));
    const refused = await fetchNpmAdvisories({ qs: ['6.7.0'] }, `http://127.0.0.1:${await closedPort()}/bulk`);
    assert.not.ok(refused.ok);
    if (!refused.ok) assert.match(refused.reason, /cannot reach http:\/\/127\.0\.0\.1:\d+\/bulk: ECONNREFUSED/);
    const status = await fetchNpmAdvisories({ qs: ['6.7.0'] }, `${url}/bulk`);
    if (!status.ok) assert.match(status.reason, /answered 405/);
    else assert.unreachable('405 is not an answer');
    const slow = await fetchNpmAdvisories({ qs: ['6.7.0'] }, `${url}/slow`, 300);
    if (!slow.ok) assert.match(slow.reason, /did not answer within/);
    else assert.unreachable('timeout');
    assert.equal(await fetchNpmAdvisories({}, `${url}/slow`), { ok: true, advisories: {} }, 'nothing to ask: no request');
  }));

async function projectCopy(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'bw-outdated-')), 'project');
  await cp(fixture('lock', 'project'), dir, { recursive: true });
  return dir;
}

test('CLI: an unreachable Debian archive is exit 3 with one line naming the mirror', () =>
  withTimeout(60_000, async (cleanup) => {
    const { server, url } = await listen((_req, res) => res.end('{}'));
    cleanup(() => close(server));
    const dir = await projectCopy();
    cleanup(() => rm(join(dir, '..'), { recursive: true, force: true }));
    const port = await closedPort();
    const l = await lock();
    l.mirror = `http://127.0.0.1:${port}/debian`;
    l.securityMirror = `http://127.0.0.1:${port}/debian-security`;
    await writeFile(join(dir, 'bulwark.lock'), JSON.stringify(l, null, 2));
    for (const args of [[dir], [dir, '--json']]) {
      const r = await bulwark(['outdated', ...args], { env: { BULWARK_NPM_REGISTRY: url, BULWARK_CACHE: join(dir, '..', 'cache') } });
      assert.is(r.code, 3, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.is(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^bulwark: cannot reach the Debian security mirror http:\/\/127\.0\.0\.1:\d+\/debian-security \(trixie-security\)/);
      assert.match(lines[0]!, /securityMirror/);
      assert.is(r.stdout, '', 'nothing on stdout: no half report');
    }
  }));

test('CLI: no lock, a malformed lock, a wrong lockVersion are exit 2 naming the file', () =>
  withTimeout(60_000, async (cleanup) => {
    const dir = await projectCopy();
    cleanup(() => rm(join(dir, '..'), { recursive: true, force: true }));
    const web = join(dir, 'web');
    let r = await bulwark(['outdated', web]);
    assert.is(r.code, 2);
    assert.is(r.stderr.trim(), `bulwark: no bulwark.lock in ${web}: run \`bulwark lock ${web}\` first`);
    await writeFile(join(dir, 'bulwark.lock'), '{ "lockVersion": 1, ');
    r = await bulwark(['outdated', dir]);
    assert.is(r.code, 2);
    assert.match(r.stderr, new RegExp(`${join(dir, 'bulwark.lock')}: not valid JSON`));
    await writeFile(join(dir, 'bulwark.lock'), JSON.stringify({ ...(await lock()), lockVersion: 9 }));
    r = await bulwark(['outdated', dir, '--json']);
    assert.is(r.code, 2);
    assert.match(r.stderr, /bulwark\.lock: lockVersion 9/);
    await writeFile(join(dir, 'bulwark.lock'), JSON.stringify({ ...(await lock()), apps: { web: { path: 'web' } } }));
    r = await bulwark(['outdated', dir]);
    assert.is(r.code, 2, 'a damaged lock is a config error, not a crash');
    assert.match(r.stderr, /app web has no layers list/);
    r = await bulwark(['outdated', dir, '--frozen']);
    assert.is(r.code, 2);
    r = await bulwark(['outdated', '--help']);
    assert.is(r.code, 0);
    assert.match(r.stdout, /Exit codes: 0 nothing outdated/);
  }));

test.run();
