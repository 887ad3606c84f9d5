// The TLS proxy of a VM: Caddy from Debian (2.6.2 in bookworm and trixie) in front of every app of
// the site (SECURITY-CHECKS C1–C8), and its hardened unit (D1–D10, proxy limits). Pure: the same
// HostSpec gives the same bytes.
//
// Certificates: apps with domains get them by ACME (Let's Encrypt, or the directory the spec
// names). The one app without a domain is served as `localhost` from Bulwark's internal CA:
// Caddy signs with an intermediate made at build time (name-constrained to localhost names and
// loopback addresses); the root's key never reaches the machine.
import { DATA_UNIT } from './data-disk.js';
import { FILESYSTEM_AND_KERNEL_SANDBOX } from './systemd.js';
import { CADDY_STORAGE, DATA_MOUNT, HTTPS_PORT, HTTP_PORT, INTERNAL_CA_DIR, type HostApp, type HostSpec, type TreeFile } from '../vm/host-spec.js';

export const CADDY_UNIT = 'caddy.service';
export const CADDYFILE = '/etc/caddy/Caddyfile';
export const CADDY_BINARY = '/usr/bin/caddy';
/** The internal CA's files (made by Bulwark at build time; no root key among them). */
export const INTERNAL_CA_FILES = {
  root: `${INTERNAL_CA_DIR}/root.crt`,
  intermediate: `${INTERNAL_CA_DIR}/intermediate.crt`,
  intermediateKey: `${INTERNAL_CA_DIR}/intermediate.key`,
} as const;
/** The ACME directory's own CA (a test server such as pebble), trusted for the directory's HTTPS only. */
export const ACME_CA_ROOT_FILE = `${INTERNAL_CA_DIR}/acme-ca.pem`;

/** TLS 1.2 suites: ECDHE key exchange with AEAD ciphers only (C2, Mozilla intermediate). TLS 1.3 suites are fixed by Go. */
export const TLS12_CIPHERS = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
] as const;
export const TLS_CURVES = ['x25519', 'secp256r1', 'secp384r1'] as const;

export const HSTS = 'max-age=63072000; includeSubDomains';

/** Browser features no Bulwark app is expected to use (C8): each one denied to every origin. */
export const PERMISSIONS_POLICY = [
  'accelerometer',
  'camera',
  'display-capture',
  'geolocation',
  'gyroscope',
  'hid',
  'idle-detection',
  'magnetometer',
  'microphone',
  'midi',
  'payment',
  'screen-wake-lock',
  'serial',
  'usb',
  'xr-spatial-tracking',
]
  .map((f) => `${f}=()`)
  .join(', ');

const DEFAULT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/**
 * Content-Security-Policy per framework (C6). Every framework Bulwark detects works with the
 * strict default today (Django's admin loads its scripts and styles from /static, so 'self'
 * covers it); a framework that needs more gets its own entry here, never unsafe-inline or
 * unsafe-eval in script-src.
 */
const CSP_BY_FRAMEWORK: Record<string, string> = {};

export function contentSecurityPolicy(framework: string): string {
  return CSP_BY_FRAMEWORK[framework] ?? DEFAULT_CSP;
}

/** The response headers of every HTTPS response of an app (C3, C6, C7, C8), in the order written. */
export function securityHeaders(app: HostApp): Array<[string, string]> {
  return [
    ['Strict-Transport-Security', HSTS],
    ['Content-Security-Policy', contentSecurityPolicy(app.framework)],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', 'strict-origin-when-cross-origin'],
    ['Permissions-Policy', PERMISSIONS_POLICY],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
  ];
}

/** Headers removed from every response: Caddy's `Server: Caddy`, and whatever the app names itself (C7). */
const REMOVED_HEADERS = ['Server', 'X-Powered-By'];

