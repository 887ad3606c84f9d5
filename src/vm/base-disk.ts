// The base system disk of every VM image: Debian (minbase + the host layer's packages) installed
// by mmdebstrap into a directory, configured as files (base-tree.ts), turned into an ext4 image by
// `mke2fs -d` and written into a partitioned disk image with BIOS GRUB (grub.ts). No loop device,
// no mount of the image: everything works on plain files, so it runs wherever mmdebstrap does.
// The raw disk is what the clouds import; the qcow2 is for QEMU. Both are cached under
// <cache>/vm/base-<key>/ by the hash of everything that goes into them.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { cacheDir } from '../build/cache.js';
import { sha256File } from '../build/layer-tar.js';
import { onCancel, run } from '../build/proc.js';
import { loadLayerDefinition } from '../build/layers.js';
import { parseStanzas, suiteSources } from '../lock/archive.js';
import { envError, usageError, workError } from '../types.js';
import { copyTreeHook, renderConfigFiles, renderCustomizeScript, renderPinsFile, renderSetupFiles, runScriptHook, type TreeFile } from './base-tree.js';
import { diskLayout, renderSfdiskScript, type DiskLayout, SECTOR_BYTES } from './disk-layout.js';
import { GRUB_BOOT_IMAGE, GRUB_CORE_IMAGE, grubBootSector, grubCoreForSector } from './grub.js';

/** Bump when the way the disk is assembled changes, so old cache entries are not reused. */
export const BASE_DISK_FORMAT = 2;
export const ROOT_LABEL = 'bulwark-root';

/**
 * ext4 features, spelled out so the file system does not depend on the build machine's
 * /etc/mke2fs.conf; all of them are ones GRUB 2.12 reads (it refuses unknown incompatible ones).
 */
export const ROOT_FS_FEATURES = 'none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,64bit,flex_bg,sparse_super,large_file,huge_file,dir_nlink,extra_isize,metadata_csum';

/** No documentation, manual pages or translations in the image (DESIGN "Layers": userland). */
export const DPKG_EXCLUDES = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/locale/*',
  'path-include=/usr/share/locale/locale.alias',
  'path-exclude=/usr/share/lintian/*',
];

export interface BaseDiskOptions {
  suite: 'trixie';
  mirror: string;
  securityMirror: string;
  /** Size of the whole disk; the root partition fills it after the first MiB. */
  sizeMiB: number;
  hostname?: string;
  /** Packages on top of the host layer's: the TLS proxy, the apps' runtimes and Debian dependencies. */
  extraPackages?: string[];
  /** Exactly these packages instead (a bare disk to compare with, in the VM benchmark). */
  packages?: string[];
  /** Versions from bulwark.lock: installed instead of the mirror's newest (apt pins, removed afterwards). */
  pins?: Array<{ name: string; version: string }>;
  /** Host configuration files copied over the installed packages (firewall, sysctl, hardening). */
  extraFiles?: TreeFile[];
  /** Units to enable in the tree (the host files' services). */
  enableUnits?: string[];
  log: (line: string) => void;
}

export interface BaseDisk {
  raw: string;
  qcow2: string;
  /** sha256 of the raw disk (what the clouds import). */
  sha256: string;
  qcow2Sha256: string;
  /** Seconds this call took (a cache hit is fast; `buildSeconds` is what the build took). */
  seconds: number;
  buildSeconds: number;
  cached: boolean;
  /** The cache entry: disks, kernel copy, manifest.json, build.log, and build/ (the generated files). */
  dir: string;
  /** The installed tree the disk was made from (the system disks of apps start from a copy). */
  tree: string;
  rootUuid: string;
  layout: DiskLayout;
  /** The installed kernel; `path` is a copy outside the disk (to probe KVM with). */
  kernel: { version: string; path: string };
  /** Installed Debian packages, sorted by name. */
  packages: Array<{ name: string; version: string }>;
}

