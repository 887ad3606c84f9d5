import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, writeFile, utimes, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageIdOf, renderImageConfig } from '../../src/build/image-archive.js';
import { imageConfigFor } from '../../src/build/docker-target.js';
import { writeLayerTar } from '../../src/build/layer-tar.js';
import { renderAccounts } from '../../src/build/rootfs.js';
import { appUid, normalizeAppName, appPaths } from '../../src/names.js';
import { sampleAppPlan } from './fixtures-plan.js';

test('app names and stable uids', () => {
  assert.is(normalizeAppName('@acme/My_Shop'), 'my-shop');
  assert.is(normalizeAppName('--x--'), 'x');
  const uid = appUid('express-hello');
  assert.ok(uid >= 10000 && uid < 60000);
  assert.is(appUid('express-hello'), uid, 'same name, same uid');
  assert.is.not(appUid('django-hello'), uid);
  assert.equal(appPaths('shop'), { code: '/opt/shop', state: '/var/lib/shop', image: 'bulwark/shop', volume: 'shop-state', unit: 'shop.service' });
});

test('image config: numeric non-root user, exec-form health check, tini, volume, port', () => {
  const app = sampleAppPlan();
  const cfg = imageConfigFor(app, { b: '2', a: '1' });
  assert.is(cfg.User, `${app.uid}:${app.uid}`);
  assert.is(cfg.Healthcheck.Test[0], 'CMD');
  assert.equal(cfg.Entrypoint.slice(0, 1), ['/usr/bin/tini']);
  assert.equal(Object.keys(cfg.Volumes), ['/var/lib/express-hello']);
  assert.equal(Object.keys(cfg.ExposedPorts), ['3000/tcp']);
  assert.not.ok(cfg.Env.some((e) => /SECRET/.test(e)), 'no secret in the image environment');
});

test('image config bytes (and so the image ID) are deterministic and order-independent for labels', () => {
  const app = sampleAppPlan();
  const layers = [{ name: 'userland', path: '/x', diffId: 'sha256:' + 'a'.repeat(64), createdBy: 'x' }];
  const a = renderImageConfig(imageConfigFor(app, { b: '2', a: '1' }), layers, 1767225600);
  const b = renderImageConfig(imageConfigFor(app, { a: '1', b: '2' }), layers, 1767225600);
  assert.is(a, b);
  assert.is(imageIdOf(a), imageIdOf(b));
  assert.match(JSON.parse(a).created, /^2026-01-01T00:00:00Z$/);
  assert.is.not(imageIdOf(renderImageConfig(imageConfigFor(app, {}), layers, 1767225601)), imageIdOf(a));
});

test('layer tars are byte-identical whatever the files mtimes', async () => {
  const base = await mkdtemp(join(tmpdir(), 'bw-tar-'));
  try {
    const ids: string[] = [];
    for (const [i, when] of [[0, 1000], [1, 2000000]] as const) {
      const d = join(base, `d${i}`);
      await mkdir(join(d, 'opt/app'), { recursive: true });
      await writeFile(join(d, 'opt/app/b.js'), 'b');
      await writeFile(join(d, 'opt/app/a.js'), 'a');
      for (const f of ['opt/app/a.js', 'opt/app/b.js', 'opt/app', 'opt']) await utimes(join(d, f), when, when);
      await chmod(d, 0o700);
      ids.push((await writeLayerTar(d, join(base, `l${i}.tar`), 1767225600)).diffId);
    }
    assert.is(ids[0], ids[1]);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('accounts: root, the app with its uid and no shell, nobody', () => {
  const { passwd, group } = renderAccounts({ name: 'shop', uid: 12345 });
  assert.match(passwd, /^shop:x:12345:12345:shop:\/var\/lib\/shop:\/usr\/sbin\/nologin$/m);
  assert.not.match(passwd, /\/bin\/(ba)?sh/);
  assert.match(group, /^shop:x:12345:$/m);
});

test.run();
