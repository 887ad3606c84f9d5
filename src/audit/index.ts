// `bulwark audit` for Docker images (SECURITY-CHECKS section A): gather the facts (image config,
// file list, compose file, lock, host AppArmor) at this edge, then hand them to the pure checks.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { docker, requireDocker } from '../build/docker.js';
import { onCancel } from '../build/proc.js';
import { envError, usageError, workError, type Artifact, type ArtifactManifest } from '../types.js';
import { connectSsh, isLoopback } from '../vm/ssh.js';
import { checkHost, type HostCheckOptions } from './checks-host.js';
import { appNameOf, checkImage, result } from './checks-image.js';
import { checkTls } from './checks-tls.js';
import { checkUnits, discoverUnits } from './checks-units.js';
import { extractDiskRoot, liveView, offlineView } from './host-view.js';
import { checkRunConfig, skippedRunChecks } from './checks-runconfig.js';
import { readImageFs } from './image-files.js';
import { worse, type AuditReport, type CheckResult, type ImageInspect } from './types.js';

/** One image to audit, as resolved from the command line. */
export interface AuditTarget {
  /** How to name it in output: the argument, plus the app when a folder holds several. */
  target: string;
  /** Image ID or reference for Docker. */
  image: string;
  /** compose.yaml recorded in artifacts.json (may no longer exist). */
  runConfig?: string;
  appDir?: string;
  artifact?: Artifact;
  /** A VM disk image (qcow2 or raw) to audit offline (B, D) instead of a Docker image. */
  disk?: string;
}

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

async function readManifest(dir: string, shown: string): Promise<ArtifactManifest> {
  const file = join(dir, '.bulwark', 'artifacts.json');
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch {
    throw usageError(`no .bulwark/artifacts.json in ${shown}: run \`bulwark build ${shown}\` first`);
  }
  try {
    return JSON.parse(raw) as ArtifactManifest;
  } catch (e) {
    throw usageError(`${file}: not valid JSON (${(e as Error).message}): run \`bulwark build ${shown}\` again`);
  }
}

/**
 * An app folder (its .bulwark/artifacts.json names the images) or an image reference.
 * A folder with several apps gives one target per docker-image artifact, and one per VM disk
 * (qcow2 artifacts with a path; apps sharing a disk share the target).
 */
export async function resolveAuditTarget(arg: string): Promise<AuditTarget[]> {
  const dir = resolve(arg);
  if (isDir(dir)) {
    const manifest = await readManifest(dir, arg);
    const images = (manifest.artifacts ?? []).filter((a) => a.kind === 'docker-image');
    const disks = [...new Map((manifest.artifacts ?? []).filter((a) => a.kind === 'qcow2' && a.path).map((a) => [resolve(dir, a.path!), a])).entries()];
    if (images.length === 0 && disks.length === 0) throw usageError(`${arg}/.bulwark/artifacts.json lists no docker-image: run \`bulwark build ${arg}\` for the docker target`);
    return [
      ...images.map((a) => ({ target: images.length > 1 ? `${arg} [${a.app}]` : arg, image: a.id, runConfig: a.runConfig, appDir: dir, artifact: a })),
      ...disks.map(([path, a]) => ({ target: `${arg} [${a.target || 'vm'} ${a.path}]`, image: a.sha256 ? `sha256:${a.sha256}` : path, appDir: dir, artifact: a, disk: path })),
    ];
  }
  await requireDocker();
  await inspect(arg); // exit 2 now, before any work, when it is neither a folder nor an image
  return [{ target: arg, image: arg }];
}

