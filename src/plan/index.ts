// Plan: AppSpecs + the Debian archive (later: the lock) → layer graph and jobs, as plain data.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { AppSpec } from '../types.js';
import type { AppPlan, LayerPlan, Plan, Suite } from './types.js';
import type { ResolvedLayer } from '../build/layers.js';
import { appPaths, appUid } from '../names.js';
import { bulwarkVersion } from '../version.js';
import { hashSource } from './source-hash.js';

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_SECURITY_MIRROR = 'http://deb.debian.org/debian-security';
/** 2026-01-01T00:00:00Z: timestamps when a plan is made without a lock (unit tests). */
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

export function planApp(detected: AppSpec, resolved: ResolvedLayer[], opts: PlanOptions, epoch: number): PlannedApp {
  const spec = withStaticServer(detected);
  const appPackages = resolved.find((r) => r.def.name === 'app-packages')?.def.packages ?? [];
  const layers: LayerPlan[] = resolved.map((r) => ({ name: r.def.name, packages: r.def.packages, hash: r.hash }));
  const skip = new Set(spec.writable.map((w) => w.path.replace(/\/$/, '')));
  const paths = appPaths(spec.name);
  const env: Record<string, string> = { ...(opts.extraEnv?.[spec.name] ?? {}), PORT: String(spec.port.value), BULWARK_APP: spec.name };
  if (spec.runtime.value === 'python') Object.assign(env, { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', PYTHONPATH: `/opt/bulwark:${paths.code}` });
  if (spec.django) env.DJANGO_SETTINGS_MODULE = 'bulwark_settings';
  if (spec.runtime.value !== 'python') env.NODE_ENV = 'production';
  const appHash = createHash('sha256')
    .update(JSON.stringify({ v: bulwarkVersion, epoch, env, spec: specFingerprint(spec), src: hashSource(spec.dir, skip) }))
    .digest('hex');
  const contentHash = createHash('sha256').update(JSON.stringify({ appHash, layers: layers.map((l) => l.hash) })).digest('hex');
  return {
    plan: { spec, uid: appUid(spec.name), image: paths.image, stateVolume: paths.volume, layers, appPackages, appHash, contentHash, env },
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

/** Specs and their resolved layers (from the lock) → the Plan. */
export function createPlan(projectDir: string, specs: AppSpec[], layers: Map<string, ResolvedLayer[]>, opts: PlanOptions): { plan: Plan; apps: PlannedApp[] } {
  const epoch = opts.epoch ?? (process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : DEFAULT_EPOCH);
  const apps = specs.map((s) => planApp(s, layers.get(s.name)!, opts, epoch));
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
