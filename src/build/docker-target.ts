// The local Docker target: base layers + the app's layers → an image Bulwark writes itself
// and loads into dockerd, tagged bulwark/<app>:<content-hash> and :latest.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AppPlan, Plan } from '../plan/types.js';
import type { PlannedApp } from '../plan/index.js';
import type { Artifact } from '../types.js';
import { appPaths } from '../names.js';
import { bulwarkVersion } from '../version.js';
import { cacheDir } from './cache.js';
import { baseLayerDigest, buildLayerParts } from './layers.js';
import { loadImage, renderImageConfig, type ImageConfig, type ImageLayer } from './image-archive.js';
import { depsCacheKey, needsNativeToolchain, stageNodeApp, stagePythonApp } from './app-build.js';
import { builderSources, builderTag, nodeBuilderSpec } from './builder-image.js';
import { renderImageSbom } from './sbom.js';
import { readCachedLayer, writeCachedLayer } from './layer-cache.js';
import { writeFileAtomic } from './atomic.js';
import { docker } from './docker.js';
import { capture, onCancel } from './proc.js';
import type { BuildEnv } from './build-env.js';

export const imageTag = (app: AppPlan) => `${app.image}:${app.contentHash.slice(0, 16)}`;

const SECOND = 1_000_000_000;