async function inspect(ref: string, from?: string): Promise<ImageInspect> {
  const r = await docker(['image', 'inspect', ref], { allowFail: true, timeoutMs: 60_000 });
  if (r.code === 0) return (JSON.parse(r.stdout) as ImageInspect[])[0]!;
  if (/no such (image|object)/i.test(r.stderr)) {
    throw usageError(from ? `image ${ref} from ${from} is not in Docker: run \`bulwark build\` again` : `no such image or app folder: ${ref}`);
  }
  throw workError(`docker image inspect ${ref} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
}

/** Parsed bulwark.lock next to the app; null when there is none yet. */
async function readLock(appDir: string): Promise<unknown> {
  const file = join(appDir, 'bulwark.lock');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw usageError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

async function readCompose(file: string): Promise<unknown> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch {
    throw usageError(`run config ${file} not found`);
  }
  try {
    return parseYaml(raw);
  } catch (e) {
    throw usageError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** A15 spans image and run config: one result, the worse of both halves. */
function mergeState(image: CheckResult, run?: CheckResult): CheckResult {
  if (!run) return { ...image, evidence: `${image.evidence}; run config not checked` };
  return result('A15', worse(image.status, run.status), `image: ${image.evidence}; run: ${run.evidence}`);
}

/** Percentage of non-skipped checks that pass, a warning counting half. */
export function scoreOf(results: CheckResult[]): number {
  const counted = results.filter((r) => r.status !== 'skip');
  if (counted.length === 0) return 0;
  const points = counted.reduce((s, r) => s + (r.status === 'pass' ? 1 : r.status === 'warn' ? 0.5 : 0), 0);
  return Math.round((100 * points) / counted.length);
}

export function makeReport(target: string, image: string, results: CheckResult[], runConfig?: string): AuditReport {
  // By group letter, then number: A1…A15, B1…B15, C1…C10, D1…D10.
  const order = (id: string) => id.charCodeAt(0) * 1000 + Number(id.slice(1));
  const sorted = [...results].sort((a, b) => order(a.id) - order(b.id));
  return {
    target,
    image,
    ...(runConfig ? { runConfig } : {}),
    results: sorted,
    score: scoreOf(sorted),
    passed: sorted.filter((r) => r.status === 'pass').length,
    failed: sorted.filter((r) => r.status === 'fail').length,
  };
}

export interface AuditOptions {
  /** Image ID or reference. */
  image: string;
  /** compose.yaml to check; without it A7–A14 are skipped. */
  runConfig?: string;
  /** App folder: its artifacts.json and bulwark.lock feed A6. */
  appDir?: string;
  /** Name for the report (default: image). */
  target?: string;
  artifact?: Artifact;
}

export async function auditImage(opts: AuditOptions): Promise<AuditReport> {
  await requireDocker();
  const info = await inspect(opts.image, opts.appDir ? `${opts.appDir}/.bulwark/artifacts.json` : undefined);
  const artifact = opts.artifact ?? (opts.appDir ? (await readManifest(opts.appDir, opts.appDir)).artifacts?.find((a) => a.kind === 'docker-image' && a.id === info.Id) : undefined);
  const lock = opts.appDir ? await readLock(opts.appDir) : undefined;
  const compose = opts.runConfig ? await readCompose(opts.runConfig) : undefined;
  const fs = await readImageFs(info.Id);
  const app = appNameOf(info, artifact);

  const image = checkImage(info, fs, { app, artifact, lock });
  const stateImage = image.pop()!; // A15's image half, merged with its run half below
  let results: CheckResult[];
  if (compose === undefined) results = [...image, ...skippedRunChecks(), mergeState(stateImage)];
  else {
    const run = checkRunConfig(compose, {
      app,
      imageRefs: [info.Id, ...(info.RepoTags ?? []), ...(artifact?.tags ?? []), opts.image],
      imageHasHealthcheck: (info.Config?.Healthcheck?.Test?.length ?? 0) > 0 && info.Config?.Healthcheck?.Test?.[0] !== 'NONE',
      apparmor: existsSync('/sys/kernel/security/apparmor'),
    });
    const stateRun = run.pop();
    results = [...image, ...run, mergeState(stateImage, stateRun)];
  }
  return makeReport(opts.target ?? opts.image, info.Id, results, opts.runConfig);
}

// ---------------------------------------------------------------------------------------------
// VM images (SECURITY-CHECKS B, C, D)

export interface DiskAuditOptions {
  disk: string;
  /** Units for D1–D10 (default: every app unit with an /etc/bulwark/apps record, plus caddy.service). */
  units?: string[];
  target?: string;
  /** Shown as the report's `image` (default: the disk path). */
  image?: string;
  host?: HostCheckOptions;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

/** Offline B and D on a disk image: its root file system is copied out (no mount) and read. */
export async function auditDisk(opts: DiskAuditOptions): Promise<AuditReport> {
  if (!existsSync(opts.disk)) throw usageError(`no such disk image: ${opts.disk}`);
  if (process.getuid?.() !== 0) throw envError('auditing a disk image needs root: debugfs keeps the owners of the files it copies out only when run as root (B5, B6, D2 read them)');
  const work = await mkdtemp('/var/tmp/bulwark-audit-');
  const unregister = onCancel(() => rm(work, { recursive: true, force: true }));
  try {
    opts.log?.(`extracting the root file system of ${opts.disk} …`);
    const x = await extractDiskRoot(opts.disk, work);
    opts.log?.(`extracted in ${(x.convertSeconds + x.dumpSeconds).toFixed(1)} s`);
    const view = offlineView(x.root, opts.disk);
    const units = opts.units ?? (await discoverUnits(view));
    const results = [...(await checkHost(view, opts.host)), ...(await checkUnits(view, units, { offlineRoot: x.root }))];
    return makeReport(opts.target ?? opts.disk, opts.image ?? opts.disk, results);
  } finally {
    await rm(work, { recursive: true, force: true });
    unregister();
  }
}

export interface VmAuditOptions {
  host: string;
  port: number;
  /** Private key contents. */
  privateKey: Buffer | string;
  username?: string;
  units?: string[];
  /** With httpsPort, C1–C10 probe the proxy through that forwarded port. */
  httpsPort?: number;
  httpPort?: number;
  servername?: string;
  ca?: Buffer | string;
  healthPath?: string;
  hostChecks?: HostCheckOptions;
  target?: string;
}

/** Live B, D (over SSH) and C (HTTPS on forwarded ports) on a VM running on this machine. */
export async function auditVm(opts: VmAuditOptions): Promise<AuditReport> {
  if (!isLoopback(opts.host)) throw usageError(`audit --vm: only a VM on this machine (127.0.0.1, localhost, ::1) can be audited, not ${opts.host}`);
  let session;
  try {
    session = await connectSsh({ host: opts.host, port: opts.port, privateKey: opts.privateKey, username: opts.username, readyTimeoutMs: 30_000 });
  } catch (e) {
    if ((e as { exitCode?: number }).exitCode === 2) throw e;
    throw envError(`audit --vm: ${(e as Error).message}`);
  }
  try {
    const where = `${opts.username ?? 'root'}@${opts.host}:${opts.port}`;
    const view = liveView(session, where);
    const units = opts.units ?? (await discoverUnits(view));
    const results = [...(await checkHost(view, opts.hostChecks)), ...(await checkUnits(view, units))];
    if (opts.httpsPort !== undefined) {
      const host = opts.host === '::1' ? '::1' : '127.0.0.1';
      results.push(...(await checkTls({ host, httpsPort: opts.httpsPort, httpPort: opts.httpPort, servername: opts.servername, ca: opts.ca, healthPath: opts.healthPath })));
    }
    return makeReport(opts.target ?? where, `ssh host key ${session.hostKeySha256}`, results);
  } finally {
    session.close();
  }
}
