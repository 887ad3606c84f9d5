// generate: same inputs → byte-identical build dir, written atomically; the Packer template
// Bulwark writes for the example validates with the installed Packer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { bulwark, example, withTimeout } from '../helpers.js';
import { run } from '../../src/build/proc.js';

function treeHash(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).update(String(statSync(p).mode)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

test('generate twice gives byte-identical files, and no temp dir is left beside the build dir', () =>
  withTimeout(120_000, async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'bw-gen-')), 'express-hello');
    await cp(example('express-hello'), dir, { recursive: true, filter: (p) => !/\/(\.bulwark|node_modules)(\/|$)/.test(p) });
    const a = await bulwark(['generate', dir, '--packer', 'packer-1.6']);
    assert.is(a.code, 0, a.stderr);
    const first = treeHash(join(dir, '.bulwark/build'));
    const b = await bulwark(['generate', dir, '--packer', 'packer-1.6']);
    assert.is(b.code, 0, b.stderr);
    assert.equal(treeHash(join(dir, '.bulwark/build')), first);
    for (const f of ['express-hello/compose.yaml', 'packer/express-hello.pkr.hcl', 'packer/express-hello.example.pkrvars.hcl', 'systemd/express-hello.service', 'plan.json', 'README.md'])
      assert.ok(first[f], `${f} generated`);
    assert.ok(Object.keys(first).some((f) => f.startsWith('packer/provision/express-hello/')), 'provisioning scripts');
    assert.equal(readdirSync(join(dir, '.bulwark')).filter((n) => n !== 'build'), [], 'nothing half-written beside it');
  }));

test('the generated Packer template validates with Debian packer 1.6 given placeholder values', () =>
  withTimeout(120_000, async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'bw-gen-')), 'django-hello');
    await cp(example('django-hello'), dir, { recursive: true, filter: (p) => !p.includes('/.bulwark') });
    const g = await bulwark(['generate', dir, '--packer', 'packer-1.6']);
    assert.is(g.code, 0, g.stderr);
    const pk = join(dir, '.bulwark/build/packer');
    // Packer reads the key and the bundle during validate: give it real (dummy) files.
    const { privateKey } = generateKeyPairSync('ed25519');
    await writeFile(join(pk, 'key'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    await writeFile(join(pk, 'bundle.tar'), '');
    await writeFile(join(pk, 'site.tar'), '');
    const vars = readFileSync(join(pk, 'django-hello.example.pkrvars.hcl'), 'utf8')
      .replace(/^ssh_private_key_file\s*=.*$/m, `ssh_private_key_file = "${join(pk, 'key')}"`)
      .replace(/^app_bundle\s*=.*$/m, `app_bundle = "${join(pk, 'bundle.tar')}"`)
      .replace(/^site_bundle\s*=.*$/m, `site_bundle = "${join(pk, 'site.tar')}"`);
    await writeFile(join(pk, 'test.pkrvars.hcl'), vars);
    // DigitalOcean's secrets come from the environment only: placeholders there.
    const env = { ...process.env, DIGITALOCEAN_API_TOKEN: 'placeholder-token-0123456789', DIGITALOCEAN_SPACES_ACCESS_KEY: 'placeholder-key-0123456789', DIGITALOCEAN_SPACES_SECRET_KEY: 'placeholder-secret-0123456789' };
    const v = await run('packer', ['validate', '-var-file=test.pkrvars.hcl', 'django-hello.pkr.hcl'], { cwd: pk, env, allowFail: true, timeoutMs: 60_000 });
    assert.is(v.code, 0, v.stdout + v.stderr);
    assert.ok(existsSync(join(pk, 'django-hello.pkr.hcl')));
  }));

test.run();
