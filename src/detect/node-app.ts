// Node version, port, health path, secrets and writable data.
import { posix } from 'node:path';
import { BulwarkError, type AppSpec, type Evidence, type Fact, type Framework, type StartCommand } from '../types.js';
import type { DetectContext } from './context.js';
import { ev, findAll, sourceFiles } from './evidence.js';
import { readGitignore } from './gitignore.js';
import { appName } from './name.js';
import type { PackageJson } from './package-json.js';
import { pathRefs, sqliteUrlPaths, type PathRef } from './paths.js';
import { runtimeVersionFact, suiteRuntimes, type VersionRequest } from './runtimes.js';
import { findSecrets } from './secrets.js';
import { addWritableFromRefs, WritableSet, writeCalls } from './writable.js';

export const jsExts = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];
const fallbackEntries = ['server.js', 'app.js', 'index.js'];
/** node options that take the next word as their value. */
const nodeValueFlags = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--conditions', '-C', '--env-file']);

/** argv of a start script that is exactly `node [options] FILE [args]`, else undefined. */
export function plainNodeArgv(script: string): string[] | undefined {
  // Anything a shell would interpret means the script needs a shell, which the image does not have.
  if (/[&|;<>$`()\\'"*?!{}~#]/.test(script) || /(^|\s)\w+=/.test(script)) return undefined;
  const tokens = script.trim().split(/\s+/);
  if (tokens[0] !== 'node') return undefined;
  let i = 1;
  const flags: string[] = [];
  while (i < tokens.length && tokens[i].startsWith('-')) {
    const f = tokens[i++];
    if (/^(-e|--eval|-p|--print|-i|--interactive|--watch.*|--test)$/.test(f)) return undefined;
    flags.push(f);
    if (nodeValueFlags.has(f) && i < tokens.length) flags.push(tokens[i++]);
  }
  if (i >= tokens.length) return undefined;
  return ['node', ...flags, ...tokens.slice(i)];
}

/** The entry file node would load for `node X` (X, X.js, X/index.js), or undefined. */
function resolveEntry(ctx: DetectContext, file: string): string | undefined {
  const f = posix.normalize(file.replace(/^\.\//, ''));
  for (const c of [f, `${f}.js`, `${f}/index.js`]) if (ctx.exists(c) && !ctx.isDir(c)) return c;
  return undefined;
}

export interface NodeStart {
  fact: Fact<StartCommand>;
  /** The entry file (relative), when it exists in the folder. */
  entry?: string;
}

/**
 * The start command: scripts.start when it is a plain `node FILE`, else `main`, else
 * server.js/app.js/index.js. undefined when there is none; a start script Bulwark cannot
 * run without a shell is a configuration error.
 */
export function nodeStart(ctx: DetectContext, pkg: PackageJson): NodeStart | undefined {
  const script = pkg.scripts.start;
  if (script !== undefined) {
    const line = pkg.line('scripts', 'start');
    const argv = plainNodeArgv(script);
    if (!argv)
      throw new BulwarkError(
        `${ctx.where('package.json', line)}: scripts.start "${script}" is not a plain \`node FILE [args]\`; the image has no shell or npm at run time, so make scripts.start \`node FILE\` (move build steps to scripts.build)`,
        2,
      );
    const file = argv.find((a, i) => i > 0 && !a.startsWith('-') && !nodeValueFlags.has(argv[i - 1]))!;
    const entry = resolveEntry(ctx, file);
    if (!entry && pkg.scripts.build === undefined)
      throw new BulwarkError(`${ctx.where('package.json', line)}: scripts.start runs ${file}, which is not in ${ctx.shown}; fix the path in scripts.start`, 2);
    const note = entry ? 'scripts.start' : `scripts.start; ${file} is made by scripts.build`;
    return { fact: { value: { argv, portVia: 'env' }, evidence: [ev('package.json', line, note)] }, entry };
  }
  if (pkg.main) {
    const entry = resolveEntry(ctx, pkg.main);
    if (entry) return { fact: { value: { argv: ['node', entry], portVia: 'env' }, evidence: [ev('package.json', pkg.line('main'), 'main (no scripts.start)')] }, entry };
  }
  for (const f of fallbackEntries)
    if (ctx.exists(f)) return { fact: { value: { argv: ['node', f], portVia: 'env' }, evidence: [ev(f, undefined, 'no scripts.start or main; this file exists')] }, entry: f };
  return undefined;
}

/** Does package.json give Bulwark something to start? (Errors are left for detect to report.) */
export function hasNodeStart(ctx: DetectContext, pkg: PackageJson): 'usable' | 'unusable' | 'none' {
  if (pkg.scripts.start !== undefined) return plainNodeArgv(pkg.scripts.start) ? 'usable' : 'unusable';
  if (pkg.main && resolveEntry(ctx, pkg.main)) return 'usable';
  return fallbackEntries.some((f) => ctx.exists(f)) ? 'usable' : 'none';
}

