import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareBuildEnv, BUILD_CA_PATH } from '../../src/build/build-env.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBEXTRACA\n-----END CERTIFICATE-----\n';

test('build env: host CA store plus --build-ca, mounted read-only for the build only; proxy vars passed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bw-env-'));
  const saved = process.env.HTTPS_PROXY;
  try {
    await writeFile(join(dir, 'extra.pem'), PEM);
    process.env.HTTPS_PROXY = 'http://proxy.invalid:3128';
    const env = await prepareBuildEnv(dir, join(dir, 'extra.pem'));
    const bundle = await readFile(join(dir, 'build-ca.crt'), 'utf8');
    assert.ok(bundle.includes('MIIBEXTRACA'), 'the extra CA is in the build bundle');
    assert.ok(bundle.split('BEGIN CERTIFICATE').length > 10, 'the host store is in it too');
    const args = env.dockerArgs.join(' ');
    assert.ok(args.includes(`${join(dir, 'build-ca.crt')}:${BUILD_CA_PATH}:ro`));
    assert.ok(args.includes(`NODE_EXTRA_CA_CERTS=${BUILD_CA_PATH}`), 'Node trusts it');
    assert.ok(args.includes('HTTPS_PROXY=http://proxy.invalid:3128'));
    await writeFile(join(dir, 'not.pem'), 'hello');
    await prepareBuildEnv(dir, join(dir, 'not.pem')).then(
      () => assert.unreachable('a non-PEM --build-ca is refused'),
      (e) => assert.match(e.message, /not a PEM certificate/),
    );
    await prepareBuildEnv(dir, join(dir, 'missing.pem')).then(
      () => assert.unreachable(),
      (e) => assert.is(e.exitCode, 2),
    );
  } finally {
    if (saved === undefined) delete process.env.HTTPS_PROXY;
    else process.env.HTTPS_PROXY = saved;
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
