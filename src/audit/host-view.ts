// What the host checks (B, D) read a system through: a tree on the local disk (a disk image's root
// extracted without mounting it) or a running VM over SSH. Both answer the same questions, so
// each check is written once; `exec` exists only on a live system.
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { onCancel, run } from '../build/proc.js';
import { shQuote } from '../render/provision.js';
import { usageError, workError } from '../types.js';
import type { SshExecResult, SshSession } from '../vm/ssh.js';

export interface HostStat {
  /** Full mode including the file type bits (S_IFMT) and setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  isFile: boolean;
  isDir: boolean;
  isSymlink: boolean;
  size: number;
}

export interface HostView {
  kind: 'offline' | 'live';
  /** For evidence and errors: "disk.qcow2" or "root@127.0.0.1:2222". */
  describe: string;
  readFile(path: string): Promise<Buffer | null>;
  /** Entry names of a directory (no . and ..), or null when it is not one. */
  list(dir: string): Promise<string[] | null>;
  /** Follows symlinks unless `follow: false` (then a symlink itself is described). */
  stat(path: string, opts?: { follow?: boolean }): Promise<HostStat | null>;
  /** Where a symlink points, as written; null when not a symlink. */
  readlink(path: string): Promise<string | null>;
  exec?(cmd: string, opts?: { timeoutMs?: number }): Promise<SshExecResult>;
  /** Offline only: the tree's directory on this machine (systemd-analyze --root=, nft -c). */
  root?: string;
}

export const readText = async (v: HostView, path: string) => (await v.readFile(path))?.toString('utf8') ?? null;

const S_IFMT = 0o170000;
const toStat = (s: { mode: number; uid: number; gid: number; size: number }): HostStat => ({
  mode: s.mode,
  uid: s.uid,
  gid: s.gid,
  size: s.size,
  isFile: (s.mode & S_IFMT) === 0o100000,
  isDir: (s.mode & S_IFMT) === 0o040000,
  isSymlink: (s.mode & S_IFMT) === 0o120000,
});

/**
 * The local path of `path` inside the tree at `root`, resolving symlinks the way the booted
 * system would: an absolute target starts again at `root`, `..` never climbs above it.
 * `followLast: false` keeps a final symlink as it is (lstat semantics). null: a loop.
 */
export async function resolveInRoot(root: string, path: string, followLast = true): Promise<string | null> {
  const todo = path.split('/').filter((c) => c && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const here = join(root, ...done, c);
    if (todo.length === 0 && !followLast) {
      done.push(c);
      break;
    }
    let target: string | null = null;
    try {
      if ((await lstat(here)).isSymbolicLink()) target = await readlink(here);
    } catch {
      done.push(c); // missing: the caller's stat/read reports it
      continue;
    }
    if (target === null) {
      done.push(c);
      continue;
    }
    if (++links > 40) return null;
    const parts = target.split('/').filter((p) => p && p !== '.');
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...parts);
  }
  return join(root, ...done);
}

/** A system tree on this machine's disk (an extracted disk root, or a fixture). */
export function offlineView(rootDir: string, describe = rootDir): HostView {
  const at = (p: string, follow = true) => resolveInRoot(rootDir, p, follow);
  return {
    kind: 'offline',
    describe,
    root: rootDir,
    async readFile(p) {
      const local = await at(p);
      if (!local) return null;
      try {
        return await readFile(local);
      } catch {
        return null;
      }
    },
    async list(dir) {
      const local = await at(dir);
      if (!local) return null;
      try {
        return (await readdir(local)).sort();
      } catch {
        return null;
      }
    },
    async stat(p, o = {}) {
      const local = await at(p, o.follow !== false);
      if (!local) return null;
      try {
        return toStat(o.follow === false ? await lstat(local) : await stat(local));
      } catch {
        return null;
      }
    },
    async readlink(p) {
      const local = await at(p, false);
      if (!local) return null;
      try {
        return await readlink(local);
      } catch {
        return null;
      }
    },
  };
}

