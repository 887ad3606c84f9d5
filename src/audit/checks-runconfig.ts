// SECURITY-CHECKS A7–A14 and the run half of A15: pure functions over a parsed compose file.
// Every service is checked (the app and, later, the TLS proxy); a check's status is its worst service's.
import { result } from './checks-image.js';
import { isProxyService, list, mountsOf, pick, portsOf, servicesOf, truthy, type Mount, type Service } from './compose.js';
import { worse, type CheckResult, type CheckStatus } from './types.js';

interface Finding {
  status: CheckStatus;
  evidence: string;
}
const ok = (evidence: string): Finding => ({ status: 'pass', evidence });
const bad = (evidence: string): Finding => ({ status: 'fail', evidence });
const meh = (evidence: string): Finding => ({ status: 'warn', evidence });

/** Run one rule per service; evidence names the services that fall short (or all, when none do). */
function perService(id: string, services: Array<[string, Service]>, rule: (svc: Service, name: string) => Finding): CheckResult {
  if (services.length === 0) return result(id, 'fail', 'the run config has no services');
  const found = services.map(([name, svc]) => ({ name, ...rule(svc, name) }));
  const status = found.reduce<CheckStatus>((s, f) => worse(s, f.status), 'pass');
  const shown = status === 'pass' ? found : found.filter((f) => f.status !== 'pass');
  const label = (f: (typeof found)[number]) => (services.length > 1 ? `${f.name}: ${f.evidence}` : f.evidence);
  return result(id, status, shown.map(label).join('; '));
}

/** "cap_add: [NET_ADMIN]" and "CAP_NET_ADMIN" mean the same capability. */
const capName = (c: string) => c.toUpperCase().replace(/^CAP_/, '');

const TMP_OPTIONS = ['noexec', 'nosuid', 'nodev'];

/** A7: read-only root and a /tmp tmpfs that can hold neither programs nor devices. */
export const checkReadOnly = (svc: Service): Finding => {
  const problems: string[] = [];
  if (!truthy(svc.read_only)) problems.push('read_only is not true');
  const tmp = mountsOf(svc).find((m) => m.type === 'tmpfs' && m.target.replace(/\/+$/, '') === '/tmp');
  if (!tmp) problems.push('no tmpfs at /tmp');
  else {
    const missing = TMP_OPTIONS.filter((o) => !tmp.options.includes(o));
    if (missing.length) problems.push(`/tmp tmpfs lacks ${missing.join(',')}${tmp.raw.startsWith('{') ? ' (use the `tmpfs:` key: the long volume syntax cannot set them)' : ''}`);
  }
  return problems.length ? bad(problems.join(', ')) : ok('read_only; /tmp tmpfs noexec,nosuid,nodev');
};

/** A8: drop ALL, add nothing; only the TLS proxy may bind 80/443 with NET_BIND_SERVICE. */
export const checkCapabilities = (svc: Service): Finding => {
  const drop = list(svc.cap_drop).map(capName);
  const add = list(svc.cap_add).map(capName);
  const allowed = isProxyService(svc) ? ['NET_BIND_SERVICE'] : [];
  const extra = add.filter((c) => !allowed.includes(c));
  const problems: string[] = [];
  if (!drop.includes('ALL')) problems.push(`cap_drop does not include ALL (${drop.length ? drop.join(',') : 'empty'})`);
  if (extra.length) problems.push(`cap_add: ${extra.join(', ')}`);
  return problems.length ? bad(problems.join(', ')) : ok(`cap_drop ALL${add.length ? `, cap_add ${add.join(',')} (proxy)` : ', cap_add none'}`);
};

/** A9: no-new-privileges, which compose spells with ':' or '=' and an optional true. */
export const checkNoNewPrivileges = (svc: Service): Finding => {
  const opts = list(svc.security_opt);
  const set = opts.find((o) => /^no-new-privileges([:=]true)?$/i.test(o));
  return set ? ok(`security_opt ${set}`) : bad(`security_opt lacks no-new-privileges:true${opts.length ? ` (${opts.join(', ')})` : ''}`);
};

/** A positive limit: "512m", 1.5, "256"; 0 and -1 mean unlimited to Docker. */
const limitSet = (v: unknown) => {
  const s = typeof v === 'number' || typeof v === 'string' ? String(v).trim() : '';
  return s !== '' && !/^-|^0+(\.0*)?[a-z]*$/i.test(s);
};

