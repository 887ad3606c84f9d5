// Read a parsed compose file into uniform shapes (services, mounts, ports), whichever of the
// short and long syntaxes a hand-edited file uses, so the A7–A15 checks compare plain values.

export type Service = Record<string, unknown>;

export interface Mount {
  type: 'volume' | 'bind' | 'tmpfs' | 'other';
  /** Volume name or host path; '' for an anonymous volume or a tmpfs. */
  source: string;
  target: string;
  readOnly: boolean;
  /** Mount options (tmpfs: noexec, nosuid, …; short volume syntax: ro, z, …). */
  options: string[];
  /** As written, for evidence. */
  raw: string;
}

export interface PortBinding {
  /** '' when the port is published on every interface. */
  hostIp: string;
  /** '' when Docker picks an ephemeral port. */
  hostPort: string;
  containerPort: string;
  raw: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
/** A compose value that may be one string or a list. */
export const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : v === undefined || v === null ? [] : [str(v)]);

export function servicesOf(compose: unknown): Array<[string, Service]> {
  const services = isObj(compose) ? compose.services : undefined;
  return isObj(services) ? Object.entries(services).map(([n, s]) => [n, isObj(s) ? s : {}]) : [];
}

/** Compose accepts true, "true" and yes-like strings for booleans. */
export const truthy = (v: unknown) => v === true || (typeof v === 'string' && /^(true|yes|1)$/i.test(v));

const hostPath = (s: string) => s.startsWith('/') || s.startsWith('.') || s.startsWith('~');

function shortVolume(spec: string): Mount {
  const parts = spec.split(':');
  if (parts.length === 1) return { type: 'volume', source: '', target: spec, readOnly: false, options: [], raw: spec };
  const [source = '', target = '', mode = ''] = parts;
  const options = mode ? mode.split(',') : [];
  const readOnly = options.includes('ro') || options.includes('readonly');
  return { type: hostPath(source) ? 'bind' : 'volume', source, target, readOnly, options, raw: spec };
}

function longVolume(v: Record<string, unknown>): Mount {
  const t = str(v.type);
  const type = t === 'volume' || t === 'bind' || t === 'tmpfs' ? t : 'other';
  const source = str(v.source);
  // The long syntax has no noexec/nosuid/nodev for tmpfs, so options stay empty (A7 says why).
  return { type, source, target: str(v.target), readOnly: truthy(v.read_only), options: [], raw: JSON.stringify(v) };
}

function tmpfsEntry(spec: string): Mount {
  const i = spec.indexOf(':');
  const target = i < 0 ? spec : spec.slice(0, i);
  const options = i < 0 ? [] : spec.slice(i + 1).split(',');
  return { type: 'tmpfs', source: '', target, readOnly: options.includes('ro'), options, raw: spec };
}

/** Everything mounted into the service: `volumes` (both syntaxes) and `tmpfs`. */
export function mountsOf(svc: Service): Mount[] {
  const vols = Array.isArray(svc.volumes) ? svc.volumes : [];
  const mounts = vols.map((v) => (isObj(v) ? longVolume(v) : shortVolume(str(v))));
  return [...mounts, ...list(svc.tmpfs).map(tmpfsEntry)];
}

function shortPort(spec: string): PortBinding {
  const s = spec.replace(/\/(tcp|udp|sctp)$/, '');
  let hostIp = '';
  let rest = s;
  const bracket = /^\[([^\]]*)\]:(.*)$/.exec(s);
  if (bracket) [, hostIp = '', rest = ''] = bracket;
  const parts = rest.split(':');
  const containerPort = parts.pop() ?? '';
  const hostPort = parts.pop() ?? '';
  if (!bracket && parts.length) hostIp = parts.join(':');
  return { hostIp, hostPort, containerPort, raw: spec };
}

export function portsOf(svc: Service): PortBinding[] {
  const ports = Array.isArray(svc.ports) ? svc.ports : svc.ports === undefined ? [] : [svc.ports];
  return ports.map((p) =>
    isObj(p)
      ? { hostIp: str(p.host_ip), hostPort: str(p.published), containerPort: str(p.target), raw: JSON.stringify(p) }
      : shortPort(str(p)),
  );
}

/** Labels as key=value strings, from either the map or the list syntax. */
const labelsOf = (svc: Service): string[] => (isObj(svc.labels) ? Object.entries(svc.labels).map(([k, v]) => `${k}=${str(v)}`) : list(svc.labels));

/** The TLS proxy is the one service allowed ports 80/443 and NET_BIND_SERVICE. */
export function isProxyService(svc: Service): boolean {
  const marks = [str(svc.image), ...labelsOf(svc)];
  return marks.some((m) => /proxy|caddy/i.test(m));
}

/** A dotted path into a compose object: deploy.resources.limits.memory. */
export function pick(v: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), v);
}