/** A running system over SSH (as root). */
export function liveView(session: SshSession, describe = 'live system'): HostView {
  return {
    kind: 'live',
    describe,
    readFile: (p) => session.readFile(p),
    async list(dir) {
      const r = await session.execRaw(`find ${shQuote(dir)}/ -mindepth 1 -maxdepth 1 -printf '%f\\0'`, { timeoutMs: 60_000 });
      if (r.code !== 0) return null;
      return r.stdout.toString('utf8').split('\0').filter(Boolean).sort();
    },
    async stat(p, o = {}) {
      // %f: raw mode in hex (type bits included).
      const r = await session.exec(`stat ${o.follow === false ? '' : '-L '}-c '%f %u %g %s' -- ${shQuote(p)}`, { timeoutMs: 30_000 });
      const m = /^([0-9a-f]+) (\d+) (\d+) (\d+)/.exec(r.stdout);
      if (r.code !== 0 || !m) return null;
      return toStat({ mode: parseInt(m[1]!, 16), uid: Number(m[2]), gid: Number(m[3]), size: Number(m[4]) });
    },
    async readlink(p) {
      const r = await session.exec(`readlink -- ${shQuote(p)}`, { timeoutMs: 30_000 });
      return r.code === 0 ? r.stdout.replace(/\n$/, '') : null;
    },
    exec: (cmd, o) => session.exec(cmd, o),
  };
}

/** Walk a view's tree: every path below `dir` (not following symlinks), skipping `skip`. */
export async function* walk(view: HostView, dir: string, skip: Set<string> = new Set()): AsyncGenerator<{ path: string; stat: HostStat }> {
  const names = await view.list(dir);
  if (!names) return;
  for (const n of names) {
    const p = posix.join(dir, n);
    if (skip.has(p)) continue;
    const s = await view.stat(p, { follow: false });
    if (!s) continue;
    yield { path: p, stat: s };
    if (s.isDir) yield* walk(view, p, skip);
  }
}

// ---------------------------------------------------------------------------------------------
// A disk image's root file system, copied out without mounting (no loop device, no root needed
// to read; root keeps owners and modes).

const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/** GPT type GUIDs of Linux file systems: generic data, x86-64 root, arm64 root. */
const LINUX_GPT_TYPES = new Set(['0FC63DAF-8483-4772-8E79-3D69D8477DE4', '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709', 'B921B045-1DF0-41C3-AF44-4C6F280D3FAE']);

interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
}

/**
 * Byte offset of the Linux partition in `sfdisk --json` output: the only one, else the largest
 * Linux partition (the root of Bulwark's disks is the last and by far the largest).
 */
export function linuxPartitionOffset(sfdiskJson: string): number {
  const t = (JSON.parse(sfdiskJson) as { partitiontable: { label: string; sectorsize?: number; partitions?: SfdiskPartition[] } }).partitiontable;
  const sector = t.sectorsize ?? 512;
  const linux = (t.partitions ?? []).filter((p) => (t.label === 'gpt' ? LINUX_GPT_TYPES.has(p.type.toUpperCase()) : p.type === '83'));
  if (linux.length === 0) throw usageError(`no Linux partition in the partition table (${(t.partitions ?? []).map((p) => p.type).join(', ') || 'empty'})`);
  const best = linux.reduce((a, b) => (b.size > a.size ? b : a));
  return best.start * sector;
}

export interface ExtractedRoot {
  /** The directory holding the root file system's tree (inside destDir). */
  root: string;
  /** Byte offset of the file system in the raw disk. */
  offset: number;
  /** Seconds for the qcow2 conversion (0 for a raw disk) and for rdump. */
  convertSeconds: number;
  dumpSeconds: number;
  /** Files and directories whose setuid/setgid/sticky bits rdump lost and were set again. */
  restoredModes: number;
}

/** Every directory of a local tree, root first (paths relative to it, "/"-rooted). */
async function localDirs(root: string, rel = '/'): Promise<string[]> {
  const out = [rel];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) if (e.isDirectory()) out.push(...(await localDirs(root, posix.join(rel, e.name))));
  return out;
}

/**
 * rdump sets a file's mode and then its owner, and chown(2) clears setuid and setgid (and its
 * directories lose the sticky bit): the extracted tree would hide exactly the files B7 looks
 * for. One debugfs session lists every directory (`ls -p`: /inode/mode/uid/gid/name/size/) and
 * those bits are put back on files and directories.
 */
