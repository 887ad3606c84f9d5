// The qemu target of `bulwark build`: one system disk per site (every app of the site on it, as
// DESIGN "Layers" says), from the same lock and the same app layers as the Docker images.
// Writes <project>/.bulwark/vm/<name>/ and returns its artifacts (qcow2 and raw, with sha256).
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ProjectContext } from '../cli/project.js';
import type { Artifact } from '../types.js';
import { normalizeAppName } from '../names.js';
import { usageError } from '../types.js';
import { run } from './proc.js';
import type { DockerBuildResult } from './docker-target.js';
import { buildSystemDisk, type SystemDisk } from '../vm/system-disk.js';
import { LETS_ENCRYPT_DIRECTORY, type HostSpec, type TlsSpec } from '../vm/host-spec.js';
import { checkAuthorizedKey } from '../vm/base-tree.js';

export interface VmBuildOptions {
  /** The operator's OpenSSH public key file; default: a key Bulwark makes in .bulwark/ssh/. */
  adminKey?: string;
  acmeDirectory?: string;
  acmeEmail?: string;
  /** PEM file: trust this CA for the ACME directory's HTTPS (a test or private ACME server). */
  acmeCaRoot?: string;
  diskMiB?: number;
  log: (s: string) => void;
  logFile: string;
}

export const vmOutDir = (projectDir: string, name: string) => join(projectDir, '.bulwark', 'vm', name);
export const defaultAdminKey = (projectDir: string) => join(projectDir, '.bulwark', 'ssh', 'admin_ed25519');

/** The disk's name: the app's for one app, else the project folder's. */
export function diskName(ctx: ProjectContext): string {
  if (ctx.apps.length === 1) return ctx.apps[0]!.plan.spec.name;
  return normalizeAppName(basename(ctx.plan.projectDir)) || 'site';
}

/** The operator's public key line: the given file, or Bulwark's own key for this project (made once). */
export async function adminPublicKey(projectDir: string, file?: string): Promise<{ line: string; privateKey: string | null }> {
  if (file) {
    if (!existsSync(file)) throw usageError(`--admin-key ${file}: no such file (give an OpenSSH public key, e.g. ~/.ssh/id_ed25519.pub)`);
    try {
      return { line: checkAuthorizedKey(await readFile(file, 'utf8')), privateKey: null };
    } catch (e) {
      throw usageError(`--admin-key ${file}: ${(e as Error).message}`);
    }
  }
  const key = defaultAdminKey(projectDir);
  if (!existsSync(key)) {
    await mkdir(join(projectDir, '.bulwark', 'ssh'), { recursive: true, mode: 0o700 });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `bulwark-admin@${basename(projectDir)}`, '-f', key], { timeoutMs: 30_000, missingHint: 'apt-get install openssh-client' });
    await chmod(key, 0o600);
  }
  return { line: checkAuthorizedKey(await readFile(`${key}.pub`, 'utf8')), privateKey: key };
}

export async function hostSpecFor(ctx: ProjectContext, opts: Pick<VmBuildOptions, 'acmeDirectory' | 'acmeEmail' | 'acmeCaRoot'>, name: string): Promise<HostSpec> {
  const apps = ctx.apps.map(({ plan: a }) => {
    if (a.spec.runtime.value !== 'node' && a.spec.runtime.value !== 'python') throw usageError(`${a.spec.name}: VM images run node or python apps, not ${a.spec.runtime.value}`);
    return {
      name: a.spec.name,
      uid: a.uid,
      port: a.spec.port.value,
      runtime: a.spec.runtime.value,
      framework: a.spec.framework.value,
      domains: ctx.domains[a.spec.name] ?? [],
      secrets: a.spec.secrets.map((s) => s.env).sort(),
      healthPath: a.spec.healthPath.value,
    };
  });
  const withDomains = apps.filter((a) => a.domains.length > 0);
  const without = apps.filter((a) => a.domains.length === 0);
  if (without.length > 1) throw usageError(`${without.map((a) => a.name).join(', ')} have no domains: on one VM at most one app can be served without a domain; set \`domains\` for the others in bulwark.hcl`);
  let tls: TlsSpec = { mode: 'internal' };
  if (withDomains.length) {
    if (without.length) throw usageError(`${without[0]!.name} has no domain while ${withDomains[0]!.name} has: set \`domains\` for every app of a site that uses ACME`);
    tls = {
      mode: 'acme',
      directory: opts.acmeDirectory ?? LETS_ENCRYPT_DIRECTORY,
      ...(opts.acmeEmail ? { email: opts.acmeEmail } : {}),
      ...(opts.acmeCaRoot ? { caRootPem: await readFile(opts.acmeCaRoot, 'utf8') } : {}),
    };
  }
  return { hostname: name.slice(0, 63), apps, tls };
}

