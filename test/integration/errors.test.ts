// Bad input: one clear line with the fix, the exit code of DESIGN, nothing half-built.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { spawn } from 'node:child_process';
import { bulwark, bulwarkBin, example, withTimeout } from '../helpers.js';
import { buildContainers, danglingImages } from './live.js';

const oneLine = (s: string) => s.trim().split('\n').filter((l) => l.startsWith('bulwark:'));

async function scratch(name: string): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'bw-err-'));
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function expressCopy(name: string): Promise<string> {
  const dir = await scratch(name);
  await cp(example('express-hello'), dir, { recursive: true, filter: (p) => !p.includes('/.bulwark') && !p.includes('node_modules') });
  return dir;
}

test('not an app: exit 2, one line naming the file to add, no build dir', () =>
  withTimeout(60_000, async () => {
    const dir = await scratch('empty');
    await writeFile(join(dir, 'notes.txt'), 'hello');
    const r = await bulwark(['build', dir]);
    assert.is(r.code, 2, r.stderr);
    const lines = oneLine(r.stderr);
    assert.is(lines.length, 1);
    assert.match(lines[0]!, /package\.json/);
    assert.not.ok(existsSync(join(dir, '.bulwark')), 'nothing written');
  }));

test('a folder that does not exist: exit 2', () =>
  withTimeout(30_000, async () => {
    const r = await bulwark(['detect', '/nonexistent/app']);
    assert.is(r.code, 2);
    assert.match(r.stderr, /no such folder/);
  }));

test('malformed package.json: exit 2 with file and line', () =>
  withTimeout(60_000, async () => {
    const dir = await expressCopy('badjson');
    await writeFile(join(dir, 'package.json'), '{\n  "name": "x",\n  "dependencies": { "express": "^4" \n}\n');
    const r = await bulwark(['build', dir]);
    assert.is(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr)[0]!, /package\.json:\d+/);
    assert.not.ok(existsSync(join(dir, '.bulwark')));
  }));

test('malformed Django settings: exit 2 naming the settings file', () =>
  withTimeout(60_000, async () => {
    const dir = await scratch('baddjango');
    await cp(example('django-hello'), dir, { recursive: true, filter: (p) => !p.includes('/.bulwark') });
    await writeFile(join(dir, 'mysite/settings.py'), (await readFile(join(dir, 'mysite/settings.py'), 'utf8')).replace("DATABASES = {", "DATABASES = {{"));
    const r = await bulwark(['build', dir]);
    assert.is(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr)[0]!, /settings\.py/);
  }));

test('unsupported runtime version: exit 2 saying what Debian ships', () =>
  withTimeout(60_000, async () => {
    const dir = await expressCopy('engines');
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    pkg.engines = { node: '>=22' };
    await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    const r = await bulwark(['build', dir]);
    assert.is(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr)[0]!, /engines\.node.*20\./);
  }));

test('dockerd not answering: exit 3 with how to start it', () =>
  withTimeout(120_000, async () => {
    const r = await bulwark(['build', example('express-hello')], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    assert.is(r.code, 3, r.stderr);
    assert.match(oneLine(r.stderr)[0]!, /Docker daemon is not running: start it/);
  }));

test('VM target: bad options fail at once (exit 2), and without root it says so (exit 3)', () =>
  withTimeout(180_000, async () => {
    const dir = await expressCopy('vm-bad');
    const key = join(dir, 'not-a-key.pub');
    await writeFile(key, 'hello\n');
    const bad = await bulwark(['build', dir, '--target', 'qemu', '--admin-key', key]);
    assert.is(bad.code, 2, bad.stderr);
    assert.match(oneLine(bad.stderr)[0]!, /--admin-key .*not an OpenSSH public key line/);
    const missing = await bulwark(['build', dir, '--target', 'qemu', '--admin-key', join(dir, 'nope.pub')]);
    assert.is(missing.code, 2);
    assert.match(oneLine(missing.stderr)[0]!, /no such file/);
    const size = await bulwark(['build', dir, '--target', 'qemu', '--disk-size', '100']);
    assert.is(size.code, 2);
    assert.match(oneLine(size.stderr)[0]!, /--disk-size 100: .*at least 1024/);
    assert.not.ok(existsSync(join(dir, '.bulwark', 'vm')), 'no VM folder');

    // As an unprivileged user (nobody): exit 3 naming root, before any image is built.
    const cache = await mkdtemp(join(tmpdir(), 'bw-nobody-cache-'));
    await run('chown', ['-R', '65534:65534', dir, cache]);
    await run('chmod', ['755', dirname(dir)]);
    const r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bulwarkBin, 'build', dir, '--target', 'qemu'], { allowFail: true, timeoutMs: 120_000, env: { ...process.env, BULWARK_CACHE: cache, HOME: cache } });
    assert.is(r.code, 3, r.stderr);
    assert.match(oneLine(r.stderr)[0]!, /--target qemu needs root/);
    await rm(cache, { recursive: true, force: true });
  }));

test('a failing npm ci inside the build: exit 1 with the npm error, no image, no container, no temp dirs', () =>
  withTimeout(600_000, async () => {
    const dir = await expressCopy('npmfail');
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    pkg.dependencies['left-pad'] = '^1.3.0'; // not in package-lock.json: npm ci refuses
    await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    const dangling = await danglingImages();
    const r = await bulwark(['build', dir]);
    assert.is(r.code, 1, r.stderr);
    const line = oneLine(r.stderr)[0]!;
    assert.match(line, /install\/build step failed/);
    assert.match(line, /logs/);
    assert.equal(await danglingImages(), dangling);
    assert.equal(await buildContainers(), []);
    const images = await import('../../src/build/proc.js').then((m) => m.run('docker', ['images', '-q', 'bulwark/npmfail']));
    assert.is(images.stdout.trim(), '', 'no image tagged');
    const tmp = join('/var/cache/bulwark/tmp');
    assert.equal(existsSync(tmp) ? readdirSync(tmp).filter((n) => n.startsWith('npmfail-')) : [], []);
  }));

test('a cancelled build (SIGINT) stops its build container and leaves nothing behind', () =>
  withTimeout(600_000, async () => {
    const dir = await expressCopy('slowbuild');
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    pkg.scripts.build = 'node -e "setTimeout(()=>{},120000)"';
    await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    const child = spawn(process.execPath, [bulwarkBin, 'build', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const t0 = Date.now();
    while ((await buildContainers()).length === 0 && Date.now() - t0 < 300_000) await new Promise((r) => setTimeout(r, 500));
    assert.ok((await buildContainers()).length > 0, 'the build container started: ' + err);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.is(code, 130);
    assert.match(err, /interrupted; cleaning up/);
    assert.equal(await buildContainers(), [], 'build container removed');
    const tmp = '/var/cache/bulwark/tmp';
    assert.equal(existsSync(tmp) ? readdirSync(tmp).filter((n) => n.startsWith('slowbuild-')) : [], []);
    await rm(dir, { recursive: true, force: true });
  }));

test.run();
