// `bulwark outdated` against the real Debian archive (deb.debian.org): a deliberately old pin is
// exit 1 and named; the same lock at the archive's current versions is exit 0. The npm half talks
// to a local stand-in registry (BULWARK_NPM_REGISTRY).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulwark, fixture, withTimeout } from '../helpers.js';
import { loadSuiteIndex } from '../../src/lock/archive.js';
import { compareDebVersions } from '../../src/lock/debversion.js';
import type { BulwarkLock } from '../../src/lock/types.js';

const PIN = 'libzstd1'; // trixie 1.5.7+dfsg-1, superseded in trixie-security (see test/fixtures/lock/README.md)

const oldLock = async (): Promise<BulwarkLock> => JSON.parse(await readFile(fixture('lock', 'security-pin', 'bulwark.lock'), 'utf8'));

/** The lock with every package at the newest version -security and -updates offer now. */
async function freshLock(): Promise<BulwarkLock> {
  const lock = await oldLock();
  const idx = [
    ...(await loadSuiteIndex(lock.securityMirror, `${lock.suite}-security`)),
    ...(await loadSuiteIndex(lock.mirror, `${lock.suite}-updates`)),
  ];
  for (const [name, pin] of Object.entries(lock.packages))
    for (const p of idx)
      if (p.name === name && p.arch === pin.arch && compareDebVersions(p.version, pin.version) > 0)
        Object.assign(pin, { version: p.version, suite: p.suite, filename: p.filename, sha256: p.sha256, size: p.size, sourceVersion: p.sourceVersion });
  return lock;
}

async function registry(answer: unknown): Promise<{ server: Server; url: string; asked: unknown[] }> {
  const asked: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      asked.push(JSON.parse(body || 'null'));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}
const close = (s: Server) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())));

async function project(lock: BulwarkLock, packageLock?: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bw-outdated-'));
  if (packageLock) {
    await mkdir(join(dir, 'web'));
    await writeFile(join(dir, 'web', 'package-lock.json'), JSON.stringify(packageLock));
    lock.apps['web'] = { path: 'web', layers: ['userland'], dependencyLock: { file: 'package-lock.json', sha256: '' } };
  }
  await writeFile(join(dir, 'bulwark.lock'), JSON.stringify(lock, null, 2) + '\n');
  return dir;
}

test('an old pin with a newer trixie-security version: exit 1, the package, its layer and app', () =>
  withTimeout(180_000, async (cleanup) => {
    const dir = await project(await oldLock());
    cleanup(() => rm(dir, { recursive: true, force: true }));
    const t0 = Date.now();
    const r = await bulwark(['outdated', dir, '--json']);
    const secs = (Date.now() - t0) / 1000;
    assert.is(r.code, 1, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.is(out.schemaVersion, 1);
    assert.is(out.lock, join(dir, 'bulwark.lock'));
    const e = out.outdated.find((x: { package: string }) => x.package === PIN);
    assert.ok(e, `${PIN} is listed: ${r.stdout}`);
    assert.is(e.locked, '1.5.7+dfsg-1');
    assert.is(e.suite, 'trixie-security');
    assert.ok(compareDebVersions(e.available, e.locked) > 0);
    assert.is(e.source, 'libzstd');
    assert.equal(e.layers, ['userland']);
    assert.equal(e.apps, ['hello']);
    assert.equal(out.npmAdvisories, { checked: true, advisories: [] }, 'no Node app: nothing to ask');
    console.log(`  (outdated against deb.debian.org: ${secs.toFixed(1)} s)`);

    const human = await bulwark(['outdated', dir]);
    assert.is(human.code, 1);
    assert.match(human.stdout, new RegExp(`${PIN}\\s+1\\.5\\.7\\+dfsg-1 → \\S+\\s+trixie-security\\s+userland\\s+hello`));
    assert.match(human.stdout, /^1 outdated package \(1 from trixie-security\) in 1 app: run `bulwark lock --update --security-only /m);
  }));

test('the same lock at the current versions: exit 0, and npm advisories decide on their own', () =>
  withTimeout(180_000, async (cleanup) => {
    const clean = await registry({});
    cleanup(() => close(clean.server));
    const packageLock = { lockfileVersion: 3, packages: { '': { name: 'web' }, 'node_modules/qs': { version: '6.7.0' }, 'node_modules/mocha': { version: '10.2.0', dev: true } } };
    const dir = await project(await freshLock(), packageLock);
    cleanup(() => rm(dir, { recursive: true, force: true }));

    let r = await bulwark(['outdated', dir], { env: { BULWARK_NPM_REGISTRY: clean.url } });
    assert.is(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^up to date: no locked package has a newer version, and no npm advisory applies$/m);
    assert.equal(clean.asked, [{ qs: ['6.7.0'] }], 'production packages only');

    const vulnerable = await registry({ qs: [{ id: 1104, url: 'https://github.com/advisories/GHSA-hrpp-h998-j3pp', title: 'qs vulnerable to Prototype Pollution', severity: 'high', vulnerable_versions: '>=6.7.0 <6.7.3' }] });
    cleanup(() => close(vulnerable.server));
    r = await bulwark(['outdated', dir, '--json'], { env: { BULWARK_NPM_REGISTRY: vulnerable.url } });
    assert.is(r.code, 1, 'an advisory is a finding');
    const out = JSON.parse(r.stdout);
    assert.equal(out.outdated, []);
    assert.equal(out.npmAdvisories, {
      checked: true,
      advisories: [{ app: 'web', package: 'qs', version: '6.7.0', id: 1104, severity: 'high', title: 'qs vulnerable to Prototype Pollution', url: 'https://github.com/advisories/GHSA-hrpp-h998-j3pp' }],
    });

    // A registry that does not answer is reported, not fatal: the Debian check decides.
    vulnerable.server.close();
    vulnerable.server.closeAllConnections();
    r = await bulwark(['outdated', dir, '--json'], { env: { BULWARK_NPM_REGISTRY: vulnerable.url } });
    assert.is(r.code, 0, r.stderr);
    const down = JSON.parse(r.stdout).npmAdvisories;
    assert.is(down.checked, false);
    assert.match(down.reason, /cannot reach/);
    r = await bulwark(['outdated', dir], { env: { BULWARK_NPM_REGISTRY: vulnerable.url } });
    assert.match(r.stdout, /^npm advisories: not checked: cannot reach /m);
  }));

test.run();
