import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { debianNameFor, mapRequirements, pep440Satisfies, upstreamOf } from '../../src/plan/python-deps.js';
import { buildUniverse } from '../../src/lock/resolve.js';

test('PEP 440 specifiers on release numbers', () => {
  assert.ok(pep440Satisfies('4.2.28', '>=4.2,<5.0'));
  assert.not.ok(pep440Satisfies('4.2.28', '>=5'));
  assert.ok(pep440Satisfies('4.2.28', '~=4.2'));
  assert.not.ok(pep440Satisfies('5.0', '~=4.2'));
  assert.ok(pep440Satisfies('4.2.28', '==4.2.*'));
  assert.not.ok(pep440Satisfies('4.3', '==4.2.*'));
  assert.ok(pep440Satisfies('23.0.0', '!=22.0'));
});

test('Debian names and upstream versions', () => {
  assert.is(debianNameFor('Django'), 'python3-django');
  assert.is(debianNameFor('Pillow'), 'python3-pil');
  assert.is(debianNameFor('typing_extensions'), 'python3-typing-extensions');
  assert.is(upstreamOf('3:4.2.28-0+deb13u2'), '4.2.28');
  assert.is(upstreamOf('23.0.0-1'), '23.0.0');
});

const deb = (name: string, version: string) => ({ name, version, arch: 'all', source: name, sourceVersion: version, filename: '', sha256: '', size: 0, depends: '', provides: '', suite: 'trixie', baseUrl: '' });

test('requirements map to Debian packages, or one line naming the requirement and what Debian has', () => {
  const u = buildUniverse([[deb('python3-django', '3:4.2.28-0+deb13u2'), deb('python3-gunicorn', '23.0.0-1')]]);
  const ev = (line: number) => [{ file: 'requirements.txt', line }];
  const ok = mapRequirements([{ name: 'Django', spec: '>=4.2,<5.0', evidence: ev(1) }, { name: 'gunicorn', spec: '', evidence: ev(2) }], u, 'trixie');
  assert.equal(ok, { packages: ['python3-django', 'python3-gunicorn'], problems: [] });
  const bad = mapRequirements([{ name: 'Django', spec: '>=5.1', evidence: ev(3) }, { name: 'leftpad', spec: '', evidence: ev(4) }], u, 'trixie');
  assert.is(bad.problems.length, 2);
  assert.match(bad.problems[0]!, /^requirements.txt:3: Django>=5.1 is not met by Debian trixie's python3-django 4.2.28/);
  assert.match(bad.problems[1]!, /^requirements.txt:4: leftpad has no Debian package/);
});

test.run();