interface Deps {
  packageManager: Fact<'npm' | 'yarn'>;
  install: Fact<string[][]>;
  build: Fact<string[][]>;
}

/** Lockfile → package manager and the install/build commands run in the build container. */
export function nodeDependencies(ctx: DetectContext, pkg: PackageJson): Deps {
  const hasDeps = Object.keys(pkg.dependencies).length + Object.keys(pkg.devDependencies).length > 0;
  const npmLock = ['package-lock.json', 'npm-shrinkwrap.json'].find((f) => ctx.exists(f));
  const yarnLock = ctx.exists('yarn.lock') ? 'yarn.lock' : undefined;
  const wantsYarn = /^yarn@/.test(pkg.packageManager ?? '');
  let pm: 'npm' | 'yarn';
  let yarnInstall: string[] = [];
  let lockEv: Evidence[];
  if (yarnLock && (!npmLock || wantsYarn)) {
    // The lockfile format must match the suite's yarnpkg: Yarn 1 (bookworm) cannot read a
    // Yarn 2+ lockfile (it has a __metadata block), and Yarn 4 (trixie) would rewrite a Yarn 1
    // lockfile, which a frozen install refuses.
    const berry = /^__metadata:/m.test(ctx.read('yarn.lock') ?? '');
    const debianYarn = suiteRuntimes[ctx.suite].yarn;
    if (berry && debianYarn === 1)
      throw new BulwarkError(`${ctx.where('yarn.lock', 1)}: this is a Yarn 2+ lockfile, and Debian ${ctx.suite} ships Yarn 1 (yarnpkg); build with --suite trixie (Yarn 4), or run \`npm install\` and commit package-lock.json`, 2);
    if (!berry && debianYarn === 4)
      throw new BulwarkError(`${ctx.where('yarn.lock', 1)}: this is a Yarn 1 lockfile, and Debian ${ctx.suite} ships Yarn 4 (yarnpkg); run \`yarnpkg install\` with Yarn 4 and commit the migrated yarn.lock, or build with --suite bookworm (Yarn 1)`, 2);
    yarnInstall = berry ? ['yarnpkg', 'install', '--immutable'] : ['yarnpkg', 'install', '--frozen-lockfile'];
    pm = 'yarn';
    lockEv = [ev('yarn.lock', 1, npmLock ? `packageManager "${pkg.packageManager}"` : 'lockfile')];
  } else if (npmLock) {
    pm = 'npm';
    lockEv = [ev(npmLock, 1, yarnLock ? 'lockfile (yarn.lock is also present and ignored)' : 'lockfile')];
  } else if (ctx.exists('pnpm-lock.yaml')) {
    throw new BulwarkError(`${ctx.where('pnpm-lock.yaml', 1)}: pnpm is not available in Debian; run \`npm install\` and commit package-lock.json`, 2);
  } else if (hasDeps) {
    const line = pkg.line(Object.keys(pkg.dependencies).length ? 'dependencies' : 'devDependencies');
    throw new BulwarkError(`${ctx.where('package.json', line)}: no lockfile: run \`npm install\` (or yarnpkg install) and commit package-lock.json`, 2);
  } else {
    const e = [ev('package.json', 1, 'no dependencies: nothing to install')];
    return {
      packageManager: { value: 'npm', evidence: e },
      install: { value: [], evidence: e },
      build: buildFact(pkg, 'npm'),
    };
  }
  const install = pm === 'npm' ? [['npm', 'ci']] : [yarnInstall];
  return { packageManager: { value: pm, evidence: lockEv }, install: { value: install, evidence: lockEv }, build: buildFact(pkg, pm) };
}

function buildFact(pkg: PackageJson, pm: 'npm' | 'yarn'): Fact<string[][]> {
  if (pkg.scripts.build === undefined) return { value: [], evidence: [ev('package.json', 1, 'no scripts.build')] };
  return {
    value: [pm === 'npm' ? ['npm', 'run', 'build'] : ['yarnpkg', 'run', 'build']],
    evidence: [ev('package.json', pkg.line('scripts', 'build'), 'scripts.build')],
  };
}

