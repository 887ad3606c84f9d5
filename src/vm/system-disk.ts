// `bulwark build --target qemu`: the system disk of a site. Bulwark's base disk (the host layer,
// the TLS proxy, the apps' runtimes and Debian dependencies, installed from the lock's versions)
// plus each app, installed by the very provisioning scripts the Packer template runs, here run
// natively in a chroot of a copy of the base tree; then the proxy configuration, the internal CA
// and the release file; then one new file system, written without mounting anything.
// No VM boots during the build, which is why this is the default (Packer's qemu builder boots the
// base disk and runs the same scripts over SSH: minutes under emulation, against seconds here).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Plan } from '../plan/types.js';
import type { PlannedApp } from '../plan/index.js';
import { onCancel, run } from '../build/proc.js';
import { loadLayerDefinition } from '../build/layers.js';
import { appPaths } from '../names.js';
import { renderProvisionScripts, provisionScriptPaths, stagedBundleName, stagedSiteBundleName } from '../render/provision.js';
import { renderAppUnit } from '../render/systemd.js';
import { workError } from '../types.js';
import { bulwarkVersion } from '../version.js';
import { buildBaseDisk, writeDiskImages, writeTree, type BaseDisk } from './base-disk.js';
import { sha256File } from '../build/layer-tar.js';
import { renderSfdiskScript } from './disk-layout.js';
import { hostFiles, HOST_UNITS_TO_ENABLE, siteFiles } from './host-files.js';
import { AUTHORIZED_KEYS_DIR, checkAuthorizedKey } from './base-tree.js';
import { RELEASE_FILE, type HostSpec, type TreeFile } from './host-spec.js';
import { ensureInternalCa, internalCaFiles, type InternalCa } from './internal-ca.js';

/** Bump when the way the system disk is assembled changes. */
export const SYSTEM_DISK_FORMAT = 1;
export const DEFAULT_DISK_MIB = 3072;

export interface SystemDiskApp {
  planned: PlannedApp;
  /** The app's own layer tars from its Docker build (dependencies, then code and launcher). */
  layerTars: string[];
}

export interface SystemDiskOptions {
  plan: Plan;
  /** Names the disk files: the app's name, or the site's folder name. */
  name: string;
  apps: SystemDiskApp[];
  host: HostSpec;
  authorizedKey: string;
  sizeMiB?: number;
  /** Where the disk goes: <project>/.bulwark/vm/<name>/. */
  outDir: string;
  log: (line: string) => void;
  logFile: string;
}

export interface SystemDisk {
  name: string;
  raw: string;
  qcow2: string;
  sha256: string;
  qcow2Sha256: string;
  /** The internal CA's root certificate next to the disk (no-domain sites), else null. */
  caCert: string | null;
  base: BaseDisk;
  cached: boolean;
  seconds: number;
  /** Installed Debian packages (name → version). */
  packages: number;
  rootUuid: string;
  kernel: string;
}

/** The packages a site's disk needs beyond the host layer: the proxy, runtimes, apps' Debian deps. */
export function siteDiskPackages(apps: PlannedApp[]): { packages: string[]; pins: Array<{ name: string; version: string }> } {
  const packages = new Set(loadLayerDefinition('tls').packages);
  const pins = new Map<string, string>();
  for (const a of apps)
    for (const r of a.resolved) {
      for (const p of r.def.packages) packages.add(p);
      for (const p of r.packages) pins.set(p.name, p.version);
    }
  // The container's init is not needed where systemd runs the app.
  packages.delete('tini');
  return { packages: [...packages].sort(), pins: [...pins].map(([name, version]) => ({ name, version })).sort((a, b) => (a.name < b.name ? -1 : 1)) };
}

interface Manifest {
  key: string;
  name: string;
  files: { raw: string; qcow2: string; caCert: string | null };
  sha256: string;
  qcow2Sha256: string;
  baseKey: string;
  packages: number;
  rootUuid: string;
  kernel: string;
  builtAt: string;
}

function releaseFile(opts: SystemDiskOptions, base: BaseDisk, key: string): string {
  return [
    `# ${RELEASE_FILE}: the identity of this image (Bulwark).`,
    `BULWARK_VERSION=${bulwarkVersion}`,
    `SUITE=${opts.plan.suite}`,
    `SYSTEM_DISK=${key.slice(0, 16)}`,
    `BASE_DISK=${base.sha256}`,
    `KERNEL=${base.kernel.version}`,
    ...opts.apps.map((a) => `APP_${a.planned.plan.spec.name.toUpperCase().replace(/-/g, '_')}=${a.planned.plan.contentHash}`),
    '',
  ].join('\n');
}

