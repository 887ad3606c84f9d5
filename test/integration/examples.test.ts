// The bundled examples, built for real with dockerd, run with their generated compose.yaml and
// with a plain `docker run`, probed over HTTP on 127.0.0.1, stopped, and audited.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bulwark, example, withTimeout } from '../helpers.js';
import { run } from '../../src/build/proc.js';
import { docker, freePort, timeStop, waitHealthy, waitHttp, danglingImages } from './live.js';
import type { ArtifactManifest } from '../../src/types.js';

interface Case {
  app: string;
  port: number;
  page: RegExp;
  health: string;
  writePath: string;
  secret: string;
  staticPath: string;
  staticText: RegExp;
}

const cases: Case[] = [
  { app: 'express-hello', port: 3000, page: /Hello from express-hello/, health: '/healthz', writePath: '/notes', secret: 'SESSION_SECRET', staticPath: '/style.css', staticText: /font-family/ },
  { app: 'django-hello', port: 8000, page: /Hello from django-hello/, health: '/healthz/', writePath: '/notes/', secret: 'SECRET_KEY', staticPath: '/static/notes/style.css', staticText: /font-family/ },
];

const built = new Map<string, ArtifactManifest['artifacts'][number]>();

for (const c of cases) {
  test(`${c.app}: bulwark build --json gives a docker-image artifact with a hardened config`, () =>
    withTimeout(900_000, async () => {
      const dangling = await danglingImages();
      const r = await bulwark(['build', example(c.app), '--json']);
      assert.is(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as ArtifactManifest;
      assert.is(out.schemaVersion, 1);
      const a = out.artifacts.find((x) => x.kind === 'docker-image')!;
      assert.ok(a, 'a docker-image artifact');
      assert.match(a.id, /^sha256:[0-9a-f]{64}$/);
      assert.ok(a.tags.includes(`bulwark/${c.app}:latest`));
      assert.ok(a.tags.some((t) => /^bulwark\/[a-z0-9-]+:[0-9a-f]{16}$/.test(t)));
      assert.is(a.port, c.port);
      assert.is(a.healthPath, c.health);
      assert.ok(a.runConfig && existsSync(a.runConfig), 'compose.yaml exists');
      const manifest = JSON.parse(readFileSync(`${example(c.app)}/.bulwark/artifacts.json`, 'utf8')) as ArtifactManifest;
      assert.ok(manifest.artifacts.some((m) => m.id === a.id), 'recorded in .bulwark/artifacts.json');
      const inspect = JSON.parse((await docker(['image', 'inspect', a.id])).stdout)[0];
      const cfg = inspect.Config;
      const uid = Number(cfg.User.split(':')[0]);
      assert.ok(uid >= 10000, `numeric non-root uid, got ${cfg.User}`);
      assert.is(cfg.Healthcheck.Test[0], 'CMD');
      assert.equal(cfg.Entrypoint.slice(0, 1), ['/usr/bin/tini']);
      assert.ok(cfg.Volumes[`/var/lib/${c.app}`]);
      assert.ok(cfg.ExposedPorts[`${c.port}/tcp`]);
      assert.match(cfg.Labels['dev.bulwark.base.userland'], /^sha256:[0-9a-f]{64}$/);
      assert.ok(cfg.Labels['org.opencontainers.image.revision']);
      assert.ok(cfg.Labels['dev.bulwark.version']);
      assert.is(cfg.WorkingDir, `/opt/${c.app}`);
      assert.equal(await danglingImages(), dangling, 'no dangling images left');
      built.set(c.app, a);
    }));

  test(`${c.app}: runs from its compose.yaml: page, static file, health, a write that survives a restart, stop < 2 s`, () =>
    withTimeout(300_000, async (cleanup) => {
      const a = built.get(c.app);
      assert.ok(a, 'built by the previous test');
      const project = `bwtest${c.app.replace(/-/g, '')}`;
      const compose = (args: string[]) => run('docker-compose', ['-f', a!.runConfig!, '-p', project, ...args], { timeoutMs: 180_000, cwd: dirname(a!.runConfig!) });
      cleanup(() => compose(['down', '-v', '--remove-orphans']));
      await compose(['down', '-v']).catch(() => undefined);
      await compose(['up', '-d']);
      const container = `${project}_${c.app}_1`;
      const page = await waitHttp(`http://127.0.0.1:${c.port}/`);
      assert.is(page.status, 200);
      assert.match(await page.text(), c.page);
      const stat = await fetch(`http://127.0.0.1:${c.port}${c.staticPath}`);
      assert.is(stat.status, 200);
      assert.match(await stat.text(), c.staticText);
      assert.is((await fetch(`http://127.0.0.1:${c.port}${c.health}`)).status, 200);
      const note = `compose-${Date.now()}`;
      const w = await fetch(`http://127.0.0.1:${c.port}${c.writePath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: note }) });
      assert.is(w.status, 201, 'write accepted under a read-only root');
      const hc = JSON.parse((await docker(['inspect', container])).stdout)[0].HostConfig;
      assert.is(hc.ReadonlyRootfs, true);
      assert.equal(hc.CapDrop, ['ALL']);
      assert.ok(hc.Memory > 0 && hc.NanoCpus > 0 && hc.PidsLimit > 0, 'limits honoured by docker-compose');
      assert.is(await waitHealthy(container), 'healthy');
      const stopSeconds = await timeStop(container);
      assert.ok(stopSeconds < 2, `docker stop took ${stopSeconds} s`);
      await compose(['up', '-d']);
      await waitHttp(`http://127.0.0.1:${c.port}${c.health}`);
      const list = await (await fetch(`http://127.0.0.1:${c.port}${c.writePath}`)).text();
      assert.ok(list.includes(note), 'the write survived a restart');
    }));

  test(`${c.app}: works with a plain docker run -v VOL:/var/lib/${c.app}: secrets generated into the volume, kept across restarts`, () =>
    withTimeout(300_000, async (cleanup) => {
      const a = built.get(c.app)!;
      const port = await freePort();
      const name = `bwtest-run-${c.app}`;
      const vol = `bwtest-vol-${c.app}`;
      // Cleanups run last-registered first: the container goes before its volume.
      cleanup(() => docker(['volume', 'rm', '-f', vol], true));
      cleanup(() => docker(['rm', '-f', name], true));
      await docker(['rm', '-f', name], true);
      await docker(['volume', 'rm', '-f', vol], true);
      await docker(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:${c.port}`, '-v', `${vol}:/var/lib/${c.app}`, a.id]);
      const first = await waitHttp(`http://127.0.0.1:${port}/`);
      assert.is(first.status, 200);
      const cookie = first.headers.get('set-cookie')?.split(';')[0] ?? '';
      const w = await fetch(`http://127.0.0.1:${port}${c.writePath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'plain-run' }) });
      assert.is(w.status, 201);
      // The generated secret is in the volume (mode 0600), not in the image.
      const secretsFile = `/var/lib/${c.app}/.bulwark/secrets.env`;
      const cp = await run('sh', ['-c', `docker cp ${name}:${secretsFile} - | tar -tvf -`], { timeoutMs: 60_000 });
      assert.match(cp.stdout, /^-rw------- /, 'secrets file is 0600');
      const secretLine = (await run('sh', ['-c', `docker cp ${name}:${secretsFile} - | tar -xOf -`], { timeoutMs: 60_000 })).stdout;
      assert.match(secretLine, new RegExp(`^${c.secret}=[A-Za-z0-9_-]{40,}$`, 'm'));
      const inspect = JSON.parse((await docker(['image', 'inspect', a.id])).stdout)[0];
      assert.not.ok(JSON.stringify(inspect.Config.Env).includes(secretLine.split('=')[1]!.trim()), 'secret not in the image');
      const stopSeconds = await timeStop(name);
      assert.ok(stopSeconds < 2, `docker stop took ${stopSeconds} s`);
      await docker(['start', name]);
      await waitHttp(`http://127.0.0.1:${port}${c.health}`);
      const again = (await run('sh', ['-c', `docker cp ${name}:${secretsFile} - | tar -xOf -`], { timeoutMs: 60_000 })).stdout;
      assert.is(again, secretLine, 'the secret is generated once and kept');
      const list = await (await fetch(`http://127.0.0.1:${port}${c.writePath}`)).text();
      assert.ok(list.includes('plain-run'), 'the write survived a restart');
      // A session made before the restart is still valid: the signing secret did not change.
      const page = await fetch(`http://127.0.0.1:${port}/`, { headers: { cookie } });
      assert.match(await page.text(), /Visit 2\./);
    }));

  test(`${c.app}: bulwark audit finds no failures (A1–A15)`, () =>
    withTimeout(180_000, async () => {
      const r = await bulwark(['audit', example(c.app), '--json']);
      const report = JSON.parse(r.stdout);
      const failed = report.results.filter((x: { status: string }) => x.status === 'fail');
      assert.equal(failed, [], JSON.stringify(failed));
      assert.is(r.code, 0);
      const ids = report.results.map((x: { id: string }) => x.id);
      for (let i = 1; i <= 15; i++) assert.ok(ids.includes(`A${i}`), `A${i} ran`);
    }));
}

test.run();