/** Site addresses of the app without a domain: what a client on the machine or behind QEMU's port forward uses. */
export const INTERNAL_SITE_ADDRESSES = ['localhost', '127.0.0.1'];

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;
const URL_TOKEN = /^https?:\/\/[^\s"{}]+$/;

function checkSpec(spec: HostSpec): void {
  const internal = spec.apps.filter((a) => a.domains.length === 0);
  if (internal.length > 1) {
    throw new Error(
      `apps ${internal.map((a) => a.name).join(', ')} have no domain: only one app can be served as localhost; give the others domains in bulwark.hcl`,
    );
  }
  const seen = new Map<string, string>();
  for (const app of spec.apps) {
    if (!Number.isInteger(app.port) || app.port < 1 || app.port > 65535) throw new Error(`${app.name}: port ${app.port} is not a TCP port`);
    if (app.port === HTTP_PORT || app.port === HTTPS_PORT) throw new Error(`${app.name}: port ${app.port} is the proxy's; the app must listen on another port`);
    for (const d of app.domains) {
      if (!DOMAIN.test(d)) throw new Error(`${app.name}: domain "${d}" is not a lowercase DNS name`);
      const other = seen.get(d);
      if (other) throw new Error(`domain ${d} is given to both ${other} and ${app.name}`);
      seen.set(d, app.name);
    }
  }
  if (spec.tls.mode === 'acme') {
    if (!URL_TOKEN.test(spec.tls.directory)) throw new Error(`ACME directory "${spec.tls.directory}" is not an http(s) URL`);
    if (spec.tls.email !== undefined && !EMAIL.test(spec.tls.email)) throw new Error(`ACME email "${spec.tls.email}" is not an email address`);
    if (spec.tls.caRootPem !== undefined && !/-----BEGIN CERTIFICATE-----/.test(spec.tls.caRootPem)) throw new Error('ACME caRootPem is not a PEM certificate');
  }
}

/** Does this app get its certificate from the internal CA? (No domain; or internal mode for the whole site.) */
const usesInternalCa = (spec: HostSpec, app: HostApp) => spec.tls.mode === 'internal' || app.domains.length === 0;

const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function headerLines(app: HostApp, indent: string): string[] {
  return [
    ...securityHeaders(app).map(([k, v]) => `${indent}${k} ${q(v)}`),
    ...REMOVED_HEADERS.map((h) => `${indent}-${h}`),
  ];
}

function siteBlock(spec: HostSpec, app: HostApp): string[] {
  const internal = usesInternalCa(spec, app);
  const addresses = app.domains.length > 0 ? app.domains : INTERNAL_SITE_ADDRESSES;
  return [
    `# ${app.name} (${app.framework}): ${internal ? "certificate from Bulwark's internal CA" : 'certificate by ACME'}; the app listens on 127.0.0.1:${app.port}.`,
    `${addresses.join(', ')} {`,
    `\ttls${internal ? ' internal' : ''} {`,
    '\t\timport bulwark_tls',
    '\t}',
    '',
    '\t# Deferred, so these replace whatever the app sends (C3, C6-C8).',
    '\theader {',
    '\t\tdefer',
    ...headerLines(app, '\t\t'),
    '\t}',
    '',
    '\t# Caddy adds X-Forwarded-For/-Proto/-Host and drops client-sent ones.',
    `\treverse_proxy 127.0.0.1:${app.port} {`,
    '\t\t# C9: every cookie the app sets is Secure (clients reach it over HTTPS only), whether or',
    '\t\t# not the app knows it is behind TLS: drop any Secure flag, then add exactly one.',
    '\t\theader_down Set-Cookie "(?i);\\s*secure\\s*(;|$)" "$1"',
    '\t\theader_down Set-Cookie "$" "; Secure"',
    '\t}',
    '',
    '\t# Caddy answers its own errors (502 when the app is down) with a fresh response, without',
    '\t# the headers above: set them here too.',
    '\thandle_errors {',
    '\t\theader {',
    ...headerLines(app, '\t\t\t'),
    '\t\t}',
    '\t\trespond "{err.status_code} {err.status_text}" {err.status_code}',
    '\t}',
    '}',
  ];
}

export function renderCaddyfile(spec: HostSpec): string {
  checkSpec(spec);
  const internalApp = spec.apps.find((a) => a.domains.length === 0);
  const anyInternal = spec.apps.some((a) => usesInternalCa(spec, a));
  const tls = spec.tls;

  const global: string[] = [
    '\t# No admin API: nothing on localhost:2019 that a local process could use to reconfigure',
    '\t# the proxy. A changed Caddyfile takes effect on restart.',
    '\tadmin off',
    `\tstorage file_system ${CADDY_STORAGE}`,
    "\t# Trust stores are the image's business, never changed at run time.",
    '\tskip_install_trust',
    '\t# Certificate keys: ECDSA P-256 (C5).',
    '\tkey_type p256',
  ];
  if (internalApp) {
    global.push(
      '\t# Clients without SNI (an IP address in the URL) get the localhost certificate.',
      '\tdefault_sni localhost',
    );
  }
  if (tls.mode === 'acme') {
    global.push(`\tacme_ca ${tls.directory}`);
    if (tls.email !== undefined) global.push(`\temail ${tls.email}`);
    if (tls.caRootPem !== undefined) global.push(`\t# The ACME directory's own CA (a test server), for its HTTPS only.`, `\tacme_ca_root ${ACME_CA_ROOT_FILE}`);
  }
  global.push(
    '\tservers {',
    '\t\t# HTTP/1.1 and HTTP/2 over TCP: the firewall opens TCP 443 only (B11), so no HTTP/3 (UDP).',
    '\t\tprotocols h1 h2',
    '\t}',
  );
  if (anyInternal) {
    global.push(
      "\t# Bulwark's internal CA (made at build time): Caddy signs with the intermediate, which is",
      '\t# name-constrained to localhost names and loopback addresses, and never renews it. Caddy',
      '\t# 2.6 requires a key file for the root even when it never signs with it (it signs with the',
      "\t# root only to renew an intermediate it made itself); the root's key does not exist on",
      "\t# this machine, so the intermediate's key fills the field.",
      '\tpki {',
      '\t\tca local {',
      '\t\t\tname "Bulwark internal CA"',
      '\t\t\troot {',
      `\t\t\t\tcert ${INTERNAL_CA_FILES.root}`,
      `\t\t\t\tkey ${INTERNAL_CA_FILES.intermediateKey}`,
      '\t\t\t}',
      '\t\t\tintermediate {',
      `\t\t\t\tcert ${INTERNAL_CA_FILES.intermediate}`,
      `\t\t\t\tkey ${INTERNAL_CA_FILES.intermediateKey}`,
      '\t\t\t}',
      '\t\t}',
      '\t}',
    );
  }

  const lines = [
    `# ${CADDYFILE}: generated by Bulwark for the host "${spec.hostname}". Check with:`,
    `#   caddy adapt --config ${CADDYFILE} --adapter caddyfile`,
    '# TLS per SECURITY-CHECKS C1-C5, headers per C6-C8.',
    '{',
    ...global,
    '}',
    '',
    '# TLS 1.2 and 1.3 only (C1); for TLS 1.2, ECDHE with AES-GCM or ChaCha20-Poly1305 only (C2).',
    '(bulwark_tls) {',
    '\tprotocols tls1.2 tls1.3',
    `\tciphers ${TLS12_CIPHERS.join(' ')}`,
    `\tcurves ${TLS_CURVES.join(' ')}`,
    '}',
    '',
  ];
  for (const app of spec.apps) lines.push(...siteBlock(spec, app), '');
  lines.push(
    '# Plain HTTP on any host name: a permanent redirect to HTTPS on the same host (C4). ACME HTTP-01',
    '# challenges still work: Caddy answers them before any route.',
    'http:// {',
    '\theader -Server',
    '\tredir https://{host}{uri} 308',
    '}',
    '',
  );
  return lines.join('\n');
}

const systemdPath = (p: string) => {
  if (!p.startsWith('/var/lib/')) throw new Error(`${p}: Caddy's storage must be under /var/lib (a StateDirectory=)`);
  return p.slice('/var/lib/'.length);
};

/**
 * The complete unit, in /etc/systemd/system so it replaces Debian's /lib/systemd/system/caddy.service
 * (which runs with ProtectSystem=full and little else).
 */
export function renderCaddyUnit(): string {
  return [
    `# /etc/systemd/system/${CADDY_UNIT}: generated by Bulwark; replaces the caddy package's unit.`,
    `# Hardened per SECURITY-CHECKS D1-D10 with the proxy's limits (exposure <= 2.0, D1); check with:`,
    `#   systemd-analyze security ${CADDY_UNIT}`,
    '',
    '[Unit]',
    'Description=Caddy (TLS proxy, Bulwark)',
    'Documentation=https://caddyserver.com/docs/',
    `# Certificates and the ACME account live on the data disk (${CADDY_STORAGE}).`,
    `After=network-online.target ${DATA_UNIT}`,
    'Wants=network-online.target',
    `Requires=${DATA_UNIT}`,
    `RequiresMountsFor=${DATA_MOUNT}`,
    'StartLimitIntervalSec=300',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=notify',
    `ExecStart=${CADDY_BINARY} run --environ --config ${CADDYFILE} --adapter caddyfile`,
    '# No ExecReload=: `caddy reload` needs the admin API, which is off. Apply a changed',
    '# Caddyfile with `systemctl restart caddy`.',
    'Restart=on-failure',
    'RestartSec=2s',
    'TimeoutStopSec=5s',
    'LimitNOFILE=1048576',
    '',
    "# Identity (D2): the caddy package's system user.",
    'User=caddy',
    'Group=caddy',
    '',
    '# State (D4): the only writable place, created (and chowned to caddy, whose uid may differ',
    '# between images) by systemd. Caddy keeps its autosaved config and data under it too.',
    `StateDirectory=${systemdPath(CADDY_STORAGE)}`,
    'StateDirectoryMode=0700',
    `Environment=XDG_CONFIG_HOME=${CADDY_STORAGE}/config XDG_DATA_HOME=${CADDY_STORAGE}/data`,
    'UMask=0077',
    '',
    '# Privileges (D3): binding ports 80 and 443 is the one capability.',
    'NoNewPrivileges=yes',
    'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
    'AmbientCapabilities=CAP_NET_BIND_SERVICE',
    '',
    ...FILESYSTEM_AND_KERNEL_SANDBOX,
    '',
    '# Namespaces and sockets (D6). No AF_NETLINK: Caddy enumerates no interfaces, and glibc',
    '# resolves names without it.',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    '',
    '# W^X (D10): Go compiles ahead of time; no JIT.',
    'MemoryDenyWriteExecute=yes',
    '',
    '# System calls (D7). @resources too: with LimitNOFILE= soft and hard limits are equal, so Go',
    '# has no limit to raise at start.',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallFilter=~@privileged @resources',
    'SystemCallErrorNumber=EPERM',
    '',
    '# /proc and IPC (D8). No PrivateUsers=: the capability must hold in the host user namespace.',
    'ProtectProc=invisible',
    'ProcSubset=pid',
    'RemoveIPC=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function renderProxyFiles(spec: HostSpec): TreeFile[] {
  const files: TreeFile[] = [
    { path: CADDYFILE.slice(1), content: renderCaddyfile(spec), mode: 0o644 },
    { path: `etc/systemd/system/${CADDY_UNIT}`, content: renderCaddyUnit(), mode: 0o644 },
  ];
  if (spec.tls.mode === 'acme' && spec.tls.caRootPem !== undefined) {
    const pem = spec.tls.caRootPem.endsWith('\n') ? spec.tls.caRootPem : `${spec.tls.caRootPem}\n`;
    files.push({ path: ACME_CA_ROOT_FILE.slice(1), content: pem, mode: 0o644 });
  }
  return files;
}
