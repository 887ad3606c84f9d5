import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareDebVersions, satisfies } from '../../src/lock/debversion.js';
import { buildUniverse, parseDepends, resolveClosure, RUNTIME_EXCLUDES } from '../../src/lock/resolve.js';
import { parseStanzas, type DebPackage } from '../../src/lock/archive.js';

test('Debian version order follows deb-version(7)', () => {
  const ordered = ['1.0~rc1', '1.0', '1.0-1', '1.0-1+deb13u1', '1.0.1', '1:0.9', '2:0.1'];
  for (let i = 0; i + 1 < ordered.length; i++) assert.ok(compareDebVersions(ordered[i]!, ordered[i + 1]!) < 0, `${ordered[i]} < ${ordered[i + 1]}`);
  assert.is(compareDebVersions('20.19.2+dfsg-1+deb13u3', '20.19.2+dfsg-1+deb13u3'), 0);
  assert.ok(compareDebVersions('20.19.2+dfsg-1+deb13u3', '20.19.2+dfsg-1+deb13u2') > 0);
  assert.ok(compareDebVersions('3.13.5-2+deb13u5', '3.13.5-2') > 0);
  assert.ok(satisfies('2.41-12', '>=', '2.38'));
  assert.not.ok(satisfies('2.36-9', '>=', '2.38'));
  assert.ok(satisfies('1.0', '<<', '1.0.1'));
});

test('parseDepends keeps alternatives, versions and :any', () => {
  const d = parseDepends('libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, python3:any');
  assert.equal(d.length, 3);
  assert.equal(d[1]!.map((r) => r.name), ['debconf', 'debconf-2.0']);
  assert.equal(d[0]![0], { name: 'libc6', op: '>=', version: '2.34' });
  assert.is(d[2]![0]!.name, 'python3');
});

const pkg = (name: string, version: string, depends = '', provides = '', suite = 'trixie'): DebPackage => ({
  name, version, arch: 'amd64', source: name, sourceVersion: version, filename: `pool/${name}.deb`, sha256: name.padEnd(64, '0'), size: 1, depends, provides, suite, baseUrl: 'http://m',
});

test('universe picks the highest version across suite, -updates and -security', () => {
  const u = buildUniverse([[pkg('libssl3t64', '3.5.1-1')], [pkg('libssl3t64', '3.5.1-1+deb13u1', '', '', 'trixie-security')]]);
  assert.is(u.byName.get('libssl3t64')!.version, '3.5.1-1+deb13u1');
  assert.is(u.byName.get('libssl3t64')!.suite, 'trixie-security');
});

test('closure follows dependencies, virtual packages, and leaves out shells and dpkg', () => {
  const u = buildUniverse([[
    pkg('nodejs', '20', 'libc6 (>= 2.34), libnode115 (= 20)'),
    pkg('libnode115', '20', 'libc6, debconf (>= 0.5) | debconf-2.0, mail-transport-agent'),
    pkg('libc6', '2.41', 'libgcc-s1'),
    pkg('libgcc-s1', '14'),
    pkg('exim4', '4', 'bash', 'mail-transport-agent'),
    pkg('bash', '5'),
  ]]);
  const names = resolveClosure(u, ['nodejs'], { exclude: RUNTIME_EXCLUDES }).map((p) => p.name);
  assert.equal(names, ['exim4', 'libc6', 'libgcc-s1', 'libnode115', 'nodejs']);
  const upper = resolveClosure(u, ['nodejs'], { exclude: RUNTIME_EXCLUDES, have: ['libc6', 'libgcc-s1'] }).map((p) => p.name);
  assert.not.ok(upper.includes('libc6'), 'a layer holds only what the layers below it lack');
  assert.throws(() => resolveClosure(u, ['nope']), /nope/);
});

test('parseStanzas reads multi-line fields', () => {
  const s = parseStanzas('Origin: Debian\nSHA256:\n abc 12 main/binary-amd64/Packages.xz\n def 3 x\n\nPackage: a\n');
  assert.is(s.length, 2);
  assert.ok(s[0]!['SHA256']!.includes('main/binary-amd64/Packages.xz'));
});

test.run();
