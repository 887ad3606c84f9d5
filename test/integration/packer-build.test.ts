// Integration: the Packer path, run for real once. After `bulwark build --target qemu`, Debian's
// packer 1.6 builds the same app's disk with the generated template and the variable file the
// build wrote (`packer build -only=qemu.<app>`): its qemu builder boots Bulwark's base disk under
// TCG, logs in with the build key handed over as a systemd credential, runs the same
// provisioning scripts over SSH and shuts down. The disk it makes must pass the offline audit
// (B and D) and hold what the native build puts there.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { extractDiskRoot } from '../../src/audit/host-view.js';
import { bulwark, example, withTimeout } from '../helpers.js';

test('packer build -only=qemu.<app> makes a disk from the generated HCL that passes the offline audit', () =>
  withTimeout(1_500_000, async (cleanup) => {
    const work = await mkdtemp(join(tmpdir(), 'bulwark-packer-'));
    cleanup(() => rm(work, { recursive: true, force: true }));
    const dir = join(work, 'express-hello');
    await cp(example('express-hello'), dir, { recursive: true, filter: (p) => !p.includes('/.bulwark') && !p.includes('node_modules') && !p.endsWith('/data') });
    const b = await bulwark(['build', dir, '--target', 'qemu'], { timeoutMs: 1_200_000 });
    assert.is(b.code, 0, b.stderr.slice(-2000));

    const vars = join(dir, '.bulwark/vm/express-hello/express-hello.pkrvars.hcl');
    const template = join(dir, '.bulwark/build/packer/express-hello.pkr.hcl');
    assert.ok(existsSync(vars) && existsSync(template));
    const validate = await run('packer', ['validate', `-var-file=${vars}`, template], { allowFail: true, timeoutMs: 120_000 });
    assert.is(validate.code, 0, validate.stdout + validate.stderr);

    const t0 = Date.now();
    const p = await run('packer', ['build', '-color=false', `-var-file=${vars}`, '-var', 'accelerator=tcg', '-only=qemu.express-hello', template], {
      allowFail: true,
      timeoutMs: 1_200_000,
      cwd: join(dir, '.bulwark/build/packer'),
      env: { ...process.env, PACKER_CACHE_DIR: join(work, 'packer-cache'), CHECKPOINT_DISABLE: '1', PACKER_LOG: '' },
      logFile: join(work, 'packer.log'),
    });
    assert.is(p.code, 0, `packer build failed:\n${(p.stdout + p.stderr).split('\n').slice(-30).join('\n')}`);
    console.log(`  (packer build -only=qemu.express-hello: ${((Date.now() - t0) / 1000).toFixed(1)} s under TCG)`);
    const disk = join(dir, '.bulwark/vm/express-hello/packer-output/express-hello/express-hello.qcow2');
    assert.ok(existsSync(disk), `packer wrote ${disk}`);
    const manifest = JSON.parse(await readFile(join(dir, '.bulwark/vm/express-hello/packer-output/express-hello.manifest.json'), 'utf8'));
    assert.ok(manifest.builds?.length >= 1, 'packer manifest lists the build');

    const audit = await bulwark(['audit', '--disk', disk, '--json'], { timeoutMs: 600_000 });
    const report = JSON.parse(audit.stdout || '{}');
    const failed = (report.results ?? []).filter((r: { status: string }) => r.status === 'fail');
    assert.is(failed.length, 0, `offline audit of Packer's disk: ${JSON.stringify(failed, null, 1)}`);

    // What the scripts installed, and what the cleanup removed.
    const x = await extractDiskRoot(disk, join(work, 'root'));
    const native = await extractDiskRoot(join(dir, '.bulwark/vm/express-hello/express-hello.qcow2'), join(work, 'native'));
    for (const f of ['opt/express-hello/server.js', 'opt/bulwark/express-hello/launch.mjs', 'etc/caddy/Caddyfile', 'etc/systemd/system/express-hello.service', 'etc/bulwark/apps/express-hello.env', 'etc/bulwark/release'])
      assert.is(await readFile(join(x.root, f), 'utf8'), await readFile(join(native.root, f), 'utf8'), `${f} as the native build has it`);
    assert.not.ok(existsSync(join(x.root, 'root/.ssh/authorized_keys')), 'the build key is gone');
    assert.not.ok(existsSync(join(x.root, 'var/lib/bulwark/ssh')), 'the build boot\'s host keys are gone');
    assert.is(await readFile(join(x.root, 'etc/machine-id'), 'utf8'), '', 'machine-id emptied');
  }),
);

test.run();