/** The app bundle the provisioning scripts take: app/ (→ /opt/<app>) and bulwark/ (→ /opt/bulwark/<app>). */
async function makeBundle(app: SystemDiskApp, work: string, out: string, epoch: number, logFile: string): Promise<void> {
  const name = app.planned.plan.spec.name;
  const x = join(work, `layers-${name}`);
  const b = join(work, `bundle-${name}`);
  await mkdir(x, { recursive: true });
  await mkdir(b, { recursive: true });
  for (const t of app.layerTars) await run('tar', ['-xf', t, '-C', x, '--no-same-owner', './opt'], { logFile, timeoutMs: 300_000 });
  if (!existsSync(join(x, 'opt', name)) || !existsSync(join(x, 'opt/bulwark/app.json'))) throw workError(`${name}: its image layers hold no /opt/${name} or /opt/bulwark/app.json`);
  await rename(join(x, 'opt', name), join(b, 'app'));
  await rename(join(x, 'opt/bulwark'), join(b, 'bulwark'));
  await run('tar', ['-cf', out, '-C', b, '--sort=name', `--mtime=@${epoch}`, '--owner=0', '--group=0', '--numeric-owner', 'app', 'bulwark'], { logFile, timeoutMs: 300_000 });
  await rm(x, { recursive: true, force: true });
  await rm(b, { recursive: true, force: true });
}

/** The site bundle 40-site.sh installs: files at their paths under /, with their modes. */
async function makeSiteBundle(files: TreeFile[], work: string, out: string, epoch: number, logFile: string): Promise<void> {
  const dir = join(work, 'site');
  await rm(dir, { recursive: true, force: true });
  await writeTree(dir, files);
  await run('tar', ['-cf', out, '-C', dir, '--sort=name', `--mtime=@${epoch}`, '--owner=0', '--group=0', '--numeric-owner', ...[...new Set(files.map((f) => f.path.split('/')[0]!))].sort()], { logFile, timeoutMs: 60_000 });
  await rm(dir, { recursive: true, force: true });
}

