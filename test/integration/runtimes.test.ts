// The other app kinds build and serve for real: Yarn 4 (Debian trixie's yarnpkg), Flask on
// Debian's python3-flask, and a static site on Bulwark's file server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulwark, fixture, withTimeout } from '../helpers.js';
import { docker, freePort, timeStop, waitHttp } from './live.js';

// static-hello builds with an empty cache (no .deb store, no indexes, no layers), as on a
// fresh machine: the cold path is exercised on every run, whatever the shared cache holds.
const cases = [
  { app: 'yarn-hello', port: 3000, path: '/', body: /hello from yarn-hello/, emptyCache: false },
  { app: 'flask-hello', port: 8000, path: '/', body: /hello from flask-hello, hit 1/, emptyCache: false },
  { app: 'static-hello', port: 8080, path: '/css/site.css', body: /color: teal/, emptyCache: true },
];

for (const c of cases)
  test(`${c.app}: builds, serves on 127.0.0.1 under a read-only root, stops in < 2 s`, () =>
    withTimeout(600_000, async (cleanup) => {
      const base = await mkdtemp(join(tmpdir(), 'bw-rt-'));
      cleanup(() => rm(base, { recursive: true, force: true }));
      const dir = join(base, c.app);
      await cp(fixture('build', c.app), dir, { recursive: true });
      const env = c.emptyCache ? { BULWARK_CACHE: join(base, 'empty-cache') } : undefined;
      const r = await bulwark(['build', dir, '--json'], { env });
      assert.is(r.code, 0, r.stderr);
      const id = JSON.parse(r.stdout).artifacts[0].id as string;
      const port = await freePort();
      const name = `bwtest-rt-${c.app}`;
      // Cleanups run last-registered first: the container goes before its volume.
      cleanup(() => docker(['volume', 'rm', '-f', `${name}-vol`], true));
      cleanup(() => docker(['rm', '-f', name], true));
      await docker(['rm', '-f', name], true);
      await docker(['volume', 'rm', '-f', `${name}-vol`], true);
      await docker(['run', '-d', '--name', name, '--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,nodev', '--cap-drop', 'ALL',
        '--security-opt', 'no-new-privileges:true', '-p', `127.0.0.1:${port}:${c.port}`, '-v', `${name}-vol:/var/lib/${c.app}`, id]);
      const res = await waitHttp(`http://127.0.0.1:${port}${c.path}`);
      assert.is(res.status, 200);
      assert.match(await res.text(), c.body);
      const s = await timeStop(name);
      assert.ok(s < 2, `docker stop took ${s} s`);
    }));

test.run();