/** The packages of the base disk: the host layer (base-images/host/layer.json), on minbase. */
export function baseDiskPackages(): string[] {
  return [...loadLayerDefinition('host').packages].sort();
}

export interface BaseDiskPlan {
  key: string;
  rootUuid: string;
  diskId: string;
  packages: string[];
  sources: string[];
  setupFiles: TreeFile[];
  configFiles: TreeFile[];
  customizeScript: string;
  layout: DiskLayout;
  sfdiskScript: string;
}

/** A version-4-shaped UUID from a hash, so the same inputs give the same disk. */
export function uuidFromHash(hex: string): string {
  const b = Buffer.from(hex.slice(0, 32), 'hex');
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Everything the disk is made from, and its cache key. Pure apart from reading layer.json. */
export function planBaseDisk(opts: Omit<BaseDiskOptions, 'log'>, packages = opts.packages ? [...opts.packages].sort() : [...new Set([...baseDiskPackages(), ...(opts.extraPackages ?? [])])].sort()): BaseDiskPlan {
  if (opts.suite !== 'trixie') throw usageError(`VM disks are built from Debian trixie, not ${opts.suite}`);
  const layout = diskLayout(opts.sizeMiB);
  const hostname = opts.hostname ?? 'bulwark';
  const sources = suiteSources(opts.suite, opts.mirror, opts.securityMirror).map((s) => `deb ${s.baseUrl} ${s.suite} main`);
  const pins = [...(opts.pins ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const setupFiles = [...renderSetupFiles(), ...(pins.length ? [renderPinsFile(pins)] : [])];
  const customizeScript = renderCustomizeScript(opts.enableUnits ?? []);
  // The UUID and disk id are derived from the inputs other than themselves; the key then covers
  // the files rendered with them, which adds nothing the seed does not already fix.
  const seed = createHash('sha256')
    .update(JSON.stringify({ f: BASE_DISK_FORMAT, packages, sources, dpkg: DPKG_EXCLUDES, sizeMiB: opts.sizeMiB, hostname, setupFiles, customizeScript, features: ROOT_FS_FEATURES, extra: opts.extraFiles ?? [] }))
    .digest('hex');
  const rootUuid = uuidFromHash(createHash('sha256').update(`root-uuid:${seed}`).digest('hex'));
  const diskId = createHash('sha256').update(`disk-id:${seed}`).digest('hex').slice(0, 8);
  const configFiles = [...renderConfigFiles({ rootUuid, hostname }), ...(opts.extraFiles ?? [])];
  const key = createHash('sha256').update(JSON.stringify({ seed, configFiles })).digest('hex');
  return { key, rootUuid, diskId, packages, sources, setupFiles, configFiles, customizeScript, layout, sfdiskScript: renderSfdiskScript(layout, diskId) };
}

/** rm -rf that never crosses into another file system (a mount left by a killed mmdebstrap). */
async function removeTree(path: string): Promise<void> {
  if (!existsSync(path)) return;
  await run('rm', ['-rf', '--one-file-system', '--', path], { timeoutMs: 300_000, allowFail: true });
}

/** Write files at their paths under `dir`, with their modes; every directory 0755. */
export async function writeTree(dir: string, files: TreeFile[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    const p = join(dir, f.path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, f.content);
    await chmod(p, f.mode);
  }
  // `cp -a DIR/. ROOT/` gives ROOT's directories the modes of DIR's: make them all 0755.
  const fixDirs = async (d: string): Promise<void> => {
    await chmod(d, 0o755);
    for (const e of await readdir(d, { withFileTypes: true })) if (e.isDirectory()) await fixDirs(join(d, e.name));
  };
  await fixDirs(dir);
}

/** Temp dirs of builds whose process is gone (killed outright): a few hundred MB each. */
async function removeStaleBuilds(top: string): Promise<void> {
  for (const name of await readdir(top)) {
    const pid = Number(/^\.base-[0-9a-f]+\.(\d+)\.tmp$/.exec(name)?.[1] ?? 0);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') await removeTree(join(top, name));
    }
  }
}

/** Installed packages from the tree's dpkg status. */
async function installedPackages(root: string): Promise<Array<{ name: string; version: string }>> {
  const status = await readFile(join(root, 'var/lib/dpkg/status'), 'utf8');
  return parseStanzas(status)
    .filter((s) => /\binstalled$/.test(s.Status ?? ''))
    .map((s) => ({ name: s.Package!, version: s.Version! }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

let unshareWorks: Promise<boolean> | null = null;
/** mmdebstrap runs in a private mount namespace when it can, so a killed run leaves no mounts behind. */
function canUnshare(): Promise<boolean> {
  unshareWorks ??= run('unshare', ['--mount', '--propagation', 'private', 'true'], { allowFail: true, timeoutMs: 10_000 })
    .then((r) => r.code === 0)
    .catch(() => false);
  return unshareWorks;
}

function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').filter((l) => l.trim()).slice(-n).join(' / ');
}

/** What manifest.json records: the result, with file names relative to the entry (the cache may move). */
interface Manifest extends Omit<BaseDisk, 'seconds' | 'cached' | 'dir' | 'raw' | 'qcow2' | 'kernel' | 'tree'> {
  key: string;
  files: { raw: string; qcow2: string; kernel: string; tree: string };
  kernelVersion: string;
  suite: string;
  mirror: string;
  securityMirror: string;
  builtAt: string;
}

function fromManifest(dir: string, m: Manifest): Omit<BaseDisk, 'seconds' | 'cached'> {
  const { key: _key, files, kernelVersion, suite: _s, mirror: _m, securityMirror: _sm, builtAt: _b, ...rest } = m;
  return { ...rest, dir, raw: join(dir, files.raw), qcow2: join(dir, files.qcow2), tree: join(dir, files.tree), kernel: { version: kernelVersion, path: join(dir, files.kernel) } };
}

async function readCached(dir: string, t0: number): Promise<BaseDisk | null> {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return null;
  const m = fromManifest(dir, JSON.parse(await readFile(file, 'utf8')) as Manifest);
  if (![m.raw, m.qcow2, m.kernel.path, join(m.tree, 'etc')].every((p) => existsSync(p))) return null;
  return { ...m, cached: true, seconds: (Date.now() - t0) / 1000 };
}

/** Build (or take from the cache) the base system disk. Needs root (mmdebstrap --mode=root). */
export async function buildBaseDisk(opts: BaseDiskOptions): Promise<BaseDisk> {
  const t0 = Date.now();
  const plan = planBaseDisk(opts);
  const top = join(cacheDir(), 'vm');
  const dir = join(top, `base-${plan.key.slice(0, 16)}`);
  const cached = await readCached(dir, t0);
  if (cached) {
    opts.log(`base disk: cached (${dir})`);
    return cached;
  }
  if (process.getuid?.() !== 0) throw envError('building a VM disk needs root (mmdebstrap --mode=root installs packages as root)');

  await mkdir(top, { recursive: true });
  await removeStaleBuilds(top);
  const tmp = join(top, `.base-${plan.key.slice(0, 16)}.${process.pid}.tmp`);
  const logFile = join(tmp, 'build.log');
  // A failed build's log is kept here (the temp dir is removed).
  const failedLog = join(top, `base-${plan.key.slice(0, 16)}.failed.log`);
  await removeTree(tmp);
  await mkdir(tmp);
  const unregister = onCancel(() => removeTree(tmp));
  try {
    const build = join(tmp, 'build');
    const root = join(tmp, 'root');
    await writeTree(join(build, 'setup'), plan.setupFiles);
    await writeTree(join(build, 'config'), plan.configFiles);
    await writeFile(join(build, 'customize.sh'), plan.customizeScript, { mode: 0o755 });
    await writeFile(join(build, 'sfdisk.txt'), plan.sfdiskScript);

    // 1. Debian into a directory, configured by the hooks.
    const mm = [
      'mmdebstrap',
      '--mode=root',
      '--variant=minbase',
      `--include=${plan.packages.join(',')}`,
      '--aptopt=Acquire::Retries "3"',
      ...DPKG_EXCLUDES.map((o) => `--dpkgopt=${o}`),
      `--setup-hook=${copyTreeHook(join(build, 'setup'))}`,
      `--customize-hook=${copyTreeHook(join(build, 'config'))}`,
      `--customize-hook=${runScriptHook(join(build, 'customize.sh'))}`,
      opts.suite,
      root,
      ...plan.sources,
    ];
    await writeFile(join(build, 'mmdebstrap.args'), mm.join('\n') + '\n');
    opts.log(`base disk: mmdebstrap ${opts.suite} (minbase + ${plan.packages.length} host packages) from ${opts.mirror}`);
    const cmd = (await canUnshare()) ? ['unshare', ['--mount', '--propagation', 'private', '--', ...mm]] as const : [mm[0]!, mm.slice(1)] as const;
    const r = await run(cmd[0], [...cmd[1]], { logFile, timeoutMs: 1_200_000, allowFail: true });
    if (r.code !== 0) {
      if (r.code === 127 || /mmdebstrap: (not found|No such file)|failed to execute mmdebstrap/.test(r.stderr)) throw envError('mmdebstrap not found: apt-get install mmdebstrap (scripts/setup does it)');
      const why = lastLines(r.stderr || r.stdout);
      if (/Could not resolve|Failed to fetch|Unable to connect|Temporary failure|Connection (refused|timed out)/i.test(r.stderr)) throw envError(`mmdebstrap could not download from ${opts.mirror}: ${why} (log: ${failedLog})`);
      throw workError(`mmdebstrap failed (exit ${r.code}): ${why} (log: ${failedLog})`);
    }

    // 2. What the disk needs from the tree: the kernel, the package list.
    const kernels = (await readdir(join(root, 'boot'))).filter((f) => /^vmlinuz-/.test(f)).sort();
    if (kernels.length !== 1) throw workError(`expected one kernel in /boot, found ${kernels.join(', ') || 'none'}`);
    const kernelVersion = kernels[0]!.slice('vmlinuz-'.length);
    const kernelCopy = join(tmp, `vmlinuz-${kernelVersion}`);
    await copyFile(join(root, 'boot', kernels[0]!), kernelCopy);
    const packages = await installedPackages(root);
    const pinned = new Map(packages.map((p) => [p.name, p.version]));
    const off = (opts.pins ?? []).filter((p) => pinned.has(p.name) && pinned.get(p.name) !== p.version);
    if (off.length)
      throw workError(`the mirror no longer has ${off.map((p) => `${p.name} ${p.version}`).slice(0, 3).join(', ')}${off.length > 3 ? ` and ${off.length - 3} more` : ''} from bulwark.lock: run \`bulwark lock --update\` (or point --mirror at a snapshot)`);

    // 3–5. The disk images, written from the tree; the tree is kept for the apps' system disks.
    const images = await writeDiskImages({ root, outDir: tmp, layout: plan.layout, rootUuid: plan.rootUuid, sfdiskScript: plan.sfdiskScript, logFile, log: opts.log });
    const buildSeconds = Math.round((Date.now() - t0) / 100) / 10;
    const manifest: Manifest = {
      key: plan.key,
      files: { raw: 'disk.raw', qcow2: 'disk.qcow2', kernel: basename(kernelCopy), tree: 'root' },
      kernelVersion,
      sha256: images.sha256,
      qcow2Sha256: images.qcow2Sha256,
      buildSeconds,
      rootUuid: plan.rootUuid,
      layout: plan.layout,
      packages,
      suite: opts.suite,
      mirror: opts.mirror,
      securityMirror: opts.securityMirror,
      builtAt: new Date().toISOString(),
    };
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    const result = fromManifest(dir, manifest);
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another build of the same inputs finished first: use it.
      const other = await readCached(dir, t0);
      if (!other) throw e;
      await removeTree(tmp);
      return other;
    }
    opts.log(`base disk: ${dir} (${buildSeconds} s)`);
    return { ...result, cached: false, seconds: (Date.now() - t0) / 1000 };
  } catch (e) {
    if (existsSync(logFile)) await copyFile(logFile, failedLog).catch(() => undefined);
    await removeTree(tmp);
    throw e;
  } finally {
    unregister();
  }
}

export interface DiskImages {
  raw: string;
  qcow2: string;
  sha256: string;
  qcow2Sha256: string;
}

/**
 * A bootable disk from a system tree, without mounting anything: the ext4 root file system by
 * `mke2fs -d`, a sparse raw disk with the partition table, the file system at its offset and
 * BIOS GRUB (boot.img in the MBR, core.img in the gap), then a qcow2 copy and both checksums.
 * Writes outDir/disk.raw and outDir/disk.qcow2; the tree is left as it was.
 */
export async function writeDiskImages(o: { root: string; outDir: string; layout: DiskLayout; rootUuid: string; sfdiskScript: string; logFile: string; log: (l: string) => void }): Promise<DiskImages> {
  const bootImg = await readFile(join(o.root, GRUB_BOOT_IMAGE));
  const coreImg = grubCoreForSector(await readFile(join(o.root, GRUB_CORE_IMAGE)), o.layout);
  const rootfs = join(o.outDir, 'rootfs.ext4');
  o.log(`disk: mke2fs -d (ext4, ${Math.round(o.layout.rootBytes / 1048576)} MiB, UUID ${o.rootUuid})`);
  await run('mke2fs', ['-q', '-t', 'ext4', '-b', '4096', '-I', '256', '-O', ROOT_FS_FEATURES, '-L', ROOT_LABEL, '-U', o.rootUuid, '-E', 'root_owner=0:0', '-d', o.root, rootfs, `${o.layout.rootBytes / 1024}k`], {
    logFile: o.logFile,
    timeoutMs: 600_000,
    missingHint: 'apt-get install e2fsprogs',
  });
  const raw = join(o.outDir, 'disk.raw');
  const fh = await open(raw, 'w');
  await fh.truncate(o.layout.diskBytes);
  await fh.close();
  await run('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', raw], { input: o.sfdiskScript, logFile: o.logFile, timeoutMs: 60_000, missingHint: 'apt-get install fdisk' });
  await run('dd', [`if=${rootfs}`, `of=${raw}`, 'bs=4M', `seek=${o.layout.rootOffsetBytes}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none'], { logFile: o.logFile, timeoutMs: 600_000 });
  await rm(rootfs, { force: true });
  const disk = await open(raw, 'r+');
  try {
    const mbr = Buffer.alloc(SECTOR_BYTES);
    await disk.read(mbr, 0, SECTOR_BYTES, 0);
    await disk.write(grubBootSector(bootImg, mbr, o.layout.coreSector), 0, SECTOR_BYTES, 0);
    await disk.write(coreImg, 0, coreImg.length, o.layout.coreSector * SECTOR_BYTES);
  } finally {
    await disk.close();
  }
  const qcow2 = join(o.outDir, 'disk.qcow2');
  o.log('disk: qemu-img convert to qcow2');
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2], { logFile: o.logFile, timeoutMs: 600_000, missingHint: 'apt-get install qemu-utils' });
  const [sha256, qcow2Sha256] = await Promise.all([sha256File(raw), sha256File(qcow2)]);
  return { raw, qcow2, sha256, qcow2Sha256 };
}
