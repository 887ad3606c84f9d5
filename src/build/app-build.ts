// Runs the app's install and build steps: Node apps in a Debian build container with the
// image's own Node and npm (so native modules match), Django's collectstatic in a container
// of the runtime layers themselves. Output: staged directories for the app's layers.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AppPlan, Plan } from '../plan/types.js';
import { appPaths } from '../names.js';
import { workError } from '../types.js';
import { docker, removeContainer } from './docker.js';
import { onCancel, run } from './proc.js';
import { ensureBuilderImage, type BuilderSpec } from './builder-image.js';
import { copySource, finishAppRoot, writableSkip } from './app-stage.js';
import { listSourceFiles } from '../plan/source-hash.js';
import type { BuildEnv } from './build-env.js';
import type { LayerFile } from './layer-tar.js';
import { readCachedLayer, writeCachedLayer } from './layer-cache.js';
import { noCache } from './cache.js';
import { createHash } from 'node:crypto';

export interface StagedApp {
  /** The dependencies layer (node_modules), already tarred and cached; or null. */
  depsLayer: LayerFile | null;
  depsCached?: boolean;
  /** Root of the app layer. */
  appRoot: string;
}

/** Does the npm lockfile contain packages with install scripts (native modules)? */
export function needsNativeToolchain(appDir: string): boolean {
  const lock = join(appDir, 'package-lock.json');
  if (!existsSync(lock)) return false;
  try {
    const pkgs = JSON.parse(readFileSync(lock, 'utf8')).packages ?? {};
    return Object.values(pkgs).some((p: any) => p && p.hasInstallScript);
  } catch {
    return false;
  }
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function nodeBuildScript(app: AppPlan): string {
  const yarn = app.spec.packageManager.value === 'yarn';
  const build = app.spec.build.value;
  const lines = ['set -eu'];
  const install = app.spec.install.value.map((argv) => argv.map(shq).join(' '));
  if (yarn && app.spec.install.value.some((argv) => argv.includes('--immutable'))) {
    // Yarn 4: install everything, build, then keep production dependencies only; its state
    // file and cache stay out of the app.
    lines.push(...install, ...build.map((argv) => argv.map(shq).join(' ')), 'yarnpkg workspaces focus --all --production', 'rm -f .yarn/install-state.gz', 'rmdir .yarn 2>/dev/null || true');
    return lines.join('\n');
  }
  if (!build.length) {
    // No build step: install production dependencies only.
    lines.push(...install.map((c) => (yarn ? `${c} --production --non-interactive` : `${c} --omit=dev --no-audit --no-fund`)));
  } else {
    lines.push(...install.map((c) => (yarn ? `${c} --non-interactive` : `${c} --no-audit --no-fund`)));
    lines.push(...build.map((argv) => argv.map(shq).join(' ')));
    lines.push(yarn ? 'yarnpkg install --frozen-lockfile --production --non-interactive --prefer-offline' : 'npm prune --omit=dev --no-audit --no-fund');
  }
  return lines.join('\n');
}

/** Run a build container, removing it if the run is cancelled or fails. */
async function runBuildContainer(args: string[], log: (s: string) => void, logFile?: string): Promise<void> {
  const name = `bulwark-build-${randomBytes(5).toString('hex')}`;
  const undo = onCancel(() => removeContainer(name));
  try {
    const r = await docker(['run', '--rm', '--name', name, ...args], { allowFail: true, timeoutMs: 1_800_000, logFile, onLine: (l) => log(`  | ${l}`) });
    if (r.code !== 0) {
      const last = (r.stderr || r.stdout).trim().split('\n').filter((l) => l.trim()).slice(-1)[0] ?? '';
      throw workError(`the app's install/build step failed inside the build container (exit ${r.code}): ${last.trim()}${logFile ? `; full log: ${logFile}` : ''}`);
    }
  } finally {
    await removeContainer(name);
    undo();
  }
}

/** The app's dependency install: which build image, its cache key, and the layer already cached under it. */
export interface NodeDeps {
  builder: BuilderSpec;
  key: string;
  cached: LayerFile | null;
}

export async function stageNodeApp(plan: Plan, app: AppPlan, work: string, env: BuildEnv, deps: NodeDeps | null, log: (s: string) => void, logFile?: string): Promise<StagedApp> {
  const paths = appPaths(app.spec.name);
  const appRoot = join(work, 'app');
  const code = join(appRoot, paths.code.slice(1));
  await copySource(app, code);
  let depsLayer: LayerFile | null = null;
  if (deps) {
    // node_modules depends only on the manifests, the lockfile and the builder. Without a build
    // step, reuse it when none of them changed (a source-only change skips npm ci, and needs no
    // build image); with one, the install must run for the build anyway, and its result is
    // stored for rebases.
    if (deps.cached && !app.spec.build.value.length) {
      log(`${app.spec.name}: dependencies unchanged, reusing their layer`);
      await run('chown', ['-hR', '0:0', appRoot]);
      await finishAppRoot(app, appRoot);
      return { depsLayer: deps.cached, depsCached: true, appRoot };
    }
    const builder = await ensureBuilderImage(deps.builder, plan.suite, plan.mirror, plan.securityMirror, log);
    log(`${app.spec.name}: installing dependencies with ${app.spec.packageManager.value} in ${builder}`);
    await runBuildContainer([
      '-v', `${code}:${paths.code}`, '-w', paths.code,
      // Package managers' download caches (content-addressed by npm and yarn), unless --no-cache.
      ...(noCache() ? [] : ['-v', 'bulwark-npm-cache:/root/.npm', '-v', 'bulwark-yarn-cache:/usr/local/share/.cache/yarn', '-v', 'bulwark-yarn-berry-cache:/root/.yarn/berry']),
      '-e', 'YARN_NODE_LINKER=node-modules', '-e', 'YARN_ENABLE_TELEMETRY=0', '-e', 'YARN_ENABLE_GLOBAL_CACHE=1',
      '-e', 'NODE_ENV=production', '-e', 'npm_config_update_notifier=false',
      ...env.dockerArgs,
      builder, 'sh', '-c', nodeBuildScript(app),
    ], log, logFile);
    const nm = join(code, 'node_modules');
    if (existsSync(nm)) {
      const depsRoot = join(work, 'deps');
      const target = join(depsRoot, paths.code.slice(1), 'node_modules');
      await mkdir(join(depsRoot, paths.code.slice(1)), { recursive: true });
      await rename(nm, target);
      await run('chown', ['-hR', '0:0', depsRoot]);
      depsLayer = await writeCachedLayer('app-deps', deps.key, depsRoot, plan.sourceDateEpoch);
    }
  }
  await run('chown', ['-hR', '0:0', appRoot]);
  await finishAppRoot(app, appRoot);
  return { depsLayer, appRoot };
}

export interface DjangoStage {
  /** Hash of the Debian packages collectstatic runs with (Django, WhiteNoise, the app's). */
  packagesHash: string;
  epoch: number;
  /** Load the throwaway image of the runtime layers; called only when collectstatic must run. */
  image: () => Promise<string>;
}

/**
 * What collectstatic's output depends on: every file that is not Python code, the settings
 * module and Python files that name static files, and the packages. An edit to a view
 * reuses the collected files.
 */
export function staticKey(app: AppPlan, packagesHash: string, epoch: number): string {
  const h = createHash('sha256').update(JSON.stringify({ v: 1, epoch, packagesHash, code: appPaths(app.spec.name).code, settings: app.spec.django?.settingsFile }));
  for (const rel of listSourceFiles(app.spec.dir, writableSkip(app))) {
    const text = readFileSync(join(app.spec.dir, rel));
    if (rel.endsWith('.py') && rel !== app.spec.django?.settingsFile && !/static/i.test(text.toString('utf8'))) continue;
    h.update(`\0${rel}\0`).update(text);
  }
  return h.digest('hex');
}

/** Django's collectstatic, run by the image's own Python in a container with no network. */
export async function stagePythonApp(app: AppPlan, work: string, stage: DjangoStage | null, log: (s: string) => void, logFile?: string): Promise<StagedApp> {
  const paths = appPaths(app.spec.name);
  const appRoot = join(work, 'app');
  const code = join(appRoot, paths.code.slice(1));
  await copySource(app, code);
  await finishAppRoot(app, appRoot);
  const collected = join(code, '.static');
  await rm(collected, { recursive: true, force: true });
  if (app.spec.django && stage) {
    const key = staticKey(app, stage.packagesHash, stage.epoch);
    const cached = await readCachedLayer('static', key);
    if (cached) {
      log(`${app.spec.name}: static files unchanged, reusing them`);
      await mkdir(collected, { recursive: true });
      await run('tar', ['-xf', cached.path, '-C', collected], { timeoutMs: 120_000 });
      return { depsLayer: null, appRoot };
    }
    const stageImage = await stage.image();
    log(`${app.spec.name}: collectstatic`);
    const envArgs = Object.entries(app.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // The state path is replaced by a throwaway dir: collectstatic must not leave state in the image.
    await runBuildContainer([
      '--network', 'none', '--user', '0:0',
      '-v', `${code}:${paths.code}`, '-v', `${join(appRoot, 'opt/bulwark')}:/opt/bulwark:ro`,
      '--tmpfs', paths.state, '-w', paths.code,
      ...envArgs, '-e', 'SECRET_KEY=collectstatic-only-not-a-secret',
      '--entrypoint', '/usr/bin/python3', stageImage, '-m', 'django', 'collectstatic', '--noinput', '-v', '0',
    ], log, logFile);
    await run('chown', ['-hR', '0:0', code]);
    await mkdir(collected, { recursive: true });
    await writeCachedLayer('static', key, collected, stage.epoch);
  }
  return { depsLayer: null, appRoot };
}

const DEPS_INPUTS = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', '.npmrc', '.yarnrc'];

export function depsCacheKey(app: AppPlan, builder: string, epoch: number): string {
  // The code path is part of the layer's bytes (/opt/<app>/node_modules): two apps with the same
  // lockfile share nothing.
  const h = createHash('sha256').update(JSON.stringify({ v: 2, code: appPaths(app.spec.name).code, builder, epoch, script: nodeBuildScript(app) }));
  for (const f of DEPS_INPUTS) {
    const p = join(app.spec.dir, f);
    h.update(`\0${f}\0`);
    if (existsSync(p)) h.update(readFileSync(p));
  }
  return h.digest('hex');
}
