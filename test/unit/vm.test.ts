// Unit tests for the pure parts of the VM base disk: partition layout and sfdisk script, GRUB's
// boot sector and core image patching (what grub-bios-setup does), the GRUB and system files,
// the base disk plan (cache key, UUID) and QEMU's command line (forwards on 127.0.0.1 only).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { diskLayout, renderSfdiskScript, MIN_DISK_MIB } from '../../src/vm/disk-layout.js';
import { grubBootSector, grubCoreForSector, kernelCommandLine, renderGrubConfig, renderGrubCoreConfig, GRUB_CORE_MODULES } from '../../src/vm/grub.js';
import { checkAuthorizedKey, renderConfigFiles, renderCustomizeScript, renderHostKeysUnit, renderSetupFiles, renderSshdDropIn, HOST_KEYS_UNIT } from '../../src/vm/base-tree.js';
import { baseDiskPackages, planBaseDisk, uuidFromHash } from '../../src/vm/base-disk.js';
import { qemuArgs, sshArgs } from '../../src/vm/qemu.js';

const UUID = '3f1c2a7e-5b4d-4c1e-9a8f-0123456789ab';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHBmW0cQ0hZ1nq1mE8g2vH1a4m0nO2oZ6rX3cT9yJk1L admin@example';
const base = { suite: 'trixie' as const, mirror: 'http://deb.debian.org/debian', securityMirror: 'http://deb.debian.org/debian-security', sizeMiB: 2048 };

test('disk layout: root partition from 1 MiB to the end, GRUB core in the gap', () => {
  const l = diskLayout(2048);
  assert.is(l.diskBytes, 2048 * 1048576);
  assert.is(l.diskSectors, 4194304);
  assert.is(l.rootStartSector, 2048);
  assert.is(l.rootOffsetBytes, 1048576);
  assert.is(l.rootSectors, 4194304 - 2048);
  assert.is(l.rootBytes, 2047 * 1048576);
  assert.is(l.rootOffsetBytes + l.rootBytes, l.diskBytes);
  assert.is(l.coreSector, 1);
  assert.is(l.coreMaxBytes, 2047 * 512);
  assert.throws(() => diskLayout(MIN_DISK_MIB - 1), /at least 1024/);
  assert.throws(() => diskLayout(1500.5), /whole number/);
  assert.throws(() => diskLayout(3 * 1024 * 1024), /2 TiB/);
});

test('sfdisk script: one bootable Linux partition, fixed disk id', () => {
  const s = renderSfdiskScript(diskLayout(1024), '0a1b2c3d');
  assert.is(s, 'label: dos\nlabel-id: 0x0a1b2c3d\nunit: sectors\n\nstart=2048, size=2095104, type=83, bootable\n');
  assert.throws(() => renderSfdiskScript(diskLayout(1024), 'xyz'), /8 lowercase hex/);
});