async function restoreSpecialModes(fsSpec: string, root: string, work: string): Promise<number> {
  const dirs = (await localDirs(root)).filter((d) => !d.includes('"') && !d.includes('\n'));
  const cmdFile = join(work, 'debugfs-ls.cmd');
  await writeFile(cmdFile, dirs.map((d) => `ls -p "${d}"`).join('\n') + '\n');
  const r = await run('debugfs', ['-f', cmdFile, fsSpec], { allowFail: true, timeoutMs: 1_800_000 });
  await rm(cmdFile, { force: true });
  let dir = '/';
  let fixed = 0;
  for (const line of r.stdout.split('\n')) {
    const cmd = /^debugfs: ls -p "(.*)"$/.exec(line);
    if (cmd) {
      dir = cmd[1]!;
      continue;
    }
    const m = /^\/\d+\/([0-7]+)\/\d+\/\d+\/(.*)\/\d*\/$/.exec(line);
    if (!m) continue;
    const mode = parseInt(m[1]!, 8);
    const name = m[2]!;
    const type = mode & 0o170000;
    if (name === '.' || name === '..' || (mode & 0o7000) === 0 || (type !== 0o100000 && type !== 0o040000)) continue;
    await chmod(join(root, dir, name), mode & 0o7777).then(() => fixed++, () => undefined);
  }
  return fixed;
}

async function isQcow2(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, 0);
    return b.equals(QCOW2_MAGIC);
  } finally {
    await fh.close();
  }
}

/**
 * Copy the root file system of a raw or qcow2 disk into `destDir` without mounting it:
 * qcow2 → raw (qemu-img, a temp file in destDir), the Linux partition's offset (sfdisk --json; a
 * disk without a partition table is taken as a bare file system), then `debugfs rdump`, which
 * keeps modes, and owners when run as root. Returns where the tree is. `destDir` must not exist
 * or be empty; the caller removes it.
 */
export async function extractDiskRoot(diskPath: string, destDir: string): Promise<ExtractedRoot> {
  if (!existsSync(diskPath)) throw usageError(`no such disk image: ${diskPath}`);
  await mkdir(destDir, { recursive: true });
  const unregister = onCancel(() => rm(destDir, { recursive: true, force: true }));
  try {
    let raw = diskPath;
    let convertSeconds = 0;
    if (await isQcow2(diskPath)) {
      const t0 = Date.now();
      raw = join(destDir, 'disk.raw');
      await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', diskPath, raw], { timeoutMs: 900_000, missingHint: 'apt-get install qemu-utils' });
      convertSeconds = (Date.now() - t0) / 1000;
    }
    const table = await run('sfdisk', ['--json', raw], { allowFail: true, timeoutMs: 60_000, missingHint: 'apt-get install fdisk' });
    const offset = table.code === 0 && table.stdout.trim() ? linuxPartitionOffset(table.stdout) : 0;
    const root = join(destDir, 'root');
    await mkdir(root);
    const t1 = Date.now();
    // rdump of "/" writes the root's entries straight into the destination directory.
    const r = await run('debugfs', ['-R', `rdump / ${root}`, `${raw}?offset=${offset}`], { allowFail: true, timeoutMs: 1_800_000, missingHint: 'apt-get install e2fsprogs' });
    if (r.code !== 0 || !existsSync(join(root, 'etc'))) {
      const why = (r.stderr || r.stdout).trim().split('\n').filter((l) => !/^debugfs \d/.test(l)).slice(-2).join(' / ');
      throw workError(`debugfs could not read the root file system of ${diskPath} at offset ${offset}: ${why || 'no /etc in the dump'}`);
    }
    const restoredModes = await restoreSpecialModes(`${raw}?offset=${offset}`, root, destDir);
    const dumpSeconds = (Date.now() - t1) / 1000;
    if (raw !== diskPath) await rm(raw, { force: true });
    return { root, offset, convertSeconds, dumpSeconds, restoredModes };
  } finally {
    unregister();
  }
}