/** engines.node and .nvmrc / .node-version, each checked against the suite's Node. */
export function nodeVersionRequests(ctx: DetectContext, pkg: PackageJson): VersionRequest[] {
  const reqs: VersionRequest[] = [];
  if (pkg.enginesNode !== undefined)
    reqs.push({ label: 'engines.node', value: pkg.enginesNode, kind: 'semver', evidence: ev('package.json', pkg.line('engines', 'node')) });
  for (const f of ['.nvmrc', '.node-version']) {
    const v = ctx.read(f)?.split('\n').map((l) => l.replace(/#.*/, '').trim()).find(Boolean);
    if (v) reqs.push({ label: f, value: v, kind: 'node-major', evidence: ev(f, 1) });
  }
  return reqs;
}

/** Code first from the entry file, so its evidence wins over helpers and routes. */
export function nodeSources(ctx: DetectContext, entry: string | undefined): string[] {
  const files = sourceFiles(ctx, jsExts);
  return entry ? [entry, ...files.filter((f) => f !== entry)] : files;
}

/**
 * The port: `process.env.PORT || 3000` (the app honours PORT), else `.listen(3000)` (fixed: it
 * ignores PORT), else 3000 by default.
 */
export function nodePort(ctx: DetectContext, files: string[], start: Fact<StartCommand>): { port: Fact<number>; portVia: StartCommand['portVia'] } {
  const envDefault = [
    /process\.env\.PORT\b[^\n;]{0,40}?(?:\|\||\?\?)\s*['"]?(\d{2,5})\b/,
    /\{[^{}]*\bPORT\s*=\s*['"]?(\d{2,5})\b[^{}]*\}\s*=\s*process\.env/,
  ];
  let envRead: Evidence | undefined;
  let literal: { port: number; e: Evidence } | undefined;
  for (const f of files) {
    const text = ctx.read(f) ?? '';
    for (const re of envDefault) {
      const h = findAll(f, text, re)[0];
      if (h) return { port: { value: +h.match[1], evidence: [ev(f, h.line, 'PORT from the environment, with this default')] }, portVia: 'env' };
    }
    const r = findAll(f, text, /process\.env\.PORT\b|process\.env\[\s*['"]PORT['"]\s*\]/)[0];
    if (r && !envRead) envRead = ev(f, r.line, 'reads PORT; no default found, Bulwark sets PORT=3000');
    const l = findAll(f, text, /\.listen\(\s*(\d{2,5})\b/)[0];
    if (l && !literal) literal = { port: +l.match[1], e: ev(f, l.line, 'fixed port: the app does not read PORT') };
  }
  if (envRead) return { port: { value: 3000, evidence: [envRead] }, portVia: 'env' };
  if (literal) return { port: { value: literal.port, evidence: [literal.e] }, portVia: 'none' };
  const where = start.evidence[0]?.file ?? 'package.json';
  return { port: { value: 3000, evidence: [ev(where, undefined, 'default: no PORT read or .listen(PORT) found')] }, portVia: 'env' };
}

const healthNames = ['healthz', 'health', '_health', 'status'];

/** A health route (app.get('/healthz'), req.url === '/health'), else '/'. */
export function nodeHealthPath(ctx: DetectContext, files: string[]): Fact<string> {
  const re = /(?:\.(?:get|all|use|head|route)\(\s*|url\s*===?\s*|pathname\s*===?\s*|case\s+)(['"`])\/(healthz|health|_health|status)\/?\1/;
  const found = new Map<string, Evidence>();
  for (const f of files) for (const h of findAll(f, ctx.read(f) ?? '', re)) if (!found.has(h.match[2])) found.set(h.match[2], ev(f, h.line));
  for (const n of healthNames) {
    const e = found.get(n);
    if (e) return { value: `/${n}`, evidence: [e] };
  }
  return { value: '/', evidence: [ev(files[0] ?? 'package.json', undefined, 'default: no /healthz, /health, /_health or /status route found')] };
}

/** Every path the sources name, plus sqlite:// URLs. */
export function nodePathRefs(ctx: DetectContext, files: string[]): PathRef[] {
  return files.flatMap((f) => {
    const text = ctx.read(f) ?? '';
    return [...pathRefs(f, text, 'js'), ...sqliteUrlPaths(f, text)];
  });
}

/** The AppSpec fields every Node app has; the framework adds static dirs on top. */
export function nodeSpec(ctx: DetectContext, pkg: PackageJson, framework: Framework, start: NodeStart, staticDirs: Fact<string[]>): AppSpec {
  // The runtime is checked before the lockfile: the Node version decides everything else.
  const runtimeVersion = runtimeVersionFact(ctx, 'node', nodeVersionRequests(ctx, pkg), 'package.json');
  const deps = nodeDependencies(ctx, pkg);
  const files = nodeSources(ctx, start.entry);
  const { port, portVia } = nodePort(ctx, files, start.fact);
  const writable = new WritableSet();
  addWritableFromRefs(ctx, writable, nodePathRefs(ctx, files), readGitignore(ctx), writeCalls.js);
  const name = appName(ctx, pkg.name !== undefined ? { value: pkg.name, file: 'package.json', line: pkg.line('name') } : undefined, 'package.json');
  const fwEvidence =
    framework === 'express'
      ? ev('package.json', pkg.line('dependencies', 'express'), `express ${pkg.dependencies.express}`)
      : start.fact.evidence[0];
  return {
    name,
    dir: ctx.abs,
    framework: { value: framework, evidence: [fwEvidence] },
    runtime: { value: 'node', evidence: [ev('package.json', 1)] },
    runtimeVersion,
    packageManager: deps.packageManager,
    install: deps.install,
    build: deps.build,
    start: { value: { ...start.fact.value, portVia }, evidence: start.fact.evidence },
    port,
    healthPath: nodeHealthPath(ctx, files),
    staticDirs,
    writable: writable.list(),
    secrets: findSecrets(ctx, files, 'js'),
  };
}
