// Integration: `extractDiskRoot` on a tiny disk made here as Bulwark makes its system disks
// (mke2fs -d from a tree, an sfdisk partition table, the file system dd'd in at 1 MiB), raw and
// qcow2: modes (setuid included), owners and symlinks survive. Then `bulwark audit --disk` on it
// end to end (a bare tree: most checks fail, which is the point of exit code 1).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmod, chown, lstat, mkdir, mkdtemp, open, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { extractDiskRoot } from '../../src/audit/host-view.js';
import type { AuditReport } from '../../src/audit/types.js';
import { diskLayout, renderSfdiskScript } from '../../src/vm/disk-layout.js';
import { bulwark, withTimeout } from '../helpers.js';

const isRoot = process.getuid?.() === 0;

async function makeDisk(work: string): Promise<{ raw: string; qcow2: string }> {
  const tree = join(work, 'tree');
  const file = async (p: string, content: string, mode: number, uid = 0, gid = 0) => {
    await mkdir(join(tree, p, '..'), { recursive: true });
    await writeFile(join(tree, p), content);
    await chown(join(tree, p), uid, gid);
    await chmod(join(tree, p), mode); // after chown, which clears setuid
  };
  await file('etc/passwd', 'root:x:0:0::/root:/bin/sh\napp:x:12345:12345::/nonexistent:/usr/sbin/nologin\n', 0o644);
  await file('etc/group', 'root:x:0:\nshadow:x:42:\n', 0o644);
  await file('etc/shadow', 'root:*:1:0:99999:7:::\n', 0o640, 0, 42);
  await file('etc/machine-id', '', 0o444);
  await file('usr/bin/su', 'not really su', 0o4755);
  await file('usr/bin/wall', 'not really wall', 0o2755, 0, 5);
  await file('var/lib/app/data.db', 'state', 0o600, 12345, 12345);
  await file('etc/os-release', 'VERSION_CODENAME=trixie\n', 0o644);
  await symlink('/usr/bin/su', join(tree, 'usr/bin/su-link'));
  await mkdir(join(tree, 'tmp'));
  await chmod(join(tree, 'tmp'), 0o1777);

  const layout = diskLayout(1024); // the smallest layout Bulwark makes; the file stays sparse
  const fs = join(work, 'root.ext4');
  await run('mke2fs', ['-q', '-t', 'ext4', '-E', 'root_owner=0:0', '-d', tree, fs, '32M']);
  const raw = join(work, 'disk.raw');
  const fh = await open(raw, 'w');
  await fh.truncate(layout.diskBytes);
  await fh.close();
  await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', raw], { input: renderSfdiskScript(layout, '0badc0de') });
  await run('dd', [`if=${fs}`, `of=${raw}`, 'bs=4M', `seek=${layout.rootOffsetBytes}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
  const qcow2 = join(work, 'disk.qcow2');
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return { raw, qcow2 };
}

test('extractDiskRoot: raw and qcow2, modes, owners and symlinks kept', () =>
  withTimeout(300_000, async (cleanup) => {
    if (!isRoot) {
      console.log('  (skipped: needs root to make files of other owners and to keep them)');
      return;
    }
    const work = await mkdtemp(join(tmpdir(), 'bulwark-audit-disk-'));
    cleanup(() => rm(work, { recursive: true, force: true }));
    const disk = await makeDisk(work);
    for (const [kind, path] of [['raw', disk.raw], ['qcow2', disk.qcow2]] as const) {
      const dest = join(work, `out-${kind}`);
      const x = await extractDiskRoot(path, dest);
      console.log(`  (${kind}: offset ${x.offset}, convert ${x.convertSeconds.toFixed(2)} s, rdump ${x.dumpSeconds.toFixed(2)} s, setuid/setgid restored on ${x.restoredModes})`);
      assert.is(x.offset, 1048576);
      assert.is(x.restoredModes, 3, 'su, wall and /tmp');
      const st = (p: string) => stat(join(x.root, p));
      const su = await st('usr/bin/su');
      assert.is((su.mode & 0o7777).toString(8), '4755', 'setuid survives');
      assert.is(((await st('usr/bin/wall')).mode & 0o7777).toString(8), '2755', 'setgid survives');
      assert.is((await st('usr/bin/wall')).gid, 5);
      const shadow = await st('etc/shadow');
      assert.is((shadow.mode & 0o777).toString(8), '640');
      assert.is(shadow.gid, 42);
      const data = await st('var/lib/app/data.db');
      assert.is(data.uid, 12345);
      assert.is((data.mode & 0o777).toString(8), '600');
      assert.is(((await st('tmp')).mode & 0o7777).toString(8), '1777', 'sticky directory');
      assert.ok((await lstat(join(x.root, 'usr/bin/su-link'))).isSymbolicLink());
      assert.is(await readlink(join(x.root, 'usr/bin/su-link')), '/usr/bin/su');
      assert.is(await readFile(join(x.root, 'etc/os-release'), 'utf8'), 'VERSION_CODENAME=trixie\n');
      assert.not.ok(existsSync(join(dest, 'disk.raw')), 'the converted raw file is removed');
    }
  }),
);

test('bulwark audit --disk: B and D on the disk, temp tree removed', () =>
  withTimeout(300_000, async (cleanup) => {
    if (!isRoot) return;
    const work = await mkdtemp(join(tmpdir(), 'bulwark-audit-disk-'));
    cleanup(() => rm(work, { recursive: true, force: true }));
    const disk = await makeDisk(work);
    const before = new Set((await import('node:fs')).readdirSync('/var/tmp').filter((n) => n.startsWith('bulwark-audit-')));
    const r = await bulwark(['audit', '--disk', disk.qcow2, '--units', 'app', '--json'], { env: { BULWARK_CACHE: join(work, 'cache') } });
    assert.is(r.code, 1, r.stderr);
    const rep = JSON.parse(r.stdout) as AuditReport;
    assert.equal(rep.results.map((x) => x.id), [...Array.from({ length: 15 }, (_, i) => `B${i + 1}`), ...Array.from({ length: 10 }, (_, i) => `D${i + 1}`)]);
    const by = Object.fromEntries(rep.results.map((x) => [x.id, x]));
    assert.is(by.B7!.status, 'fail');
    assert.match(by.B7!.evidence, /\/usr\/bin\/su, \/usr\/bin\/wall/);
    assert.is(by.B5!.status, 'pass', by.B5!.evidence);
    assert.is(by.B6!.status, 'pass', `owners read from the disk: ${by.B6!.evidence}`);
    assert.match(by.D2!.evidence, /unit file not found: app\.service/);
    const after = (await import('node:fs')).readdirSync('/var/tmp').filter((n) => n.startsWith('bulwark-audit-') && !before.has(n));
    assert.equal(after, [], 'the extracted tree is removed');
  }),
);

test.run();
