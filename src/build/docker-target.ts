// The local Docker target: base layers + the app's layers → an image Bulwark writes itself
// and loads into dockerd, tagged bulwark/<app>:<content-hash> and :latest.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppPlan, Plan } from '../plan/types.js';
import type { PlannedApp } from '../plan/index.js';
import type { Artifact } from '../types.js';
import { appPaths } from '../names.js';
import { bulwarkVersion } from '../version.js';
import { cacheDir } from './cache.js';
import { buildBaseLayer } from './layers.js';
import { writeLayerTar } from './layer-tar.js';
import { loadImage, renderImageConfig, type ImageConfig, type ImageLayer } from './image-archive.js';
import { stageNodeApp, stagePythonApp } from './app-build.js';
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
}

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
  for (const r of planned.resolved) {
    const lf = await buildBaseLayer(r, epoch, log);
    layers.push({ name: r.def.name, path: lf.path, diffId: lf.diffId, createdBy: `bulwark: ${r.def.name} (${r.packages.length} Debian packages)` });
    report.push({ name: r.def.name, diffId: lf.diffId, cached: lf.cached });
    labels[`dev.bulwark.base.${r.def.name}`] = lf.diffId;
  }
  const tmpBase = join(cacheDir(), 'tmp');
  await (await import('node:fs/promises')).mkdir(tmpBase, { recursive: true });
  const work = await mkdtemp(join(tmpBase, `${app.spec.name}-`));
  const undo = onCancel(() => rm(work, { recursive: true, force: true }));
  let stageTag: string | null = null;
  try {
    let staged;
    if (app.spec.runtime.value === 'python') {
      if (app.spec.django) {
        // A throwaway image of the runtime layers, so collectstatic runs with the image's own Python.
        stageTag = `bulwark-stage/${app.spec.name}:${app.contentHash.slice(0, 16)}`;
        const cfg = renderImageConfig({ ...imageConfigFor(app, {}), User: '0:0' }, layers, epoch);
        await loadImage(cfg, layers, [stageTag]);
      }
      staged = await stagePythonApp(app, work, stageTag, log, logFile);
    } else {
      staged = await stageNodeApp(plan, app, work, env, log, logFile);
    }
    if (staged.depsLayer) {
      const lf = staged.depsLayer;
      layers.push({ name: 'app-deps', path: lf.path, diffId: lf.diffId, createdBy: `bulwark: ${app.spec.name} dependencies (${app.spec.packageManager.value})` });
      report.push({ name: 'app-deps', diffId: lf.diffId, cached: staged.depsCached === true });
    }
    const lf = await writeLayerTar(staged.appRoot, join(work, 'app.tar'), epoch);
    layers.push({ name: 'app', path: lf.path, diffId: lf.diffId, createdBy: `bulwark: ${app.spec.name} code and entrypoint` });
    report.push({ name: 'app', diffId: lf.diffId, cached: false });

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
      artifact: {
        app: app.spec.name,
        target: 'docker',
        kind: 'docker-image',
        id: imageId,
        tags: [tag, `${app.image}:latest`],
        runConfig,
        port: app.spec.port.value,
        stateVolume: paths.volume,
        healthPath: app.spec.healthPath.value,
        baseLayers: Object.fromEntries(report.filter((l) => !l.name.startsWith('app')).map((l) => [l.name, l.diffId])),
      },
    };
  } finally {
    if (stageTag) await docker(['rmi', stageTag], { allowFail: true });
    await rm(work, { recursive: true, force: true });
    undo();
  }
}