/**
 * `<app>.pkrvars.hcl` next to the disk: the inputs of the app's Packer template as this build
 * made them, so `packer build -var-file=… -only=qemu.<app> .bulwark/build/packer/<app>.pkr.hcl`
 * redoes the disk through Packer's qemu builder, without Bulwark.
 */
async function writePackerVars(ctx: ProjectContext, disk: SystemDisk, privateKey: string | null, publicKey: string): Promise<void> {
  const dir = vmOutDir(ctx.plan.projectDir, disk.name);
  const q = (v: string) => JSON.stringify(v);
  for (const { plan: app } of ctx.apps) {
    const name = app.spec.name;
    const lines = [
      `# ${name}.pkrvars.hcl: written by \`bulwark build --target qemu\` for packer/${name}.pkr.hcl.`,
      `#   packer build -var-file=${join(dir, `${name}.pkrvars.hcl`)} -only=qemu.${name} ${join(ctx.plan.buildDir, 'packer', `${name}.pkr.hcl`)}`,
      `base_disk            = ${q(join(dir, 'inputs', 'base.qcow2'))}`,
      `base_disk_checksum   = ${q(`sha256:${disk.base.qcow2Sha256}`)}`,
      `app_bundle           = ${q(join(dir, 'inputs', `${name}-bundle.tar`))}`,
      `site_bundle          = ${q(join(dir, 'inputs', 'site-bundle.tar'))}`,
      privateKey ? `ssh_private_key_file = ${q(privateKey)}` : '# ssh_private_key_file = "<the private half of --admin-key>"',
      `ssh_public_key       = ${q(publicKey.split(' ').slice(0, 2).join(' '))}`,
      `output_dir           = ${q(join(dir, 'packer-output'))}`,
      '',
    ];
    await writeFile(join(dir, `${name}.pkrvars.hcl`), lines.join('\n'));
  }
}

export interface VmBuildResult {
  disk: SystemDisk;
  artifacts: Artifact[];
  adminKey: string | null;
}

export async function buildVmTarget(ctx: ProjectContext, docker: DockerBuildResult[], opts: VmBuildOptions): Promise<VmBuildResult> {
  const name = diskName(ctx);
  // The flag, not bulwark.hcl's default for the site, asks for ACME where no app has a domain.
  if (opts.acmeDirectory && ctx.apps.every((a) => !ctx.domains[a.plan.spec.name]?.length))
    throw usageError('--acme-directory needs apps with domains (bulwark.hcl `domains`); without one the VM uses its internal CA');
  const host = await hostSpecFor(ctx, { ...opts, acmeDirectory: opts.acmeDirectory ?? ctx.acme.directory, acmeEmail: opts.acmeEmail ?? ctx.acme.email }, name);
  const admin = await adminPublicKey(ctx.plan.projectDir, opts.adminKey);
  const apps = ctx.apps.map((planned) => {
    const d = docker.find((r) => r.artifact.app === planned.plan.spec.name);
    if (!d) throw new Error(`${planned.plan.spec.name}: no app build to put on the disk`);
    return { planned, layerTars: d.appLayerTars };
  });
  const disk = await buildSystemDisk({ plan: ctx.plan, name, apps, host, authorizedKey: admin.line, sizeMiB: opts.diskMiB, outDir: vmOutDir(ctx.plan.projectDir, name), log: opts.log, logFile: opts.logFile });
  await writePackerVars(ctx, disk, admin.privateKey, admin.line);
  const first = ctx.apps[0]!.plan;
  const common = {
    app: name,
    target: 'qemu',
    tags: [] as string[],
    port: 443,
    stateVolume: `/var/lib/${first.spec.name}`,
    healthPath: first.spec.healthPath.value,
    builtAt: new Date().toISOString(),
  };
  const artifacts: Artifact[] = [
    { ...common, kind: 'qcow2', id: `sha256:${disk.qcow2Sha256}`, path: disk.qcow2, sha256: disk.qcow2Sha256, ...(disk.caCert ? { caCert: disk.caCert } : {}) },
    { ...common, kind: 'raw', id: `sha256:${disk.sha256}`, path: disk.raw, sha256: disk.sha256, ...(disk.caCert ? { caCert: disk.caCert } : {}) },
  ];
  return { disk, artifacts, adminKey: admin.privateKey };
}