/** A10: pids, memory and CPU limits, in service-level keys or deploy.resources.limits. */
export const checkLimits = (svc: Service): Finding => {
  const memory = svc.mem_limit ?? pick(svc, 'deploy.resources.limits.memory');
  const cpus = svc.cpus ?? pick(svc, 'deploy.resources.limits.cpus');
  const pids = svc.pids_limit ?? pick(svc, 'deploy.resources.limits.pids');
  const missing = [limitSet(pids) ? '' : 'pids_limit', limitSet(memory) ? '' : 'memory (mem_limit)', limitSet(cpus) ? '' : 'cpus'].filter(Boolean);
  return missing.length ? bad(`no ${missing.join(', ')} limit`) : ok(`pids ${pids}, memory ${memory}, cpus ${cpus}`);
};

const SOCKETS = new Set(['/var/run/docker.sock', '/run/docker.sock']);
const SYSTEM_PATHS = ['/etc', '/usr', '/var', '/proc', '/sys', '/boot', '/dev', '/root', '/home'];
/** "/" itself, or anything under the other system paths ("/" as a prefix would match every path). */
const isSystemPath = (p: string) => {
  const n = p.replace(/\/+$/, '') || '/';
  return n === '/' || SYSTEM_PATHS.some((s) => n === s || n.startsWith(s + '/'));
};

/** A11: no privileged mode, no host namespaces, no Docker socket, no writable host system mounts. */
export const checkIsolation = (svc: Service): Finding => {
  const problems: string[] = [];
  if (truthy(svc.privileged)) problems.push('privileged');
  for (const key of ['network_mode', 'pid', 'ipc', 'uts', 'userns_mode']) if (svc[key] === 'host') problems.push(`${key}: host`);
  const user = String(svc.user ?? '').split(':')[0];
  if (user === '0' || user === 'root') problems.push(`user: ${String(svc.user)} (root)`);
  for (const m of mountsOf(svc)) {
    if (SOCKETS.has(m.source) || SOCKETS.has(m.target)) problems.push(`Docker socket mounted (${m.raw})`);
    else if (m.type === 'bind' && isSystemPath(m.source) && !m.readOnly) problems.push(`writable host mount ${m.source}`);
  }
  return problems.length ? bad(problems.join(', ')) : ok('not privileged; no host namespaces, Docker socket or writable system mounts');
};

/** A12: seccomp and AppArmor never unconfined; AppArmor confines only where the host has it. */
export const checkSeccomp = (svc: Service, apparmor: boolean): Finding => {
  const opts = list(svc.security_opt);
  const unconfined = opts.filter((o) => /^(seccomp|apparmor)[:=]unconfined$/i.test(o));
  if (unconfined.length) return bad(`security_opt ${unconfined.join(', ')}`);
  const profile = opts.find((o) => /^apparmor[:=]/i.test(o));
  if (profile) return ok(`default seccomp; ${profile}`);
  if (!apparmor) return meh('default seccomp; this host has no AppArmor (no /sys/kernel/security/apparmor), so no profile confines the container');
  return ok('default seccomp; docker-default AppArmor profile');
};

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/;

/** A13: app ports on loopback only (the proxy publishes); only the proxy on 80/443. */
export const checkPorts = (svc: Service): Finding => {
  const proxy = isProxyService(svc);
  const problems: string[] = [];
  const ports = portsOf(svc);
  for (const p of ports) {
    const web = p.hostPort === '80' || p.hostPort === '443';
    if (proxy && web) continue; // the proxy serves the world on 80/443
    if (web) problems.push(`host port ${p.hostPort} is for the proxy only (${p.raw})`);
    else if (!LOOPBACK.test(p.hostIp)) problems.push(`${p.raw} is published on ${p.hostIp || 'every interface'}, not 127.0.0.1`);
  }
  if (problems.length) return bad(problems.join(', '));
  return ok(ports.length ? `published: ${ports.map((p) => p.raw).join(', ')}` : 'no published ports');
};

/** A14 restart half: bounded on-failure or unless-stopped; "always" restarts a crash loop forever. */
export const checkRestart = (svc: Service): Finding => {
  const restart = svc.restart === undefined ? '' : String(svc.restart);
  if (restart === 'unless-stopped') return ok('restart unless-stopped');
  if (restart === 'always') return meh('restart always (prefer unless-stopped or on-failure:N)');
  const onFailure = /^on-failure(?::(\d+))?$/.exec(restart);
  if (onFailure) {
    const n = onFailure[1] === undefined ? undefined : Number(onFailure[1]);
    if (n !== undefined && n >= 1 && n <= 10) return ok(`restart ${restart}`);
    return meh(`restart ${restart}: bound retries with on-failure:N, 1 ≤ N ≤ 10`);
  }
  if (!restart) {
    // Swarm-style deploy.restart_policy is the other place compose reads this from.
    const cond = pick(svc, 'deploy.restart_policy.condition');
    const max = Number(pick(svc, 'deploy.restart_policy.max_attempts'));
    if (cond === 'on-failure' && max >= 1 && max <= 10) return ok(`deploy.restart_policy on-failure, ${max} attempts`);
    if (cond === 'any' || cond === 'on-failure') return meh(`deploy.restart_policy ${String(cond)} without a bound of 1–10 attempts`);
  }
  return bad(restart ? `restart ${restart}: the app stays down after a crash or reboot` : 'no restart policy');
};