export function imageConfigFor(app: AppPlan, labels: Record<string, string>): ImageConfig {
  const s = app.spec;
  const paths = appPaths(s.name);
  const python = s.runtime.value === 'python';
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin', ...app.env };
  return {
    User: `${app.uid}:${app.uid}`,
    Env: Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`),
    // tini forwards SIGTERM to the app's process group and reaps zombies; -s keeps it quiet
    // when Compose's own init (init: true) is PID 1.
    Entrypoint: ['/usr/bin/tini', '-s', '-g', '--'],
    Cmd: python ? ['/usr/bin/python3', '/opt/bulwark/launch.py'] : ['/usr/bin/node', '/opt/bulwark/launch.mjs'],
    WorkingDir: paths.code,
    ExposedPorts: { [`${s.port.value}/tcp`]: {} },
    Volumes: { [paths.state]: {} },
    Labels: labels,
    Healthcheck: {
      Test: ['CMD', ...(python ? ['/usr/bin/python3', '/opt/bulwark/health.py'] : ['/usr/bin/node', '/opt/bulwark/health.mjs'])],
      Interval: 10 * SECOND,
      Timeout: 5 * SECOND,
      StartPeriod: 30 * SECOND,
      Retries: 3,
    },
    StopSignal: 'SIGTERM',
  };
}

/** Source and revision from git when the app is in a repository (never the build host's paths). */
async function provenance(dir: string): Promise<{ source: string; revision: string }> {
  const git = (args: string[]) => capture('git', ['-C', dir, ...args], { allowFail: true, timeoutMs: 10_000 }).catch(() => '');
  const source = (await git(['config', '--get', 'remote.origin.url'])) || 'local';
  const revision = (await git(['log', '-1', '--format=%H', '--', '.'])) || 'unknown';
  return { source, revision };
}

export interface DockerBuildResult {
  artifact: Artifact;
  imageId: string;
  tag: string;
  layers: Array<{ name: string; diffId: string; cached: boolean }>;
  /** The app's own layer tars (dependencies, then code and launcher): a VM's app bundle is made from them. */
  appLayerTars: string[];
}

const APP_LAYER_FORMAT = 2;

export async function buildDockerImage(
  plan: Plan,
  planned: PlannedApp,
  env: BuildEnv,
  runConfig: string,
  log: (s: string) => void,
  logFile?: string,
): Promise<DockerBuildResult> {
  const app = planned.plan;
  const epoch = plan.sourceDateEpoch;
  const layers: ImageLayer[] = [];
  const report: DockerBuildResult['layers'] = [];
  const labels: Record<string, string> = {};
  const parts = await buildLayerParts(planned.resolved, epoch, log);
  for (const p of parts) {
    layers.push({ name: p.name, path: p.path, diffId: p.diffId, createdBy: `bulwark: ${p.name}${p.packages.length ? ` (${p.packages.join(' ')})` : ''}` });
    report.push({ name: p.name, diffId: p.diffId, cached: p.cached });
  }
  for (const r of planned.resolved) labels[`dev.bulwark.base.${r.def.name}`] = baseLayerDigest(parts.filter((p) => p.layer === r.def.name));

  // The app's own layers are cached by the app's inputs alone, so a base bump puts the same
  // app layers onto the new base (a rebase) and a fresh build gives the same bytes.
  const appPackagesHash = planned.resolved.find((r) => r.def.name === 'app-packages')?.hash ?? null;
  const appKey = createHash('sha256').update(JSON.stringify({ f: APP_LAYER_FORMAT, epoch, app: app.appHash, deps: app.spec.django ? appPackagesHash : null })).digest('hex');
  const needsBuilder = app.spec.runtime.value !== 'python' && app.spec.install.value.length > 0;
  const builder = nodeBuilderSpec({ yarn: app.spec.packageManager.value === 'yarn', native: needsNativeToolchain(app.spec.dir) });
  const depsKey = needsBuilder ? depsCacheKey(app, builderTag(builder, builderSources(plan.suite, plan.mirror, plan.securityMirror)), epoch) : null;
  let appLayer = await readCachedLayer('app-layers', appKey);
  let depsLayer = depsKey ? await readCachedLayer('app-deps', depsKey) : null;
  let appCached = appLayer !== null;
  let depsCached = depsLayer !== null;
  if (appLayer && (!needsBuilder || depsLayer)) {
    log(`${app.spec.name}: app unchanged, reusing its layers`);
  } else {
    appCached = depsCached = false;
    const tmpBase = join(cacheDir(), 'tmp');
    await mkdir(tmpBase, { recursive: true });
    const work = await mkdtemp(join(tmpBase, `${app.spec.name}-`));
    const undo = onCancel(() => rm(work, { recursive: true, force: true }));
    let stageTag: string | null = null;
    try {
      let staged;
      if (app.spec.runtime.value === 'python') {
        // A throwaway image of the runtime layers, so collectstatic runs with the image's own Python.
        const stage = {
          packagesHash: appPackagesHash ?? '',
          epoch,
          image: async () => {
            stageTag = `bulwark-stage/${app.spec.name}:${app.contentHash.slice(0, 16)}`;
            await loadImage(renderImageConfig({ ...imageConfigFor(app, {}), User: '0:0' }, layers, epoch), layers, [stageTag]);
            return stageTag;
          },
        };
        staged = await stagePythonApp(app, work, app.spec.django ? stage : null, log, logFile);
      } else {
        staged = await stageNodeApp(plan, app, work, env, depsKey ? { builder, key: depsKey, cached: depsLayer } : null, log, logFile);
      }
      depsLayer = staged.depsLayer;
      depsCached = staged.depsCached === true;
      appLayer = await writeCachedLayer('app-layers', appKey, staged.appRoot, epoch);
    } finally {
      if (stageTag) await docker(['rmi', stageTag], { allowFail: true });
      await rm(work, { recursive: true, force: true });
      undo();
    }
  }
  if (depsLayer) {
    layers.push({ name: 'app-deps', path: depsLayer.path, diffId: depsLayer.diffId, createdBy: `bulwark: ${app.spec.name} dependencies (${app.spec.packageManager.value})` });
    report.push({ name: 'app-deps', diffId: depsLayer.diffId, cached: depsCached });
  }
  layers.push({ name: 'app', path: appLayer!.path, diffId: appLayer!.diffId, createdBy: `bulwark: ${app.spec.name} code and entrypoint` });
  report.push({ name: 'app', diffId: appLayer!.diffId, cached: appCached });

  // The SBOM goes next to the artifact entry; the image names it by digest.
  const sbom = renderImageSbom(planned, epoch);
  const sbomPath = join(plan.projectDir, '.bulwark', 'sbom', `${app.spec.name}.cdx.json`);
  await writeFileAtomic(sbomPath, sbom);
  labels['dev.bulwark.sbom'] = `sha256:${createHash('sha256').update(sbom).digest('hex')}`;
  const prov = await provenance(app.spec.dir);
  Object.assign(labels, {
    'org.opencontainers.image.title': app.spec.name,
    'org.opencontainers.image.source': prov.source,
    'org.opencontainers.image.revision': prov.revision,
    'org.opencontainers.image.version': app.contentHash.slice(0, 16),
    'org.opencontainers.image.created': new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z'),
    'org.opencontainers.image.base.name': `debian:${plan.suite} (bulwark layers)`,
    'dev.bulwark.version': bulwarkVersion,
    'dev.bulwark.app': app.spec.name,
    'dev.bulwark.uid': String(app.uid),
    'dev.bulwark.suite': plan.suite,
    'dev.bulwark.lock': appLockDigest(planned),
  });
  const tag = imageTag(app);
  const config = renderImageConfig(imageConfigFor(app, labels), layers, epoch);
  log(`${app.spec.name}: loading image ${tag}`);
  const imageId = await loadImage(config, layers, [tag, `${app.image}:latest`]);
  const paths = appPaths(app.spec.name);
  return {
    imageId,
    tag,
    layers: report,
    appLayerTars: [...(depsLayer ? [depsLayer.path] : []), appLayer!.path],
    artifact: {
      app: app.spec.name,
      target: 'docker',
      kind: 'docker-image',
      id: imageId,
      tags: [tag, `${app.image}:latest`],
      runConfig,
      sbom: sbomPath,
      port: app.spec.port.value,
      stateVolume: paths.volume,
      healthPath: app.spec.healthPath.value,
      baseLayers: Object.fromEntries(planned.resolved.map((r) => [r.def.name, labels[`dev.bulwark.base.${r.def.name}`]!])),
    },
  };
}

/** The pins this image was built from (its layers' packages), as one digest for labels. */
export function appLockDigest(planned: PlannedApp): string {
  const pins = planned.resolved.map((r) => [r.def.name, r.packages.map((p) => [p.name, p.version, p.sha256])]);
  return `sha256:${createHash('sha256').update(JSON.stringify(pins)).digest('hex')}`;
}
