// Shared by plan, generate and build: find the app(s), read the archive, make the Plan.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { detectApp } from '../detect/index.js';
import { loadSite } from '../site/load.js';
import { applySiteOverrides } from '../site/apply.js';
import { createPlan, DEFAULT_MIRROR, DEFAULT_SECURITY_MIRROR, type PlannedApp } from '../plan/index.js';
import type { Plan, Suite } from '../plan/types.js';
import { resolveProjectLock, type ProjectLock, type UpdatePolicy } from '../lock/project-lock.js';
import { usageError } from '../types.js';
import { capture } from '../build/proc.js';
import type { PackerDialect } from '../render/packer-dialect.js';

export const commonOptions = {
  json: { type: 'boolean' },
  suite: { type: 'string' },
  mirror: { type: 'string' },
  'security-mirror': { type: 'string' },
  target: { type: 'string', multiple: true },
} as const;

export const commonHelp = `  --suite trixie|bookworm   Debian suite for every layer (default trixie)
  --mirror URL              Debian mirror (default ${DEFAULT_MIRROR})
  --security-mirror URL     Debian security mirror (default ${DEFAULT_SECURITY_MIRROR})
  --target NAME             docker (default); qemu, aws, gcp, digitalocean are rendered as Packer HCL
  --json                    one JSON object on stdout; progress on stderr`;

export interface ProjectContext {
  plan: Plan;
  apps: PlannedApp[];
  lock: ProjectLock;
  /** Host names per app (bulwark.hcl `domains`), by app name. */
  domains: Record<string, string[]>;
  /** bulwark.hcl's ACME settings for VM images. */
  acme: { directory?: string; email?: string };
}

export interface ProjectLockOptions {
  frozen?: boolean;
  update?: UpdatePolicy;
  /** Write bulwark.lock when it was created or changed (default true). */
  write?: boolean;
  log?: (s: string) => void;
}

export function resolveProjectDir(arg: string | undefined): string {
  const dir = resolve(arg ?? '.');
  if (!existsSync(dir)) throw usageError(`${dir}: no such folder; pass the folder of your app`);
  if (!statSync(dir).isDirectory()) throw usageError(`${dir} is a file; pass the folder of your app`);
  return dir;
}

export async function loadProject(
  dirArg: string | undefined,
  values: { suite?: string; mirror?: string; 'security-mirror'?: string; target?: string[] },
  lockOpts: ProjectLockOptions = {},
): Promise<ProjectContext> {
  const dir = resolveProjectDir(dirArg);
  // bulwark.hcl (optional) first; command-line flags win over it.
  const site = await loadSite(dir);
  const suite = (values.suite ?? site.suite ?? 'trixie') as Suite;
  if (suite !== 'trixie' && suite !== 'bookworm') throw usageError(`--suite ${suite}: choose trixie or bookworm`);
  const targets = values.target?.length ? values.target : (site.targets ?? ['docker']);
  for (const t of targets)
    if (!['docker', 'qemu', 'aws', 'gcp', 'digitalocean'].includes(t)) throw usageError(`--target ${t}: choose docker, qemu, aws, gcp or digitalocean`);
  const specs = [];
  const extraEnv: Record<string, Record<string, string>> = {};
  const domains: Record<string, string[]> = {};
  for (const app of site.apps) {
    const spec = applySiteOverrides(await detectApp(app.path, { suite, framework: app.framework }), app, site.file);
    extraEnv[spec.name] = app.env;
    domains[spec.name] = app.domains;
    specs.push(spec);
  }
  const mirror = (values.mirror ?? site.mirror ?? DEFAULT_MIRROR).replace(/\/$/, '');
  const securityMirror = (values['security-mirror'] ?? site.securityMirror ?? DEFAULT_SECURITY_MIRROR).replace(/\/$/, '');
  const locked = await resolveProjectLock(dir, specs, { suite, mirror, securityMirror, frozen: lockOpts.frozen ?? false, update: lockOpts.update ?? 'none', write: lockOpts.write ?? true, log: lockOpts.log });
  const { plan, apps } = createPlan(dir, specs, locked.layers, { suite, mirror, securityMirror, targets, extraEnv, epoch: locked.lock.sourceDateEpoch });
  return { plan, apps, lock: locked, domains, acme: { directory: site.acmeDirectory, email: site.acmeEmail } };
}

/** Which Packer syntax to write: Debian's 1.6 when that is what is installed, else current. */
export async function packerDialect(): Promise<PackerDialect> {
  const v = await capture('packer', ['version'], { allowFail: true, timeoutMs: 10_000 }).catch(() => '');
  const m = v.match(/Packer v(\d+)\.(\d+)/);
  return m && Number(m[1]) === 1 && Number(m[2]) < 7 ? 'packer-1.6' : 'current';
}

/** One line on stderr saying what happened to bulwark.lock. */
export function reportLock(ctx: ProjectContext, log: (s: string) => void): void {
  const l = ctx.lock;
  if (!l.resolved) log(`lock: using bulwark.lock as it is (${Object.keys(l.lock.packages).length} pinned packages)`);
  else if (!l.previous) log(`lock: wrote bulwark.lock (${Object.keys(l.lock.packages).length} pinned packages); commit it`);
  else if (l.written) log(`lock: updated bulwark.lock (${l.changes.length} package changes)`);
}
