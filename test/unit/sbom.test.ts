import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { hashesFromIntegrity, renderCycloneDx, npmComponentsFromLock, yarnComponentsFromBerryLock, type SbomInput } from '../../src/sbom/cyclonedx.js';
import { yarnComponentsFromClassicLock, yarnComponentsFromLock } from '../../src/sbom/lockfiles.js';
import { debPurl, npmPurl, pypiPurl } from '../../src/sbom/purl.js';
import { fixture } from '../helpers.js';

const SHA512_B64 = Buffer.from(Array.from({ length: 64 }, (_, i) => i)).toString('base64');

const input = (): SbomInput => ({
  app: 'web',
  version: '3f2a9c0d1e4b',
  created: '2025-09-15T12:00:00Z',
  bulwarkVersion: '0.1.0',
  debian: [
    { name: 'zlib1g', version: '1:1.3.dfsg+really1.3.1-1+deb13u1', arch: 'amd64', source: 'zlib', sourceVersion: '1:1.3.dfsg+really1.3.1-1+deb13u1', sha256: 'a'.repeat(64), suite: 'trixie-security', layer: 'userland' },
    { name: 'libexpat1', version: '2.9.0-1~deb13u1', arch: 'amd64', source: 'expat', sourceVersion: '2.9.0-1~deb13u1', sha256: 'b'.repeat(64), suite: 'trixie', layer: 'userland' },
    { name: 'libstdc++6', version: '14.2.0-19', arch: 'amd64', source: 'gcc-14', sourceVersion: '14.2.0-19', sha256: 'c'.repeat(64), suite: 'trixie', layer: 'userland' },
    { name: 'nodejs', version: '20.19.2+dfsg-1+deb13u3', arch: 'amd64', source: 'nodejs', sourceVersion: '20.19.2+dfsg-1+deb13u3', sha256: 'd'.repeat(64), suite: 'trixie-security', layer: 'runtime-node' },
    { name: 'tzdata', version: '2025b-4+deb13u1', arch: 'all', source: 'tzdata', sourceVersion: '2025b-4+deb13u1', sha256: 'e'.repeat(64), suite: 'trixie-updates', layer: 'userland' },
  ],
  npm: [
    { name: 'express', version: '4.21.2', integrity: `sha512-${SHA512_B64}`, resolved: 'https://registry.npmjs.org/express/-/express-4.21.2.tgz' },
    { name: '@acme/logger', version: '2.1.0+build.7' },
    { name: 'express', version: '4.21.2', integrity: `sha512-${SHA512_B64}` }, // a second copy in node_modules
  ],
  python: [{ name: 'Flask_Login', version: '0.6.3', debianPackage: 'python3-flask-login' }, { name: 'gunicorn', version: '23.0.0' }],
});

type Bom = {
  bomFormat: string; specVersion: string; version: number; serialNumber: string;
  metadata: { timestamp: string; tools: { components: Array<{ name: string; version: string }> }; component: { type: string; name: string; version: string; 'bom-ref': string } };
  components: Array<{ type: string; name: string; version: string; purl: string; 'bom-ref': string; hashes?: Array<{ alg: string; content: string }>; properties?: Array<{ name: string; value: string }> }>;
};
const bom = (i = input()): Bom => JSON.parse(renderCycloneDx(i));
const prop = (c: Bom['components'][number], name: string) => c.properties?.find((p) => p.name === name)?.value;

