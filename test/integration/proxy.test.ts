// Builds behind an HTTPS-intercepting proxy: the CA bundle is trusted during the build only.
// (On this machine every npm fetch in the build container already passes such a proxy.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bulwark, example, withTimeout } from '../helpers.js';
import { run } from '../../src/build/proc.js';
import { docker } from './live.js';

test('--build-ca: trusted by npm ci during the build, absent from every layer of the image', () =>
  withTimeout(600_000, async (cleanup) => {
    const base = await mkdtemp(join(tmpdir(), 'bw-ca-'));
    cleanup(() => rm(base, { recursive: true, force: true }));
    const dir = join(base, 'ca-probe');
    await cp(example('express-hello'), dir, { recursive: true, filter: (p) => !/\/(\.bulwark|node_modules|data)(\/|$)/.test(p) });
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    pkg.name = 'ca-probe';
    await (await import('node:fs/promises')).writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=Bulwark test build CA',
      '-keyout', join(base, 'ca.key'), '-out', join(base, 'ca.pem')], { timeoutMs: 30_000 });
    const pem = await readFile(join(base, 'ca.pem'), 'utf8');
    const marker = pem.split('\n')[2]!; // a line of the certificate's base64 body
    const r = await bulwark(['build', dir, '--build-ca', join(base, 'ca.pem'), '--json']);
    assert.is(r.code, 0, r.stderr);
    const id = JSON.parse(r.stdout).artifacts[0].id as string;
    cleanup(() => docker(['rmi', '-f', 'bulwark/ca-probe:latest', id], true));
    // Every byte of every layer: the marker must not be there.
    const save = await run('sh', ['-c', `docker save ${id} | tar -xOf - --wildcards '*.tar' | grep -c -F "$1" || true`, 'x', marker], { timeoutMs: 300_000 });
    assert.is(save.stdout.trim(), '0', 'the build CA is not in the image');
    const env = JSON.parse((await docker(['image', 'inspect', id])).stdout)[0].Config.Env.join(' ');
    assert.not.match(env, /NODE_EXTRA_CA_CERTS|build-ca|PROXY/i, 'no build-time variables in the image');
  }));

test.run();
