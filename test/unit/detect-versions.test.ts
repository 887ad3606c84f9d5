// The version checks behind "does Debian's runtime fit the app": npm ranges, PEP 440, gitignore, Python lexing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { satisfiesPep440, satisfiesSemver } from '../../src/detect/version-ranges.js';
import { suiteRuntimes } from '../../src/detect/runtimes.js';
import { checkPythonText } from '../../src/detect/pyscan.js';
import { jsonErrorOffset } from '../../src/detect/json-position.js';
import { plainNodeArgv } from '../../src/detect/node-app.js';

test('suite runtimes', () => {
  assert.equal(suiteRuntimes, { trixie: { node: '20.19.2', python: '3.13.5', yarn: 4 }, bookworm: { node: '18.19.0', python: '3.11.2', yarn: 1 } });
});

test('semver ranges', () => {
  const yes: [string, string][] = [
    ['20.19.2', '>=18'],
    ['20.19.2', '>=18 <21'],
    ['20.19.2', '^20.1.0'],
    ['20.19.2', '~20.19.0'],
    ['20.19.2', '20'],
    ['20.19.2', 'v20'],
    ['20.19.2', '20.x'],
    ['20.19.2', '20.19.x'],
    ['20.19.2', '*'],
    ['20.19.2', ''],
    ['20.19.2', '16 || 18 || 20'],
    ['20.19.2', '>= 18.0.0'],
    ['20.19.2', '18 - 20'],
    ['20.19.2', '<=20'],
    ['20.19.2', '>19'],
    ['20.19.2', '20.19.2'],
    ['18.19.0', '^18.12'],
    ['0.2.5', '^0.2.3'],
  ];
  const no: [string, string][] = [
    ['20.19.2', '>=22'],
    ['20.19.2', '<20'],
    ['20.19.2', '^18'],
    ['20.19.2', '~20.18'],
    ['20.19.2', '18 || 22'],
    ['20.19.2', '>20'],
    ['20.19.2', '20.19.1'],
    ['20.19.2', '18 - 19'],
    ['0.3.0', '^0.2.3'],
    ['18.19.0', '>=18.20'],
  ];
  for (const [v, r] of yes) assert.is(satisfiesSemver(v, r), true, `${v} ${r}`);
  for (const [v, r] of no) assert.is(satisfiesSemver(v, r), false, `${v} ${r}`);
  assert.is(satisfiesSemver('20.19.2', 'latest'), undefined);
});

test('PEP 440 specifiers', () => {
  for (const s of ['>=3.10', '>=3.9,<3.14', '~=3.13', '==3.13.*', '!=3.12.*', '>3.12', '<=3.13.5', '==3.13.5', '~=3.13.1'])
    assert.is(satisfiesPep440('3.13.5', s), true, s);
  for (const s of ['>=3.14', '<3.13', '==3.12.*', '~=3.12.0', '==3.13', '!=3.13.5', '>3.13.5'])
    assert.is(satisfiesPep440('3.13.5', s), false, s);
  assert.is(satisfiesPep440('3.13.5', 'python3'), undefined);
});

test('python lexing catches unbalanced brackets and open strings, not valid code', () => {
  assert.is(checkPythonText("X = [1, (2, 3)]\nS = '''a\n(b'''\n# ( comment\nT = 'it\\'s'\nU = \"[\"\n"), undefined);
  assert.equal(checkPythonText('A = [\n  1,\n'), { line: 1, message: "'[' was never closed" });
  assert.equal(checkPythonText('A = (1]\n'), { line: 1, message: "closing ']' does not match '(' on line 1" });
  assert.equal(checkPythonText('A = 1)\n'), { line: 1, message: "unmatched ')'" });
  assert.equal(checkPythonText('A = 1\nB = """x\n'), { line: 2, message: 'unterminated triple-quoted string' });
});

test('json error offsets', () => {
  assert.is(jsonErrorOffset('{"a": [1, 2, {"b": null}], "c": "\\u00e9"}'), -1);
  assert.is(jsonErrorOffset('{"a": 1,}'), 8);
  assert.is(jsonErrorOffset("{'a': 1}"), 1);
  assert.is(jsonErrorOffset('{"a": 1'), 7);
});

test('plain node start scripts', () => {
  assert.equal(plainNodeArgv('node server.js'), ['node', 'server.js']);
  assert.equal(plainNodeArgv('node -r dotenv/config dist/main.js --port=8080'), ['node', '-r', 'dotenv/config', 'dist/main.js', '--port=8080']);
  for (const s of ['node', 'node -e "x"', 'npm start', 'node a.js && node b.js', 'node a.js | tee x', 'PORT=1 node a.js', 'node $FILE', 'nodemon a.js'])
    assert.is(plainNodeArgv(s), undefined, s);
});

test.run();