test('CycloneDX 1.5 essentials: format, version, serial number, metadata', () => {
  const b = bom();
  assert.is(b.bomFormat, 'CycloneDX');
  assert.is(b.specVersion, '1.5');
  assert.is(b.version, 1);
  assert.match(b.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.is(b.metadata.timestamp, '2025-09-15T12:00:00Z', 'the input time, not the clock');
  assert.equal(b.metadata.component, { 'bom-ref': 'bulwark/web@3f2a9c0d1e4b', type: 'container', name: 'bulwark/web', version: '3f2a9c0d1e4b' });
  assert.equal(b.metadata.tools.components.map((t) => `${t.name} ${t.version}`), ['bulwark 0.1.0']);
  assert.throws(() => renderCycloneDx({ ...input(), created: 'yesterday' }), /ISO/);
});

test('components: type, name, version, purl and a unique bom-ref each, sorted by bom-ref', () => {
  const { components } = bom();
  assert.is(components.length, 5 + 2 + 2, 'the second express copy is the same component');
  for (const c of components) {
    for (const k of ['type', 'name', 'version', 'purl', 'bom-ref'] as const) assert.type(c[k], 'string', `${c.name}.${k}`);
    assert.is(c.type, 'library');
    assert.is(c['bom-ref'], c.purl);
  }
  const refs = components.map((c) => c['bom-ref']);
  assert.is(new Set(refs).size, refs.length);
  assert.equal(refs, [...refs].sort());
});

test('Debian purls: epoch as a qualifier, + encoded, ~ kept, distro from the suite', () => {
  const by = Object.fromEntries(bom().components.map((c) => [c.name, c]));
  assert.is(by['zlib1g']!.purl, 'pkg:deb/debian/zlib1g@1.3.dfsg%2Breally1.3.1-1%2Bdeb13u1?arch=amd64&distro=debian-trixie&epoch=1');
  assert.is(by['zlib1g']!.version, '1:1.3.dfsg+really1.3.1-1+deb13u1', 'the component keeps the full Debian version');
  assert.is(by['libexpat1']!.purl, 'pkg:deb/debian/libexpat1@2.9.0-1~deb13u1?arch=amd64&distro=debian-trixie');
  assert.is(by['libstdc++6']!.purl, 'pkg:deb/debian/libstdc%2B%2B6@14.2.0-19?arch=amd64&distro=debian-trixie');
  assert.is(by['tzdata']!.purl, 'pkg:deb/debian/tzdata@2025b-4%2Bdeb13u1?arch=all&distro=debian-trixie');
  assert.is(debPurl({ name: 'x', version: '0:1.0-1', arch: 'amd64', suite: 'bookworm' }), 'pkg:deb/debian/x@1.0-1?arch=amd64&distro=debian-bookworm', 'epoch 0 is no epoch');
});

test('Debian components carry layer, suite, source package and version, and the .deb sha256', () => {
  const node = bom().components.find((c) => c.name === 'nodejs')!;
  assert.is(prop(node, 'bulwark:layer'), 'runtime-node');
  assert.is(prop(node, 'bulwark:suite'), 'trixie-security');
  assert.is(prop(node, 'debian:source'), 'nodejs');
  assert.is(prop(node, 'debian:source-version'), '20.19.2+dfsg-1+deb13u3');
  assert.equal(node.hashes, [{ alg: 'SHA-256', content: 'd'.repeat(64) }]);
  const zlib = bom().components.find((c) => c.name === 'zlib1g')!;
  assert.is(prop(zlib, 'debian:source'), 'zlib');
  assert.equal(zlib.properties!.map((p) => p.name), [...zlib.properties!.map((p) => p.name)].sort());
});

test('npm and Python components: scoped purl, SRI integrity as hex, PyPI names normalized', () => {
  const by = Object.fromEntries(bom().components.map((c) => [c.name, c]));
  assert.is(by['@acme/logger']!.purl, 'pkg:npm/%40acme/logger@2.1.0%2Bbuild.7');
  assert.is(by['express']!.purl, 'pkg:npm/express@4.21.2');
  assert.equal(by['express']!.hashes, [{ alg: 'SHA-512', content: Buffer.from(SHA512_B64, 'base64').toString('hex') }]);
  assert.is(by['express']!.hashes![0]!.content.length, 128);
  assert.is(by['Flask_Login']!.purl, 'pkg:pypi/flask-login@0.6.3');
  assert.is(prop(by['Flask_Login']!, 'bulwark:debian-package'), 'python3-flask-login');
  assert.is(by['gunicorn']!.properties, undefined);
  assert.is(npmPurl({ name: '@types/node', version: '20.1.0' }), 'pkg:npm/%40types/node@20.1.0');
  assert.is(pypiPurl({ name: 'zope.interface', version: '7.2' }), 'pkg:pypi/zope-interface@7.2');
  assert.equal(hashesFromIntegrity(`sha1-${Buffer.alloc(20, 1).toString('base64')} sha512-${SHA512_B64}`).map((h) => h.alg), ['SHA-1', 'SHA-512']);
  assert.equal(hashesFromIntegrity('md5-zzz'), []);
  assert.equal(hashesFromIntegrity(`sha512-${Buffer.alloc(65).toString('base64')}`), [], 'a digest of the wrong length is dropped');
});

test('deterministic: same input, same bytes; input order does not matter; content changes the serial', () => {
  const a = renderCycloneDx(input());
  assert.is(renderCycloneDx(input()), a);
  const shuffled = input();
  shuffled.debian.reverse();
  shuffled.npm.reverse();
  shuffled.python.reverse();
  assert.is(renderCycloneDx(shuffled), a);
  const changed = input();
  changed.debian[0]!.version = '1:1.3.dfsg+really1.3.1-1+deb13u2';
  assert.is.not(bom(changed).serialNumber, bom().serialNumber);
  assert.is.not(bom({ ...input(), created: '2025-09-16T12:00:00Z' }).serialNumber, bom().serialNumber);
  assert.not.match(a, /"undefined"|null/);
});

test('npmComponentsFromLock: lockfile v3 packages, root and dev left out, aliases by real name', async () => {
  const lock = JSON.parse(await readFile(fixture('lock', 'project', 'web', 'package-lock.json'), 'utf8'));
  const prod = npmComponentsFromLock(lock);
  assert.equal(prod.map((c) => `${c.name}@${c.version}`), ['@acme/logger@2.1.0', 'body-parser@1.19.0', 'express@4.17.1', 'left-pad@1.3.0', 'qs@6.11.0', 'qs@6.7.0']);
  const express = prod.find((c) => c.name === 'express')!;
  assert.is(express.resolved, 'https://registry.npmjs.org/express/-/express-4.17.1.tgz');
  assert.match(express.integrity!, /^sha512-/);
  assert.is(express.dev, undefined);
  const all = npmComponentsFromLock(lock, { includeDev: true });
  assert.equal(all.filter((c) => c.dev).map((c) => c.name), ['mocha']);
  assert.equal(npmComponentsFromLock({ packages: { '': { name: 'x' }, 'packages/lib': { version: '1.0.0' }, 'node_modules/lib': { link: true, resolved: 'packages/lib' } } }), [], 'workspaces and links are the app itself');
  assert.equal(npmComponentsFromLock('nope'), []);
});

const BERRY = `# This file is generated by running "yarn install" inside your project.
# Manual changes might be lost - proceed with caution!

__metadata:
  version: 8
  cacheKey: 10c0

"@acme/logger@npm:^2.1.0":
  version: 2.1.0
  resolution: "@acme/logger@npm:2.1.0"
  checksum: 10c0/0123abcd
  languageName: node
  linkType: hard

"express@npm:^4.19.0, express@npm:^4.21.0":
  version: 4.21.2
  resolution: "express@npm:4.21.2"
  dependencies:
    qs: "npm:6.13.0"
  checksum: 10c0/4567ef
  languageName: node
  linkType: hard

"resolve@npm:^1.22.0":
  version: 1.22.8
  resolution: "resolve@npm:1.22.8"
  languageName: node
  linkType: hard

"resolve@patch:resolve@npm%3A^1.22.0#optional!builtin<compat/resolve>":
  version: 1.22.8
  resolution: "resolve@patch:resolve@npm%3A1.22.8#optional!builtin<compat/resolve>::version=1.22.8&hash=c3c19d"
  languageName: node
  linkType: hard

"string-width-cjs@npm:string-width@^4.2.0":
  version: 4.2.3
  resolution: "string-width@npm:4.2.3"
  languageName: node
  linkType: hard

"web@workspace:.":
  version: 0.0.0-use.local
  resolution: "web@workspace:."
  languageName: unknown
  linkType: soft
`;

test('yarnComponentsFromBerryLock: npm resolutions only, aliases by real name, no workspace or patch', () => {
  const c = yarnComponentsFromBerryLock(BERRY);
  assert.equal(c.map((x) => `${x.name}@${x.version}`), ['@acme/logger@2.1.0', 'express@4.21.2', 'resolve@1.22.8', 'string-width@4.2.3']);
  assert.is(c[1]!.integrity, undefined, "berry's checksum hashes Yarn's zip, not the npm tarball");
  assert.equal(yarnComponentsFromLock(BERRY), c);
});

test('yarnComponentsFromClassicLock: Yarn 1 entries with resolved and integrity', () => {
  const text = `# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@acme/logger@^2.1.0":
  version "2.1.0"
  resolved "https://registry.yarnpkg.com/@acme/logger/-/logger-2.1.0.tgz#abc"
  integrity sha512-${SHA512_B64}

express@^4.19.0, express@^4.21.0:
  version "4.21.2"
  resolved "https://registry.yarnpkg.com/express/-/express-4.21.2.tgz"
  dependencies:
    qs "6.13.0"

"shared@file:../shared":
  version "1.0.0"
`;
  const c = yarnComponentsFromClassicLock(text);
  assert.equal(c.map((x) => `${x.name}@${x.version}`), ['@acme/logger@2.1.0', 'express@4.21.2']);
  assert.is(c[0]!.integrity, `sha512-${SHA512_B64}`);
  assert.equal(yarnComponentsFromLock(text), c);
});

test('an SBOM from a package-lock: production dependencies only', async () => {
  const lock = JSON.parse(await readFile(fixture('lock', 'project', 'web', 'package-lock.json'), 'utf8'));
  const b = bom({ ...input(), debian: [], python: [], npm: npmComponentsFromLock(lock) });
  assert.not.ok(b.components.some((c) => c.name === 'mocha'));
  assert.ok(b.components.some((c) => c.purl === 'pkg:npm/left-pad@1.3.0'));
  assert.is(b.components.filter((c) => c.name === 'qs').length, 2, 'two versions of qs are two components');
});

test.run();
