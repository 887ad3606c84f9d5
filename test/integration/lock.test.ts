// The lock: pins written once and reused; --frozen-lock; reproducible images; a security bump
// rebuilds one layer and the rebased image equals a fresh build from the new lock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulwark, example, withTimeout } from '../helpers.js';
import { docker, freePort, waitHttp } from './live.js';
import { loadSuiteIndex } from '../../src/lock/archive.js';
import type { BulwarkLock } from '../../src/lock/types.js';

let base = '';
let dir = '';
const lockFile = () => join(dir, 'bulwark.lock');
const readLockJson = async () => JSON.parse(await readFile(lockFile(), 'utf8')) as BulwarkLock;

test.before(async () => {
  base = await mkdtemp(join(tmpdir(), 'bw-lock-'));
  dir = join(base, 'lock-probe');
  await cp(example('express-hello'), dir, { recursive: true, filter: (p) => !/\/(\.bulwark|node_modules|data|bulwark\.lock)(\/|$)/.test(p) });
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  pkg.name = 'lock-probe';
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
});
test.after(async () => {
  await docker(['rmi', '-f', 'bulwark/lock-probe:latest'], true);
  await rm(base, { recursive: true, force: true });
});

test('--frozen-lock without a lock: exit 2 naming bulwark.lock, nothing written', () =>
  withTimeout(60_000, async () => {
    const r = await bulwark(['build', dir, '--frozen-lock']);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /--frozen-lock: bulwark\.lock cannot be used as it is: there is no bulwark\.lock/);
  }));

test('bulwark lock pins every package with version, sha256 and size; inputs only; sorted; stable', () =>
  withTimeout(120_000, async () => {
    const r = await bulwark(['lock', dir]);
    assert.is(r.code, 0, r.stderr);
    const text = await readFile(lockFile(), 'utf8');
    const lock = JSON.parse(text) as BulwarkLock;
    assert.is(lock.lockVersion, 1);
    assert.is(lock.suite, 'trixie');
    assert.ok(lock.packages.nodejs && lock.packages.libc6, 'runtime and libc pinned');
    for (const [name, p] of Object.entries(lock.packages)) {
      assert.match(p.sha256, /^[0-9a-f]{64}$/, name);
      assert.ok(p.size > 0 && p.version && p.filename.startsWith('pool/'), name);
    }
    assert.equal(lock.apps['lock-probe']!.layers, ['userland', 'runtime-node']);
    assert.match(lock.apps['lock-probe']!.dependencyLock!.sha256, /^[0-9a-f]{64}$/);
    assert.is(lock.runtimes.node, lock.packages.nodejs!.version);
    assert.not.match(text, /sha256:[0-9a-f]{64}/, 'no image IDs or other outputs in the lock');
    assert.equal(Object.keys(lock.packages), Object.keys(lock.packages).sort(), 'sorted');
    const again = await bulwark(['lock', dir]);
    assert.match(again.stdout, /is up to date/);
    assert.is(await readFile(lockFile(), 'utf8'), text, 'byte-identical when nothing changed');
  }));

test('two --no-cache builds from one lock give the same image ID', () =>
  withTimeout(900_000, async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await bulwark(['build', dir, '--no-cache', '--frozen-lock', '--json']);
      assert.is(r.code, 0, r.stderr);
      ids.push(JSON.parse(r.stdout).artifacts[0].id);
    }
    assert.is(ids[0], ids[1]);
  }));

test('a changed dependency lockfile makes --frozen-lock fail with the reason', () =>
  withTimeout(60_000, async () => {
    const saved = await readFile(join(dir, 'package-lock.json'), 'utf8');
    try {
      await writeFile(join(dir, 'package-lock.json'), saved.replace('"lockfileVersion": 3', '"lockfileVersion": 3 '));
      const r = await bulwark(['build', dir, '--frozen-lock']);
      assert.is(r.code, 2);
      assert.match(r.stderr, /package-lock\.json changed; run `bulwark lock`/);
    } finally {
      await writeFile(join(dir, 'package-lock.json'), saved);
    }
  }));