/** A14 health half: the service reports health unless compose disables the image's check. */
export function healthFinding(svc: Service, imageHasHealthcheck: boolean): Finding {
  const hc = svc.healthcheck;
  const test = list(pick(hc, 'test'));
  if (truthy(pick(hc, 'disable')) || test[0] === 'NONE') return bad('healthcheck disabled in the run config');
  if (test.length) return ok('healthcheck in the run config');
  return imageHasHealthcheck ? ok('health reported by the image HEALTHCHECK') : bad('no healthcheck: health is not reported');
}

/** The app's service: named after the app, else running the audited image, else the only one. */
export function appService(services: Array<[string, Service]>, app: string | undefined, imageRefs: string[]): [string, Service] | undefined {
  return (
    services.find(([n]) => n === app) ??
    services.find(([, s]) => imageRefs.includes(String(s.image ?? ''))) ??
    (services.length === 1 ? services[0] : undefined)
  );
}

const isTmp = (m: Mount) => m.type === 'tmpfs' && m.target.replace(/\/+$/, '') === '/tmp';

/** A15 run side: a named volume at /var/lib/<app>, and no other writable mount but the /tmp tmpfs. */
export function checkStateRun(services: Array<[string, Service]>, app: string | undefined, imageRefs: string[]): CheckResult {
  const found = appService(services, app, imageRefs);
  if (!found) return result('A15', 'fail', `no service for app ${app ?? '(unknown)'} in the run config`);
  const [name, svc] = found;
  if (!app) return result('A15', 'fail', `unknown app: cannot tell where service ${name} keeps its state`);
  const state = `/var/lib/${app}`;
  const problems: string[] = [];
  const mounts = mountsOf(svc);
  const stateMount = mounts.find((m) => m.target.replace(/\/+$/, '') === state);
  if (!stateMount) problems.push(`no volume at ${state}`);
  else if (stateMount.type !== 'volume' || !stateMount.source) problems.push(`${state} is a ${stateMount.source ? stateMount.type : 'anonymous volume'}, not a named volume (${stateMount.raw})`);
  else if (stateMount.readOnly) problems.push(`${state} is mounted read-only`);
  const others = mounts.filter((m) => m !== stateMount && !isTmp(m) && !m.readOnly).map((m) => m.raw);
  if (others.length) problems.push(`other writable mounts: ${others.join(', ')}`);
  if (problems.length) return result('A15', 'fail', `${name}: ${problems.join('; ')}`);
  return result('A15', 'pass', `${name}: named volume ${stateMount!.source} at ${state}, no other writable mount`);
}

export interface RunFacts {
  /** App name, for the state path and to find the app's service. */
  app?: string;
  /** Image ID and tags, to find the service running the audited image. */
  imageRefs: string[];
  /** Whether the audited image has a HEALTHCHECK (A14). */
  imageHasHealthcheck: boolean;
  /** Whether the host enforces AppArmor (A12). */
  apparmor: boolean;
}

/** A7–A14 and the run half of A15 for a parsed compose file, in id order. */
export function checkRunConfig(compose: unknown, facts: RunFacts): CheckResult[] {
  const services = servicesOf(compose);
  const app = appService(services, facts.app, facts.imageRefs)?.[0];
  return [
    perService('A7', services, checkReadOnly),
    perService('A8', services, checkCapabilities),
    perService('A9', services, checkNoNewPrivileges),
    perService('A10', services, checkLimits),
    perService('A11', services, checkIsolation),
    perService('A12', services, (s) => checkSeccomp(s, facts.apparmor)),
    perService('A13', services, checkPorts),
    perService('A14', services, (s, name) => {
      const restart = checkRestart(s);
      if (name !== app) return restart;
      const health = healthFinding(s, facts.imageHasHealthcheck);
      return { status: worse(restart.status, health.status), evidence: `${restart.evidence}; ${health.evidence}` };
    }),
    checkStateRun(services, facts.app, facts.imageRefs),
  ];
}

/** Run-side checks that cannot run without a compose file. */
export const skippedRunChecks = (): CheckResult[] =>
  ['A7', 'A8', 'A9', 'A10', 'A11', 'A12', 'A13', 'A14'].map((id) => result(id, 'skip', 'no run config: pass --run-config FILE'));