test('sfdisk accepts the script on an image file and writes that partition', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-vm-unit-'));
  try {
    const img = join(dir, 'disk.raw');
    const l = diskLayout(1024);
    await writeFile(img, '');
    await run('truncate', ['-s', String(l.diskBytes), img]);
    await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', img], { input: renderSfdiskScript(l, '0a1b2c3d') });
    const dump = JSON.parse((await run('sfdisk', ['--json', img])).stdout).partitiontable;
    assert.is(dump.label, 'dos');
    assert.is(dump.id, '0x0a1b2c3d');
    assert.is(dump.partitions.length, 1);
    assert.is(dump.partitions[0].start, l.rootStartSector);
    assert.is(dump.partitions[0].size, l.rootSectors);
    assert.is(dump.partitions[0].type, '83');
    assert.is(dump.partitions[0].bootable, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('GRUB boot sector: boot.img code, the disk\'s BPB and partition table, pointed at core.img', () => {
  const bootImg = Buffer.alloc(512, 0xb0);
  bootImg[0x64] = 0x80;
  bootImg[0x66] = 0xeb; // the jump grub-bios-setup replaces with NOPs
  bootImg[0x67] = 0x05;
  const current = Buffer.alloc(512, 0);
  current.fill(0x11, 0x3, 0x5a); // BPB area of the existing sector
  current.fill(0x22, 0x1b8, 0x1fe); // disk signature + partition table
  const mbr = grubBootSector(bootImg, current, 1);
  assert.is(mbr.length, 512);
  assert.is(mbr[0], 0xb0, 'boot code kept');
  assert.ok(mbr.subarray(0x3, 0x5a).every((b) => b === 0x11), 'BPB from the disk');
  assert.is(mbr.readBigUInt64LE(0x5c), 1n, 'core.img sector');
  assert.is(mbr[0x64], 0xff, 'boot drive: as the BIOS says');
  assert.equal([...mbr.subarray(0x66, 0x68)], [0x90, 0x90]);
  assert.ok(mbr.subarray(0x68, 0x1b8).every((b) => b === 0xb0), 'rest of boot.img kept');
  assert.ok(mbr.subarray(0x1b8, 0x1fe).every((b) => b === 0x22), 'partition table kept');
  assert.equal([...mbr.subarray(0x1fe)], [0x55, 0xaa]);
  assert.throws(() => grubBootSector(Buffer.alloc(511), current, 1), /boot.img is 511 bytes/);
});

test('GRUB core image: padded to sectors, blocklist pointing at the sectors after the first', () => {
  const raw = Buffer.alloc(512 * 296 + 75, 0xcc);
  raw.fill(0, 488, 512);
  raw.writeBigUInt64LE(2n, 500);
  raw.writeUInt16LE(296, 508);
  raw.writeUInt16LE(0x820, 510);
  const l = diskLayout(1024);
  const core = grubCoreForSector(raw, l);
  assert.is(core.length, 512 * 297);
  assert.is(core.readBigUInt64LE(500), 2n);
  assert.is(core.readUInt16LE(508), 296);
  assert.is(core.readUInt16LE(510), 0x820);
  assert.ok(core.subarray(raw.length).every((b) => b === 0), 'zero padding');
  assert.is(grubCoreForSector(raw, { coreSector: 7, coreMaxBytes: l.coreMaxBytes }).readBigUInt64LE(500), 8n);
  assert.throws(() => grubCoreForSector(Buffer.alloc(512 * 2048, 0), l), /more than the 1048064 bytes/);
  const noList = Buffer.from(raw);
  noList.writeUInt16LE(0, 510);
  assert.throws(() => grubCoreForSector(noList, l), /no i386-pc blocklist/);
});

test('GRUB configs: root by UUID, the /vmlinuz links, serial console, fallback', () => {
  assert.is(renderGrubCoreConfig(UUID), `search --no-floppy --fs-uuid --set=root ${UUID}\nset prefix=($root)/boot/grub\n`);
  const cfg = renderGrubConfig(UUID);
  assert.match(cfg, `linux /vmlinuz ${kernelCommandLine(UUID)}\n\tinitrd /initrd.img\n`);
  assert.match(cfg, `linux /vmlinuz.old ${kernelCommandLine(UUID)}\n\tinitrd /initrd.img.old\n`);
  assert.match(cfg, /set default=0\nset fallback=1\nset timeout=0/);
  assert.match(cfg, /serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console/);
  assert.match(kernelCommandLine(UUID), /^root=UUID=3f1c2a7e-\S+ ro console=tty0 console=ttyS0,115200n8 panic=10$/);
  for (const m of ['biosdisk', 'part_msdos', 'ext2', 'search_fs_uuid', 'normal', 'linux']) assert.ok(GRUB_CORE_MODULES.includes(m), m);
});

/** sshd_config lines as lowercase keyword → value. */
function sshdSettings(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [k, ...v] = t.split(/\s+/);
    const key = k!.toLowerCase();
    if (key === 'hostkey') m.set(key, [m.get(key), v.join(' ')].filter(Boolean).join(' '));
    else if (!m.has(key)) m.set(key, v.join(' '));
  }
  return m;
}

test('sshd drop-in: keys only, root by key, B3 limits, B4 algorithms', () => {
  const s = sshdSettings(renderSshdDropIn());
  const expect: Record<string, string> = {
    permitrootlogin: 'prohibit-password',
    authenticationmethods: 'publickey',
    passwordauthentication: 'no',
    kbdinteractiveauthentication: 'no',
    permitemptypasswords: 'no',
    x11forwarding: 'no',
    allowtcpforwarding: 'no',
    allowagentforwarding: 'no',
    permittunnel: 'no',
    gatewayports: 'no',
    permituserenvironment: 'no',
    maxauthtries: '2',
    logingracetime: '30',
    clientaliveinterval: '300',
    clientalivecountmax: '3',
    loglevel: 'VERBOSE',
    usedns: 'no',
    debianbanner: 'no',
    authorizedkeysfile: '/etc/ssh/authorized_keys/%u .ssh/authorized_keys',
    hostkey: '/var/lib/bulwark/ssh/ssh_host_ed25519_key /var/lib/bulwark/ssh/ssh_host_ecdsa_key',
  };
  for (const [k, v] of Object.entries(expect)) assert.is(s.get(k), v, k);
  const allowedKex = ['mlkem768x25519-sha256', 'sntrup761x25519-sha512', 'curve25519-sha256', 'diffie-hellman-group-exchange-sha256'];
  for (const k of s.get('kexalgorithms')!.split(',')) assert.ok(allowedKex.includes(k), k);
  for (const c of s.get('ciphers')!.split(',')) assert.match(c, /^(chacha20-poly1305@openssh\.com|aes(128|256)-gcm@openssh\.com|aes(128|192|256)-ctr)$/);
  for (const m of s.get('macs')!.split(',')) assert.match(m, /-etm@openssh\.com$/);
});

test('host key unit: makes the missing keys before sshd, on any boot', () => {
  const u = renderHostKeysUnit();
  assert.match(u, /ConditionPathExists=\|!\/var\/lib\/bulwark\/ssh\/ssh_host_ed25519_key\nConditionPathExists=\|!\/var\/lib\/bulwark\/ssh\/ssh_host_ecdsa_key/);
  assert.match(u, /Requires=bulwark-data.service\nAfter=bulwark-data.service/);
  assert.match(u, /Before=ssh.service ssh.socket/);
  assert.match(u, /ExecStart=\/bin\/sh -c '\[ -e \/var\/lib\/bulwark\/ssh\/ssh_host_ed25519_key \] \|\| exec \/usr\/bin\/ssh-keygen -q -t ed25519 -N "" -C "" -f \/var\/lib\/bulwark\/ssh\/ssh_host_ed25519_key'/);
  assert.match(u, /WantedBy=ssh.service ssh.socket/);
  assert.not.match(u, /ConditionFirstBoot/);
});

test('system files: fstab and GRUB by UUID, DHCP, no key (the site brings it), modes', () => {
  const files = new Map(renderConfigFiles({ rootUuid: UUID, hostname: 'bulwark' }).map((f) => [f.path, f]));
  assert.match(files.get('etc/fstab')!.content, `UUID=${UUID}\t/\text4\tdefaults,errors=remount-ro\t0\t1\n`);
  assert.is(files.get('etc/hostname')!.content, 'bulwark\n');
  assert.match(files.get('etc/hosts')!.content, /127\.0\.1\.1\tbulwark/);
  assert.match(files.get('etc/systemd/network/80-bulwark-dhcp.network')!.content, /\[Match\]\nType=ether\nName=en\* eth\*\n\n\[Network\]\nDHCP=yes\n/);
  assert.not.ok(files.has('etc/ssh/authorized_keys/root'), 'the base disk lets no key in');
  assert.is(files.get('etc/ssh/sshd_config.d/10-bulwark.conf')!.mode, 0o600);
  assert.is(files.get(`etc/systemd/system/${HOST_KEYS_UNIT}`)!.content, renderHostKeysUnit());
  assert.is(files.get('boot/grub/grub.cfg')!.content, renderGrubConfig(UUID));
  assert.is(files.get('boot/grub/bulwark-core.cfg')!.content, renderGrubCoreConfig(UUID));
  assert.not.ok([...files.keys()].some((p) => /ssh_host_|machine-id/.test(p)), 'no identity in the files');
  assert.throws(() => renderConfigFiles({ rootUuid: UUID, hostname: 'Bad_Name' }), /hostname/);
});

test('authorized key: one OpenSSH public key line, nothing else', () => {
  assert.is(checkAuthorizedKey(`  ${KEY}\n`), KEY);
  assert.throws(() => checkAuthorizedKey(`${KEY}\n${KEY}`), /not an OpenSSH public key/);
  assert.throws(() => checkAuthorizedKey('command="rm -rf /" ' + KEY), /not an OpenSSH public key/);
  assert.throws(() => checkAuthorizedKey('-----BEGIN OPENSSH PRIVATE KEY-----'), /not an OpenSSH public key/);
});

test('initramfs: listed disk drivers, fsck for ext4; customize script is valid sh', async () => {
  const setup = new Map(renderSetupFiles().map((f) => [f.path, f]));
  assert.match(setup.get('etc/initramfs-tools/conf.d/bulwark.conf')!.content, /^MODULES=list$/m);
  const hook = setup.get('etc/initramfs-tools/hooks/bulwark-disk-drivers')!;
  assert.is(hook.mode, 0o755);
  for (const m of ['virtio_blk', 'virtio_scsi', 'nvme', 'xen_blkfront', 'ext4']) assert.match(hook.content, new RegExp(`\\b${m}\\b`));
  const script = renderCustomizeScript();
  assert.match(script, /rm -f "\$R"\/etc\/ssh\/ssh_host_\*_key/);
  assert.match(script, /: >"\$R\/etc\/machine-id"/);
  assert.match(script, /grub-mkimage --format=i386-pc --output=\/boot\/grub\/i386-pc\/core.img --config=\/boot\/grub\/bulwark-core.cfg --prefix=\/boot\/grub/);
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-vm-unit-'));
  try {
    await writeFile(join(dir, 'customize.sh'), script);
    await writeFile(join(dir, 'hook'), hook.content);
    await run('sh', ['-n', join(dir, 'customize.sh')]);
    await run('sh', ['-n', join(dir, 'hook')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('AppArmor rule of the customize script: only profiles that confine nothing are disabled', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-vm-unit-'));
  try {
    const aa = join(dir, 'etc/apparmor.d');
    await run('mkdir', ['-p', join(aa, 'disable')]);
    await writeFile(join(aa, 'desktop'), 'abi <abi/4.0>,\nprofile desktop /usr/bin/desktop flags=(unconfined) {\n  userns,\n}\n');
    await writeFile(join(aa, 'tool'), 'profile tool /usr/bin/tool flags=(complain,attach_disconnected) {\n  /etc/ r,\n}\nprofile tool2 /usr/bin/tool2 flags=(complain) {\n}\n');
    await writeFile(join(aa, 'enforced'), 'profile enforced /usr/bin/x {\n  /etc/ r,\n  profile child flags=(complain) {\n  }\n}\n');
    await writeFile(join(aa, 'mixed'), 'profile a /usr/bin/a flags=(complain) {\n}\n/usr/bin/b {\n}\n');
    // The AppArmor part of the script, run on this tree.
    const script = renderCustomizeScript();
    const part = script.slice(script.indexOf("head='"), script.indexOf('\n\n', script.indexOf("head='")));
    await run('sh', ['-c', `set -eu\nR=${dir}\n${part}`]);
    const disabled = (await run('ls', [join(aa, 'disable')])).stdout.split('\n').filter(Boolean);
    assert.equal(disabled, ['desktop', 'tool']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('base disk plan: deterministic, keyed by its inputs, a v4-shaped UUID', () => {
  const a = planBaseDisk(base, ['linux-image-amd64', 'openssh-server']);
  const b = planBaseDisk(base, ['linux-image-amd64', 'openssh-server']);
  assert.is(a.key, b.key);
  assert.is(a.rootUuid, b.rootUuid);
  assert.match(a.rootUuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(a.sfdiskScript, new RegExp(`label-id: 0x${a.diskId}`));
  assert.ok(a.configFiles.some((f) => f.path === 'etc/fstab' && f.content.includes(a.rootUuid)));
  assert.is.not(planBaseDisk({ ...base, sizeMiB: 4096 }, ['linux-image-amd64', 'openssh-server']).key, a.key);
  assert.is.not(planBaseDisk({ ...base, extraFiles: [{ path: 'etc/x', mode: 0o644, content: 'x' }] }, ['linux-image-amd64', 'openssh-server']).key, a.key);
  assert.is.not(planBaseDisk(base, ['linux-image-amd64']).key, a.key);
  assert.is.not(planBaseDisk({ ...base, mirror: 'http://mirror.example/debian' }, ['linux-image-amd64']).key, planBaseDisk(base, ['linux-image-amd64']).key);
  assert.equal(a.sources, [
    'deb http://deb.debian.org/debian trixie main',
    'deb http://deb.debian.org/debian trixie-updates main',
    'deb http://deb.debian.org/debian-security trixie-security main',
  ]);
  assert.throws(() => planBaseDisk({ ...base, suite: 'bookworm' as 'trixie' }), /trixie/);
  assert.is(uuidFromHash('f'.repeat(64)), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
});

test('base disk packages: the host layer, with what booting needs', () => {
  const p = baseDiskPackages();
  for (const name of ['linux-image-amd64', 'initramfs-tools', 'grub-pc-bin', 'systemd-sysv', 'systemd-timesyncd', 'openssh-server', 'nftables', 'udev', 'e2fsprogs']) assert.ok(p.includes(name), name);
  assert.equal(p, [...p].sort());
});

test('QEMU command line: forwards on 127.0.0.1 only, no egress, snapshot, accelerator', () => {
  const rt = { qmpSocket: '/run/x/qmp.sock', pidFile: '/run/x/qemu.pid' };
  const opts = { disk: '/d/disk.qcow2', forwards: [{ host: 2222, guest: 22 }, { host: 8443, guest: 443 }], memoryMiB: 1024, accel: 'tcg' as const, serialLog: '/d/serial.log', snapshot: true };
  const a = qemuArgs(opts, rt);
  const val = (flag: string) => a.filter((_, i) => a[i - 1] === flag);
  assert.equal(val('-netdev'), ['user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=tcp:127.0.0.1:8443-:443']);
  assert.equal(val('-drive'), ['file=/d/disk.qcow2,format=qcow2,if=virtio,snapshot=on']);
  assert.equal(val('-accel'), ['tcg']);
  assert.equal(val('-serial'), ['file:/d/serial.log']);
  assert.equal(val('-qmp'), ['unix:/run/x/qmp.sock,server=on,wait=off']);
  assert.ok(a.includes('-nodefaults'));
  const k = qemuArgs({ ...opts, accel: 'kvm', snapshot: false, egress: true, disk: '/d/a,b.raw', dataDisk: '/d/data.raw' }, rt);
  const kval = (flag: string) => k.filter((_, i) => k[i - 1] === flag);
  assert.equal(kval('-accel'), ['kvm']);
  assert.equal(kval('-cpu'), ['host']);
  assert.equal(kval('-drive'), ['file=/d/a,,b.raw,format=raw,if=virtio,snapshot=off', 'file=/d/data.raw,format=raw,if=virtio']);
  assert.not.match(kval('-netdev')[0]!, /restrict/);
  assert.throws(() => qemuArgs({ ...opts, forwards: [{ host: 0, guest: 22 }] }, rt), /ports are 1–65535/);
});

test('ssh options: 127.0.0.1, the given key only, no host key memory', () => {
  const a = sshArgs(2222, '/k/id', 'root');
  assert.equal(a.slice(-5), ['-i', '/k/id', '-p', '2222', 'root@127.0.0.1']);
  for (const o of ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'IdentitiesOnly=yes', 'BatchMode=yes']) assert.ok(a.includes(o), o);
});

test.run();