test('an old pin: outdated exits 1 naming it; rebuild --security rebases onto one new layer, equal to a fresh build, and the app serves', () =>
  withTimeout(900_000, async (cleanup) => {
    const lock = await readLockJson();
    // Find a pinned package whose trixie-security version is newer than trixie's, and pin trixie's.
    const trixie = new Map((await loadSuiteIndex(lock.mirror, 'trixie')).map((p) => [p.name, p]));
    const name = Object.keys(lock.packages).find((n) => lock.packages[n]!.suite === 'trixie-security' && trixie.has(n));
    assert.ok(name, 'the lock has a package from trixie-security (libzstd1 at the time of writing); if a point release folded every such fix into trixie, pick an app whose closure has one');
    const old = trixie.get(name!)!;
    const fresh = lock.packages[name!]!;
    lock.packages[name!] = { ...fresh, version: old.version, suite: 'trixie', filename: old.filename, sha256: old.sha256, size: old.size, sourceVersion: old.sourceVersion };
    await writeFile(lockFile(), JSON.stringify(lock, null, 2));
    const before = await bulwark(['build', dir, '--frozen-lock', '--json']);
    assert.is(before.code, 0, before.stderr);

    const out = await bulwark(['outdated', dir, '--json']);
    assert.is(out.code, 1, out.stderr);
    const entry = JSON.parse(out.stdout).outdated.find((o: { package: string }) => o.package === name);
    assert.ok(entry, `${name} listed as outdated`);
    assert.is(entry.locked, old.version);

    const rb = await bulwark(['rebuild', '--security', dir, '--json']);
    assert.is(rb.code, 0, rb.stderr);
    const report = JSON.parse(rb.stdout);
    assert.ok(report.changes.some((c: { package: string; to: string }) => c.package === name && c.to === fresh.version), 'the pin went back to the security version');
    const img = report.images[0];
    assert.is(img.action, 'rebased', JSON.stringify(img));
    assert.ok(img.rebuiltLayers.every((l: string) => l.endsWith(`/${fresh.source}`)), `only ${fresh.source}'s layer was rebuilt: ${img.rebuiltLayers}`);
    assert.is((await readLockJson()).packages[name!]!.version, fresh.version);

    const clean = await bulwark(['outdated', dir, '--json']);
    assert.is(JSON.parse(clean.stdout).outdated.length, 0, 'clean on the updated lock');

    const freshBuild = await bulwark(['build', dir, '--no-cache', '--frozen-lock', '--json']);
    assert.is(freshBuild.code, 0, freshBuild.stderr);
    assert.is(JSON.parse(freshBuild.stdout).artifacts[0].id, img.image, 'the rebased image equals a fresh build from the new lock');

    const port = await freePort();
    const cname = 'bwtest-lock-probe';
    cleanup(() => docker(['rm', '-f', cname], true));
    await docker(['rm', '-f', cname], true);
    await docker(['run', '-d', '--name', cname, '-p', `127.0.0.1:${port}:3000`, img.image]);
    assert.is((await waitHttp(`http://127.0.0.1:${port}/healthz`)).status, 200);
  }));

test('an SBOM per image: CycloneDX, Debian packages with their sources, npm dependencies; named by digest in the image', () =>
  withTimeout(120_000, async () => {
    const r = await bulwark(['build', dir, '--json']);
    const a = JSON.parse(r.stdout).artifacts[0];
    const sbomText = await readFile(a.sbom, 'utf8');
    const sbom = JSON.parse(sbomText);
    assert.is(sbom.bomFormat, 'CycloneDX');
    const purls: string[] = sbom.components.map((c: { purl: string }) => c.purl);
    assert.ok(purls.some((p) => p.startsWith('pkg:deb/debian/nodejs@')));
    assert.ok(purls.some((p) => p.startsWith('pkg:npm/express@')));
    const libc = sbom.components.find((c: { name: string }) => c.name === 'libc6');
    assert.ok(libc.properties.some((p: { name: string; value: string }) => p.value === 'glibc'), 'source package recorded');
    const label = JSON.parse((await docker(['image', 'inspect', a.id])).stdout)[0].Config.Labels['dev.bulwark.sbom'];
    const { createHash } = await import('node:crypto');
    assert.is(label, `sha256:${createHash('sha256').update(sbomText).digest('hex')}`);
  }));

test.run();