export async function buildSystemDisk(opts: SystemDiskOptions): Promise<SystemDisk> {
  const t0 = Date.now();
  const { plan } = opts;
  const apps = opts.apps.map((a) => a.planned);
  const { packages, pins } = siteDiskPackages(apps);
  const base = await buildBaseDisk({
    suite: 'trixie',
    mirror: plan.mirror,
    securityMirror: plan.securityMirror,
    sizeMiB: opts.sizeMiB ?? DEFAULT_DISK_MIB,
    extraPackages: packages,
    pins,
    extraFiles: hostFiles(),
    enableUnits: HOST_UNITS_TO_ENABLE,
    log: opts.log,
  });

  const ca: InternalCa | null = opts.host.tls.mode === 'internal' ? await ensureInternalCa(plan.projectDir, opts.name) : null;
  const site = [
    ...siteFiles(opts.host),
    ...(ca ? await internalCaFiles(ca) : []),
    // The operator's key: in the site bundle, so the base disk (and its cache entry) serves every project.
    { path: `${AUTHORIZED_KEYS_DIR}/root`, mode: 0o644, content: `${checkAuthorizedKey(opts.authorizedKey)}\n` },
  ];
  const units = Object.fromEntries(apps.map((a) => [a.plan.spec.name, renderAppUnit(plan, a.plan)]));
  const scripts = Object.fromEntries(apps.map((a) => [a.plan.spec.name, renderProvisionScripts(plan, a.plan)]));
  const layerHashes = opts.apps.map((a) => a.layerTars.map((t) => t.split('/').pop()));
  const key = createHash('sha256').update(JSON.stringify({ f: SYSTEM_DISK_FORMAT, base: base.sha256, site, units, scripts, layerHashes, v: bulwarkVersion })).digest('hex');
  const release = releaseFile(opts, base, key);

  const manifestFile = join(opts.outDir, 'manifest.json');
  if (existsSync(manifestFile)) {
    const m = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    const raw = join(opts.outDir, m.files.raw);
    const qcow2 = join(opts.outDir, m.files.qcow2);
    if (m.key === key && existsSync(raw) && existsSync(qcow2)) {
      opts.log(`${opts.name}: system disk unchanged (${opts.outDir})`);
      return { name: opts.name, raw, qcow2, sha256: m.sha256, qcow2Sha256: m.qcow2Sha256, caCert: m.files.caCert ? join(opts.outDir, m.files.caCert) : null, base, cached: true, seconds: (Date.now() - t0) / 1000, packages: m.packages, rootUuid: m.rootUuid, kernel: m.kernel };
    }
  }

  // The work folder sits beside the output, so the finished folder is renamed into place.
  const top = dirname(opts.outDir);
  await mkdir(top, { recursive: true });
  const work = join(top, `.${opts.name}.${process.pid}.tmp`);
  const removeWork = async () => void (await run('rm', ['-rf', '--one-file-system', '--', work], { timeoutMs: 300_000, allowFail: true }));
  await removeWork();
  await mkdir(work, { recursive: true });
  const undo = onCancel(removeWork);
  try {
    // A copy of the base tree (reflinks where the file system has them).
    const root = join(work, 'root');
    opts.log(`${opts.name}: system disk from the base tree (${base.tree})`);
    await run('cp', ['-a', '--reflink=auto', base.tree, root], { logFile: opts.logFile, timeoutMs: 600_000 });

    // Each app by its provisioning scripts, as Packer would run them, but in a chroot. The site
    // bundle (proxy configuration, internal CA, release file) goes with every app: 40-site.sh.
    const siteBundle = join(work, 'site-bundle.tar');
    await makeSiteBundle([...site, { path: RELEASE_FILE.slice(1), mode: 0o644, content: release }], work, siteBundle, plan.sourceDateEpoch, opts.logFile);
    const inputs = join(work, 'out', 'inputs');
    await mkdir(inputs, { recursive: true });
    await copyFile(siteBundle, join(inputs, stagedSiteBundleName));
    // The base disk the Packer template boots: a hard link to the cache entry (a copy across file systems).
    await link(base.qcow2, join(inputs, 'base.qcow2')).catch(() => copyFile(base.qcow2, join(inputs, 'base.qcow2')));
    for (const a of opts.apps) {
      const app = a.planned.plan;
      const name = app.spec.name;
      const staging = `/var/tmp/bulwark/${name}`;
      const stagingHost = join(root, staging.slice(1));
      await mkdir(stagingHost, { recursive: true, mode: 0o700 });
      await makeBundle(a, work, join(stagingHost, stagedBundleName), plan.sourceDateEpoch, opts.logFile);
      await copyFile(siteBundle, join(stagingHost, stagedSiteBundleName));
      // Kept next to the disk: the inputs of the Packer template (packer build without Bulwark).
      await copyFile(join(stagingHost, stagedBundleName), join(inputs, `${name}-bundle.tar`));
      await writeFile(join(stagingHost, appPaths(name).unit), units[name]!);
      for (const [rel, content] of Object.entries(scripts[name]!) as Array<[string, string]>) {
        await mkdir(dirname(join(stagingHost, rel)), { recursive: true });
        await writeFile(join(stagingHost, rel), content, { mode: 0o755 });
      }
      for (const rel of provisionScriptPaths(name)) {
        opts.log(`${name}: ${rel} (in a chroot of the disk's tree)`);
        const r = await run('chroot', [root, '/usr/bin/env', `BULWARK_STAGING=${staging}`, 'BUILD_SSH_USER=root', '/bin/sh', '-eu', `${staging}/${rel}`], { logFile: opts.logFile, timeoutMs: 300_000, allowFail: true });
        if (r.code !== 0) throw workError(`${name}: ${rel} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ')} (log: ${opts.logFile})`);
      }
    }
    await rm(join(root, 'var/tmp/bulwark'), { recursive: true, force: true });


    // The disk, with the base disk's layout and root UUID (GRUB's core image holds that UUID).
    const diskId = createHash('sha256').update(`disk-id:${key}`).digest('hex').slice(0, 8);
    const out = join(work, 'out');
    const images = await writeDiskImages({ root, outDir: out, layout: base.layout, rootUuid: base.rootUuid, sfdiskScript: renderSfdiskScript(base.layout, diskId), logFile: opts.logFile, log: (l) => opts.log(`${opts.name}: ${l}`) });
    await rename(images.raw, join(out, `${opts.name}.raw`));
    await rename(images.qcow2, join(out, `${opts.name}.qcow2`));
    let caCert: string | null = null;
    if (ca) {
      caCert = 'bulwark-root-ca.crt';
      await copyFile(ca.rootCert, join(out, caCert));
    }
    await writeFile(join(out, 'SHA256SUMS'), `${images.sha256}  ${opts.name}.raw\n${images.qcow2Sha256}  ${opts.name}.qcow2\n${caCert ? `${await sha256File(join(out, caCert))}  ${caCert}\n` : ''}`);
    const manifest: Manifest = {
      key,
      name: opts.name,
      files: { raw: `${opts.name}.raw`, qcow2: `${opts.name}.qcow2`, caCert },
      sha256: images.sha256,
      qcow2Sha256: images.qcow2Sha256,
      baseKey: base.dir,
      packages: base.packages.length,
      rootUuid: base.rootUuid,
      kernel: base.kernel.version,
      builtAt: new Date().toISOString(),
    };
    await writeFile(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

    // Swap the folder whole: the old disk stays until the new one is complete.
    await mkdir(dirname(opts.outDir), { recursive: true });
    const old = `${opts.outDir}.old.${process.pid}`;
    if (existsSync(opts.outDir)) await rename(opts.outDir, old);
    await rename(out, opts.outDir);
    await rm(old, { recursive: true, force: true });
    const secs = (Date.now() - t0) / 1000;
    opts.log(`${opts.name}: system disk ${join(opts.outDir, `${opts.name}.qcow2`)} (${secs.toFixed(1)} s)`);
    return {
      name: opts.name,
      raw: join(opts.outDir, manifest.files.raw),
      qcow2: join(opts.outDir, manifest.files.qcow2),
      sha256: images.sha256,
      qcow2Sha256: images.qcow2Sha256,
      caCert: caCert ? join(opts.outDir, caCert) : null,
      base,
      cached: false,
      seconds: secs,
      packages: base.packages.length,
      rootUuid: base.rootUuid,
      kernel: base.kernel.version,
    };
  } finally {
    await removeWork();
    undo();
  }
}
