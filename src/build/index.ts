// Build: render the build dir, then run the jobs (a base layer before what stands on it,
// apps in parallel through p-queue), and record the artifacts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { envError, type Artifact } from '../types.js';
import type { ProjectContext } from '../cli/project.js';
import { renderBuildDir, composePath, type RenderOptions } from '../render/index.js';
import { writeTreeAtomic } from './atomic.js';
import { docker, requireDocker } from './docker.js';
import { buildDockerImage, type DockerBuildResult } from './docker-target.js';
import { prepareBuildEnv } from './build-env.js';
import { recordArtifacts } from './manifest.js';
import { cacheDir, useFreshBuildCache } from './cache.js';
import { buildVmTarget, type VmBuildOptions, type VmBuildResult } from './vm-target.js';

export async function generate(ctx: ProjectContext, opts: RenderOptions): Promise<string> {
  await writeTreeAtomic(ctx.plan.buildDir, renderBuildDir(ctx.plan, opts));
  return ctx.plan.buildDir;
}

export interface BuildOptions extends RenderOptions {
  buildCa?: string;
  /** The qemu target's options (admin key, ACME, disk size). */
  vm?: Omit<VmBuildOptions, 'log' | 'logFile'>;
  /** Ignore every cache except the sha256-addressed .deb store and the signed indexes. */
  noCache?: boolean;
  log: (s: string) => void;
}

export interface BuildResult {
  artifacts: Artifact[];
  docker: Array<DockerBuildResult & { seconds: number }>;
  vm: VmBuildResult | null;
}

export async function build(ctx: ProjectContext, opts: BuildOptions): Promise<BuildResult> {
  const { plan } = ctx;
  // The VM disk carries the same app layers as the Docker image, so a qemu build makes both.
  const wantVm = plan.targets.includes('qemu');
  const wantDocker = plan.targets.includes('docker') || wantVm;
  if (wantVm && process.getuid?.() !== 0) throw envError('--target qemu needs root: the VM disk is installed by mmdebstrap --mode=root and provisioned in a chroot (run bulwark as root, e.g. with sudo)');
  if (wantDocker) await requireDocker();
  await generate(ctx, opts);
  const logDir = join(plan.projectDir, '.bulwark', 'logs');
  await mkdir(logDir, { recursive: true });
  await mkdir(join(cacheDir(), 'tmp'), { recursive: true });
  const tmp = await mkdtemp(join(cacheDir(), 'tmp', 'env-'));
  const results: BuildResult['docker'] = [];
  let vm: VmBuildResult | null = null;
  if (opts.noCache) useFreshBuildCache(join(tmp, 'fresh-cache'));
  try {
    const env = await prepareBuildEnv(tmp, opts.buildCa);
    // Local builds are CPU- and disk-bound on one machine: two at a time at most.
    const queue = new PQueue({ concurrency: 2 });
    const jobs = (wantDocker ? ctx.apps : []).map((planned) =>
      queue.add(async () => {
        const logFile = join(logDir, `${planned.plan.spec.name}-docker.log`);
        await writeFile(logFile, '');
        const t0 = Date.now();
        const r = await buildDockerImage(plan, planned, env, join(plan.buildDir, composePath(planned.plan.spec.name)), opts.log, logFile);
        results.push({ ...r, seconds: (Date.now() - t0) / 1000 });
      }),
    );
    const settled = await Promise.allSettled(jobs);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    if (wantVm) {
      const logFile = join(logDir, 'vm.log');
      await writeFile(logFile, '');
      vm = await buildVmTarget(ctx, results, { ...opts.vm, log: opts.log, logFile });
    }
  } finally {
    if (opts.noCache) {
      useFreshBuildCache(null);
      const builders = (await docker(['images', '-q', '--filter', `reference=bulwark/builder-*:*-nocache-${process.pid}`], { allowFail: true })).stdout.split('\n').filter(Boolean);
      if (builders.length) await docker(['rmi', '-f', ...builders], { allowFail: true });
    }
    await rm(tmp, { recursive: true, force: true });
  }
  const artifacts = [...results.map((r) => r.artifact), ...(vm?.artifacts ?? [])];
  if (artifacts.length) await recordArtifacts(plan.projectDir, artifacts);
  return { artifacts, docker: results, vm };
}
