// `bulwark audit` against real images in the local dockerd. The images are tiny tars made here
// (docker import / docker load: no registry), removed again by each test's cleanup.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { renderCompose } from '../../src/render/compose.js';
import type { AppPlan } from '../../src/plan/types.js';
import type { AppSpec, ArtifactManifest } from '../../src/types.js';
import type { AuditReport, CheckStatus } from '../../src/audit/types.js';
import { bulwark, withTimeout } from '../helpers.js';
import { badChanges, badFiles, goodChanges, goodFiles, GOOD_UID, layeredArchive, makeTar, type TarFile } from '../fixtures/audit/images.js';

type Cleanup = (c: () => Promise<unknown> | unknown) => void;
const TAG = (what: string) => `bulwark-audit-test-${what}:${process.pid}`;

async function tempDir(cleanup: Cleanup): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-audit-it-'));
  cleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** docker import a tar of `files` with Dockerfile `changes`; returns the image ID. */
async function importImage(files: TarFile[], changes: string[], tag: string, cleanup: Cleanup): Promise<string> {
  const dir = await tempDir(cleanup);
  const tarFile = join(dir, 'rootfs.tar');
  await writeFile(tarFile, await makeTar(files));
  cleanup(() => run('docker', ['rmi', '-f', tag], { allowFail: true }));
  const args = ['import', ...changes.flatMap((c) => ['--change', c]), tarFile, tag];
  return (await run('docker', args, { timeoutMs: 120_000 })).stdout.trim();
}

const statuses = (rep: AuditReport): Record<string, CheckStatus> => Object.fromEntries(rep.results.map((r) => [r.id, r.status]));
const evidence = (rep: AuditReport, id: string) => rep.results.find((r) => r.id === id)?.evidence ?? '';

function parseReport(stdout: string): AuditReport {
  const rep = JSON.parse(stdout) as AuditReport;
  assert.is(rep.results.length, 15);
  return rep;
}

/** A compose file Bulwark would render for the "good" fixture app. */
function goodCompose(imageRef: string): string {
  const fact = <T>(value: T) => ({ value, evidence: [] });
  const spec: AppSpec = {
    name: 'good',
    dir: '/nonexistent/good',
    framework: fact('static'),
    runtime: fact('static'),
    runtimeVersion: fact(''),
    packageManager: fact('none'),
    install: fact([]),
    build: fact([]),
    start: fact({ argv: ['/app/server'], portVia: 'env' }),
    port: fact(3000),
    healthPath: fact('/'),
    staticDirs: fact(['.']),
    writable: [],
    secrets: [],
  };
  const plan: AppPlan = { spec, uid: GOOD_UID, image: 'bulwark/good', stateVolume: 'good-state', layers: [], appPackages: [], appHash: 'x', contentHash: 'test', env: {} };
  return renderCompose(plan, imageRef);
}

