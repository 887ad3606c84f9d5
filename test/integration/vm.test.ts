// Integration: the VM base disk, built from Debian packages in a fresh cache (timed), checked
// offline (no mount: debugfs reads the ext4 inside the raw disk), booted once in QEMU under the
// accelerator that really works here (KVM, else TCG), and checked over SSH on 127.0.0.1: the
// system is up, its identity (machine-id, SSH host keys) was made at first boot, sshd runs the
// drop-in, and the kernel is the one installed. QEMU runs with -snapshot: the disk is unchanged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { buildBaseDisk } from '../../src/vm/base-disk.js';
import { bootVm, freeLocalPort, kernelBoots, probeAccelerator, serialTail, ssh, waitForSsh } from '../../src/vm/qemu.js';
import { withTimeout } from '../helpers.js';

const secs = (ms: number) => (ms / 1000).toFixed(1);
const mib = (bytes: number) => `${Math.round(bytes / 1048576)} MiB`;

test('VM base disk: built without mounts, boots to sshd, identity made at first boot', () =>
  withTimeout(600_000, async (cleanup) => {
    const work = await mkdtemp(join(tmpdir(), 'bulwark-vm-test-'));
    cleanup(() => rm(work, { recursive: true, force: true }));
    // A cache of its own: the build is really done (and timed), and its 700 MB go with the test.
    const savedCache = process.env.BULWARK_CACHE;
    process.env.BULWARK_CACHE = join(work, 'cache');
    cleanup(() => {
      if (savedCache === undefined) delete process.env.BULWARK_CACHE;
      else process.env.BULWARK_CACHE = savedCache;
    });

    const key = join(work, 'admin_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bulwark-vm-test', '-f', key]);
    const opts = {
      suite: 'trixie' as const,
      mirror: 'http://deb.debian.org/debian',
      securityMirror: 'http://deb.debian.org/debian-security',
      sizeMiB: 2048,
      log: (l: string) => console.log(`  ${l}`),
    };

    // Build, then the same inputs again: the cache answers.
    const disk = await buildBaseDisk(opts);
    assert.not.ok(disk.cached);
    const rawAllocated = (await stat(disk.raw)).blocks * 512;
    const qcow2Size = (await stat(disk.qcow2)).size;
    console.log(`  (base disk: built in ${disk.buildSeconds} s; raw ${mib(disk.layout.diskBytes)} (${mib(rawAllocated)} allocated), qcow2 ${mib(qcow2Size)}; ${disk.packages.length} packages; kernel ${disk.kernel.version})`);
    const again = await buildBaseDisk(opts);
    assert.ok(again.cached);
    assert.is(again.sha256, disk.sha256);
    assert.ok(again.seconds < 5, `cache hit took ${again.seconds} s`);

    // The partition table as sfdisk reads it.
    const table = JSON.parse((await run('sfdisk', ['--json', disk.raw])).stdout).partitiontable;
    assert.is(table.label, 'dos');
    assert.is(table.partitions.length, 1);
    assert.is(table.partitions[0].start, disk.layout.rootStartSector);
    assert.is(table.partitions[0].bootable, true);

    // Offline, without mounting: the image holds no per-machine identity.
    const fs = `${disk.raw}?offset=${disk.layout.rootOffsetBytes}`;
    const debugfs = async (req: string) => (await run('debugfs', ['-R', req, fs], { timeoutMs: 60_000 })).stdout;
    assert.match(await debugfs('stats'), new RegExp(`Filesystem UUID:\\s+${disk.rootUuid}`));
    assert.match(await debugfs('ls -l /etc'), /\smachine-id\s*$/m, '/etc/machine-id exists in the image');
    assert.is(await debugfs('cat /etc/machine-id'), '', 'and is empty');
    const imageSsh = await debugfs('ls /etc/ssh');
    assert.match(imageSsh, /sshd_config\.d/);
    assert.not.match(imageSsh, /ssh_host_/, 'no SSH host keys in the image');
    assert.match(await debugfs('ls /boot'), new RegExp(`vmlinuz-${disk.kernel.version.replace(/[.+]/g, '\\$&')}`));
    assert.not.match(await debugfs('ls /etc/ssh'), /authorized_keys\s/, 'the base disk lets no key in');

    // One boot, under whatever really works here. The probe's test passes for a kernel that
    // boots (TCG always runs it), so a 'tcg' answer means KVM failed it.
    const accel = await probeAccelerator({ kernel: disk.kernel.path, log: (l) => console.log(`  ${l}`) });
    const underTcg = await kernelBoots('tcg', disk.kernel.path, 120_000);
    assert.ok(underTcg.ok, `the installed kernel does not boot under TCG: ${underTcg.why}`);
    const port = await freeLocalPort();
    const t0 = Date.now();
    // The key comes in as a systemd credential (SMBIOS), as Packer's build passes it.
    const pub = (await readFile(`${key}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
    const booting = bootVm({ disk: disk.qcow2, forwards: [{ host: port, guest: 22 }], memoryMiB: 1024, accel, serialLog: join(work, 'serial.log'), snapshot: true, credentials: { 'ssh.authorized_keys.root': pub } });
    // Registered before QEMU is up, so a timeout at any point still kills it.
    cleanup(() => booting.then((v) => v.kill(), () => undefined));
    const vm = await booting;
    await waitForSsh(vm, key, 300_000);
    const bootToSsh = Date.now() - t0;
    console.log(`  (accelerator ${accel}; boot to sshd ${secs(bootToSsh)} s)`);
    const sh = async (cmd: string) => (await ssh(vm, key, cmd)).stdout.trim();

    const state = (await ssh(vm, key, 'systemctl is-system-running --wait', { allowFail: true, timeoutMs: 300_000 })).stdout.trim();
    if (state !== 'running') {
      const failed = await sh('systemctl list-units --state=failed --no-legend --plain --no-pager');
      console.log(`  system ${state}; failed units:\n${failed.replace(/^/gm, '    ')}`);
      assert.not.match(failed, /^bulwark/m, 'a Bulwark unit failed');
    }
    assert.ok(['running', 'degraded'].includes(state), `system state: ${state}\n${await serialTail(vm)}`);
    console.log(`  (${await sh('systemd-analyze | head -1')})`);

    // First-boot identity: a machine-id made now and saved to the disk (not the transient one
    // bind-mounted from /run), SSH host keys made by Bulwark's unit where the data disk would be
    // (none is attached here: bulwark-data.service keeps the folders on the system disk).
    assert.match(await sh('cat /etc/machine-id'), /^[0-9a-f]{32}$/);
    assert.is(await sh('findmnt -n /etc/machine-id || true'), '', 'machine-id committed to disk');
    assert.is(await sh('ls /var/lib/bulwark/ssh/ | grep "^ssh_host_.*_key$" | sort | tr "\\n" " "'), 'ssh_host_ecdsa_key ssh_host_ed25519_key');
    assert.is(await sh('systemctl is-active bulwark-data.service'), 'active');
    assert.is(await sh('systemctl is-active bulwark-ssh-host-keys.service'), 'active');

    // The installed kernel, the root file system by UUID, sshd's effective settings.
    assert.is(await sh('uname -r'), disk.kernel.version);
    assert.is(await sh('findmnt -n -o UUID,FSTYPE /'), `${disk.rootUuid} ext4`);
    const sshd = new Map((await sh('sshd -T')).split('\n').map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)] as const));
    assert.is(sshd.get('permitrootlogin'), 'without-password'); // sshd -T's name for prohibit-password
    assert.is(sshd.get('passwordauthentication'), 'no');
    assert.is(sshd.get('kbdinteractiveauthentication'), 'no');
    assert.is(sshd.get('authenticationmethods'), 'publickey');
    assert.is(sshd.get('kexalgorithms'), 'mlkem768x25519-sha256,sntrup761x25519-sha512,curve25519-sha256');
    assert.is(await sh('networkctl list --no-legend --no-pager | grep -c routable'), '1');

    // Clean power-off through ACPI.
    const t1 = Date.now();
    await vm.stop({ timeoutMs: 120_000 });
    assert.not.ok(vm.running());
    console.log(`  (power-off ${secs(Date.now() - t1)} s)`);
  }),
);

test.run();
