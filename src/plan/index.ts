// Plan: AppSpecs + the Debian archive (later: the lock) → layer graph and jobs, as plain data.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AppSpec } from '../types.js';
import { usageError } from '../types.js';
import type { AppPlan, LayerPlan, Plan, Suite } from './types.js';
import type { Universe } from '../lock/resolve.js';
import { loadLayerDefinition, resolveLayers, type ResolvedLayer } from '../build/layers.js';
import { appPaths, appUid } from '../names.js';
import { bulwarkVersion } from '../version.js';
import { hashSource } from './source-hash.js';
import { mapRequirements } from './python-deps.js';

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_SECURITY_MIRROR = 'http://deb.debian.org/debian-security';
/** 2026-01-01T00:00:00Z: every timestamp in images until the lock provides one. */
export const DEFAULT_EPOCH = 1767225600;

export interface PlanOptions {
  suite: Suite;
  mirror: string;
  securityMirror: string;
  targets: string[];
  epoch?: number;
  /** Non-secret environment per app name, from bulwark.hcl. */
  extraEnv?: Record<string, Record<string, string>>;
}

/** Which base layers an app stands on, bottom first. */
export function layersFor(spec: AppSpec): string[] {
  switch (spec.runtime.value) {
    case 'node':
      return ['userland', 'runtime-node'];
    case 'python':
      return ['userland', 'runtime-python'];
    default:
      // Static sites are served by a tiny Node file server until the tls layer serves them.
      return ['userland', 'runtime-node'];
  }
}

export interface PlannedApp {
  plan: AppPlan;
  /** Resolved layers, base layers first then the app's own Debian packages (if any). */
  resolved: ResolvedLayer[];
}

/** Static sites are served by Bulwark's own file server, in the image's Node. */
function withStaticServer(spec: AppSpec): AppSpec {
  if (spec.framework.value !== 'static') return spec;
  const evidence = [{ file: '.', note: 'static site: served by /opt/bulwark/static-server.mjs' }];
  return { ...spec, start: { value: { argv: ['node', '/opt/bulwark/static-server.mjs'], portVia: 'env' }, evidence }, install: { value: [], evidence } };
}

export function planApp(detected: AppSpec, u: Universe, opts: PlanOptions, epoch: number): PlannedApp {
  const spec = withStaticServer(detected);
  const defs = layersFor(spec).map(loadLayerDefinition);
  let appPackages: string[] = [];
  if (spec.python) {
    const r = mapRequirements(spec.python.requirements, u, opts.suite);
    if (r.problems.length) throw usageError(r.problems[0]!);
    // Bulwark serves Python apps with gunicorn, and Django's static files with WhiteNoise.
    appPackages = [...new Set([...r.packages, 'python3-gunicorn', ...(spec.django ? ['python3-whitenoise'] : [])])].sort();
  }
  const extra = appPackages.length ? [{ name: 'app-packages', packages: appPackages }] : [];
  const resolved = resolveLayers(u, defs, extra);
  const layers: LayerPlan[] = resolved.map((r) => ({ name: r.def.name, packages: r.def.packages, hash: r.hash }));
  const skip = new Set(spec.writable.map((w) => w.path.replace(/\/$/, '')));
  const paths = appPaths(spec.name);
  const env: Record<string, string> = { ...(opts.extraEnv?.[spec.name] ?? {}), PORT: String(spec.port.value), BULWARK_APP: spec.name };
  if (spec.runtime.value === 'python') Object.assign(env, { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', PYTHONPATH: `/opt/bulwark:${paths.code}` });
  if (spec.django) env.DJANGO_SETTINGS_MODULE = 'bulwark_settings';
  if (spec.runtime.value !== 'python') env.NODE_ENV = 'production';
  const contentHash = createHash('sha256')
    .update(JSON.stringify({ v: bulwarkVersion, epoch, layers: layers.map((l) => l.hash), env, spec: specFingerprint(spec), src: hashSource(spec.dir, skip) }))
    .digest('hex');
  return {
    plan: { spec, uid: appUid(spec.name), image: paths.image, stateVolume: paths.volume, layers, appPackages, contentHash, env },
    resolved,
  };
}

/** The parts of an AppSpec that change the image (not the evidence, not the absolute dir). */
function specFingerprint(s: AppSpec) {
  return {
    name: s.name,
    framework: s.framework.value,
    install: s.install.value,
    build: s.build.value,
    start: s.start.value,
    port: s.port.value,
    health: s.healthPath.value,
    writable: s.writable.map((w) => [w.path, w.kind]),
    secrets: s.secrets.map((x) => x.env),
    django: s.django ?? null,
    wsgi: s.wsgiEntry?.value ?? null,
  };
}

export function createPlan(projectDir: string, specs: AppSpec[], u: Universe, opts: PlanOptions): { plan: Plan; apps: PlannedApp[] } {
  const epoch = opts.epoch ?? (process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : DEFAULT_EPOCH);
  const apps = specs.map((s) => planApp(s, u, opts, epoch));
  return {
    plan: {
      bulwarkVersion,
      projectDir,
      buildDir: join(projectDir, '.bulwark', 'build'),
      suite: opts.suite,
      mirror: opts.mirror,
      securityMirror: opts.securityMirror,
      sourceDateEpoch: epoch,
      apps: apps.map((a) => a.plan),
      targets: opts.targets,
    },
    apps,
  };
}