test('a bad image fails A1–A6 and A15, with run-config checks skipped', () =>
  withTimeout(120_000, async (cleanup) => {
    const id = await importImage(badFiles, badChanges, TAG('bad'), cleanup);
    const r = await bulwark(['audit', id, '--json']);
    assert.is(r.code, 1, r.stderr);
    const rep = parseReport(r.stdout);
    const s = statuses(rep);
    for (const check of ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A15']) assert.is(s[check], 'fail', `${check}: ${evidence(rep, check)}`);
    for (const check of ['A7', 'A8', 'A9', 'A10', 'A11', 'A12', 'A13', 'A14']) {
      assert.is(s[check], 'skip', check);
      assert.is(evidence(rep, check), 'no run config: pass --run-config FILE');
    }
    assert.match(evidence(rep, 'A3'), '/usr/bin/passwd');
    assert.match(evidence(rep, 'A4'), 'API_TOKEN');
    assert.match(evidence(rep, 'A4'), '/app/.env');
    assert.not.match(r.stdout, 'hunter2');
    assert.match(evidence(rep, 'A5'), '/bin/sh');
    assert.is(rep.image, id);
    assert.is(rep.failed, 7);
    assert.is(rep.score, 0);
  }),
);

test('a good-enough image passes the image checks; the table ends with the summary', () =>
  withTimeout(120_000, async (cleanup) => {
    const tag = TAG('good');
    await importImage(goodFiles, goodChanges, tag, cleanup);
    const r = await bulwark(['audit', tag, '--json']);
    assert.is(r.code, 0, r.stderr + r.stdout);
    const rep = parseReport(r.stdout);
    for (const check of ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A15']) assert.is(statuses(rep)[check], 'pass', `${check}: ${evidence(rep, check)}`);
    assert.is(rep.score, 100);
    assert.is(rep.target, tag);

    const table = await bulwark(['audit', tag]);
    assert.is(table.code, 0);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+STATUS/);
    assert.is(lines.at(-1), `audit ${tag}: 7 passed, 0 failed, 0 warnings, score 100 (8 skipped)`);
    assert.not.match(table.stdout, '\x1b['); // NO_COLOR and not a TTY
  }),
);

test('with the rendered compose file, A7–A14 are checked; --level warn turns warnings into failure', () =>
  withTimeout(120_000, async (cleanup) => {
    const id = await importImage(goodFiles, goodChanges, TAG('good-run'), cleanup);
    const dir = await tempDir(cleanup);
    const composeFile = join(dir, 'compose.yaml');
    await writeFile(composeFile, goodCompose(id));
    const r = await bulwark(['audit', id, '--run-config', composeFile, '--json']);
    assert.is(r.code, 0, r.stderr + r.stdout);
    const rep = parseReport(r.stdout);
    assert.is(rep.runConfig, composeFile);
    const s = statuses(rep);
    for (const check of ['A7', 'A8', 'A9', 'A10', 'A11', 'A13', 'A14', 'A15']) assert.is(s[check], 'pass', `${check}: ${evidence(rep, check)}`);
    // A12 depends on this host: a warning without AppArmor, a pass with it.
    assert.ok(s.A12 === 'pass' || s.A12 === 'warn', evidence(rep, 'A12'));
    const strict = await bulwark(['audit', id, '--run-config', composeFile, '--json', '--level', 'warn']);
    assert.is(strict.code, s.A12 === 'warn' ? 1 : 0);

    await writeFile(composeFile, goodCompose(id).replace('127.0.0.1:3000:3000', '3000:3000').replace('    read_only: true\n', ''));
    const broken = await bulwark(['audit', id, '--run-config', composeFile, '--json']);
    assert.is(broken.code, 1);
    const b = statuses(parseReport(broken.stdout));
    assert.is(b.A7, 'fail');
    assert.is(b.A13, 'fail');
  }),
);

test('an app folder: artifacts.json names the image and compose file; bulwark.lock feeds A6', () =>
  withTimeout(120_000, async (cleanup) => {
    const id = await importImage(goodFiles, goodChanges, TAG('good-dir'), cleanup);
    const dir = await tempDir(cleanup);
    await mkdir(join(dir, '.bulwark', 'build', 'good'), { recursive: true });
    const composeFile = join(dir, '.bulwark', 'build', 'good', 'compose.yaml');
    await writeFile(composeFile, goodCompose(id));
    const manifest: ArtifactManifest = {
      schemaVersion: 1,
      artifacts: [{ app: 'good', target: 'docker', kind: 'docker-image', id, tags: [], runConfig: composeFile, port: 3000, stateVolume: 'good-state', healthPath: '/' }],
    };
    await writeFile(join(dir, '.bulwark', 'artifacts.json'), JSON.stringify(manifest));
    const r = await bulwark(['audit', dir, '--json']);
    assert.is(r.code, 0, r.stderr + r.stdout);
    const rep = parseReport(r.stdout);
    assert.is(rep.target, dir);
    assert.is(rep.runConfig, composeFile);
    assert.is(statuses(rep).A7, 'pass');
    assert.match(evidence(rep, 'A6'), 'no lock yet: base layers pinned by digest in labels');

    // A lock whose entry for the app lacks the userland layer the image labels name.
    const pin = { version: '1', arch: 'amd64', suite: 'trixie', filename: 'pool/x.deb', sha256: 'a'.repeat(64), size: 1, source: 'x', sourceVersion: '1', depends: '' };
    await writeFile(join(dir, 'bulwark.lock'), JSON.stringify({
      lockVersion: 1, suite: 'trixie', mirror: 'http://m', securityMirror: 'http://s', sourceDateEpoch: 1, indexes: {}, runtimes: {},
      layers: { 'runtime-node': { definition: 'd', packages: ['nodejs'] } }, packages: { nodejs: pin },
      apps: { good: { path: '.', layers: ['runtime-node'], dependencyLock: null } },
    }));
    const locked = await bulwark(['audit', dir, '--json']);
    assert.is(locked.code, 1);
    const lrep = parseReport(locked.stdout);
    assert.is(statuses(lrep).A6, 'fail');
    assert.match(evidence(lrep, 'A6'), 'userland');
  }),
);

test('a setuid binary deleted by a later layer still fails A3 (docker load of a two-layer image)', () =>
  withTimeout(120_000, async (cleanup) => {
    const tag = TAG('layered');
    const dir = await tempDir(cleanup);
    const archive = join(dir, 'image.tar');
    await writeFile(archive, await layeredArchive(tag));
    cleanup(() => run('docker', ['rmi', '-f', tag], { allowFail: true }));
    await run('docker', ['load', '-i', archive], { timeoutMs: 120_000 });
    const r = await bulwark(['audit', tag, '--json']);
    assert.is(r.code, 1);
    const rep = parseReport(r.stdout);
    assert.is(statuses(rep).A3, 'fail');
    assert.match(evidence(rep, 'A3'), '/usr/bin/su (4755, layer 1, removed later)');
    assert.match(evidence(rep, 'A4'), '/app/id_rsa');
    assert.is(statuses(rep).A5, 'pass');
  }),
);

test('a nonexistent image exits 2 with one line', () =>
  withTimeout(60_000, async () => {
    const r = await bulwark(['audit', 'bulwark-audit-test-missing:nope', '--json']);
    assert.is(r.code, 2);
    assert.is(r.stdout, '');
    assert.is(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, 'no such image or app folder: bulwark-audit-test-missing:nope');
  }),
);

test('a folder without .bulwark/artifacts.json exits 2 and says to build first', () =>
  withTimeout(60_000, async (cleanup) => {
    const dir = await tempDir(cleanup);
    const r = await bulwark(['audit', dir]);
    assert.is(r.code, 2);
    assert.match(r.stderr, `no .bulwark/artifacts.json in ${dir}: run \`bulwark build ${dir}\` first`);
  }),
);

test('Docker not answering exits 3', () =>
  withTimeout(60_000, async () => {
    const r = await bulwark(['audit', 'some-image:1'], { env: { DOCKER_HOST: 'unix:///nonexistent/bulwark-audit.sock' } });
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, 'Docker daemon is not running');
  }),
);

test('usage errors exit 2', () =>
  withTimeout(60_000, async (cleanup) => {
    const dir = await tempDir(cleanup);
    assert.is((await bulwark(['audit', dir, '--level', 'loud'])).code, 2);
    assert.is((await bulwark(['audit', dir, '--bogus'])).code, 2);
    assert.is((await bulwark(['audit', 'a', 'b'])).code, 2);
    assert.is((await bulwark(['audit', 'x', '--run-config', join(dir, 'missing.yaml')])).code, 2);
    const help = await bulwark(['audit', '--help']);
    assert.is(help.code, 0);
    assert.match(help.stdout, '--run-config FILE');
  }),
);

test.run();
