// Unit tests for the VM host layer's renderers: the Caddy proxy (C1–C8, D1–D10 for its unit), the
// firewall (B11), sysctl (B1, B2, B10) and the other hardening files (B9, B10, B12). The real tools
// check what they read: `caddy adapt`/`caddy validate`, `nft -c`, `systemd-analyze security`.
// They are installed by `bash scripts/setup`; a missing one fails the test, never skips it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { ACME_CA_ROOT_FILE, CADDY_UNIT, renderCaddyfile, renderCaddyUnit, renderProxyFiles, TLS12_CIPHERS } from '../../src/render/proxy.js';
import { FIREWALL_UNIT, renderFirewallFiles } from '../../src/render/firewall.js';
import { renderSysctlFiles, SYSCTL_EXPECTED, sysctlMatches } from '../../src/render/sysctl.js';
import { DISABLED_MODULES, HOST_ENABLE_UNITS, renderHardeningFiles } from '../../src/render/host-hardening.js';
import { CADDY_STORAGE, INTERNAL_CA_DIR, type HostSpec, type TreeFile } from '../../src/vm/host-spec.js';
import { offlineExposure, serviceSettings, setupHint } from './unit-files.js';


const express = { name: 'express-hello', uid: 10001, port: 3000, runtime: 'node', framework: 'express', domains: [], secrets: ['SESSION_SECRET'], healthPath: '/healthz' } as const;
const django = { name: 'django-notes', uid: 10002, port: 8000, runtime: 'python', framework: 'django', domains: ['notes.example.com', 'www.notes.example.com'], secrets: ['SECRET_KEY'], healthPath: '/' } as const;

const FAKE_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

function internalSpec(): HostSpec {
  return structuredClone({ hostname: 'bulwark', apps: [{ ...express, domains: [] as string[], secrets: [...express.secrets] }], tls: { mode: 'internal' as const } });
}
function acmeSpec(): HostSpec {
  return structuredClone({
    hostname: 'bulwark',
    apps: [
      { ...express, domains: [] as string[], secrets: [...express.secrets] },
      { ...django, domains: [...django.domains], secrets: [...django.secrets] },
    ],
    tls: { mode: 'acme' as const, directory: 'https://pebble.test:14000/dir', email: 'ops@example.com', caRootPem: FAKE_PEM },
  });
}

const byPath = (files: TreeFile[]) => new Map(files.map((f) => [f.path, f]));

// ---------------------------------------------------------------- determinism and shape

test('every renderer is deterministic and paths are relative', () => {
  const renders: Array<() => TreeFile[]> = [
    () => renderProxyFiles(internalSpec()),
    () => renderProxyFiles(acmeSpec()),
    renderFirewallFiles,
    renderSysctlFiles,
    renderHardeningFiles,
  ];
  for (const r of renders) {
    const a = r();
    assert.equal(a, r());
    for (const f of a) {
      assert.not.ok(f.path.startsWith('/'), f.path);
      assert.ok(f.content.endsWith('\n'), `${f.path} ends with a newline`);
    }
  }
  const all = [...renderFirewallFiles(), ...renderSysctlFiles(), ...renderHardeningFiles(), ...renderProxyFiles(acmeSpec())].map((f) => f.path);
  assert.is(new Set(all).size, all.length, 'no two renderers write the same file');
});

// ---------------------------------------------------------------- sysctl

const B1 = ['kernel.randomize_va_space', 'kernel.yama.ptrace_scope', 'fs.suid_dumpable', 'fs.protected_hardlinks', 'fs.protected_symlinks', 'fs.protected_regular', 'fs.protected_fifos', 'kernel.kptr_restrict', 'kernel.sysrq', 'kernel.kexec_load_disabled', 'kernel.unprivileged_bpf_disabled'];
const perIf = (name: string, v6: boolean) => (v6 ? ['ipv4', 'ipv6'] : ['ipv4']).flatMap((v) => ['all', 'default'].map((s) => `net.${v}.conf.${s}.${name}`));
const B2 = [
  ...perIf('rp_filter', false),
  ...perIf('accept_redirects', true),
  ...perIf('secure_redirects', false),
  ...perIf('send_redirects', false),
  ...perIf('accept_source_route', true),
  ...perIf('log_martians', false),
  'net.ipv4.icmp_echo_ignore_broadcasts',
  'net.ipv4.icmp_ignore_bogus_error_responses',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_rfc1337',
  'net.ipv4.ip_forward',
];

function sysctlValues(): Map<string, string> {
  const [f] = renderSysctlFiles();
  assert.is(f!.path, 'etc/sysctl.d/90-bulwark.conf');
  const out = new Map<string, string>();
  for (const l of f!.content.split('\n')) {
    const m = /^([a-z0-9_.*-]+) = (.*)$/.exec(l);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

test('sysctl: every B1 and B2 key, with the value SYSCTL_EXPECTED accepts', () => {
  const values = sysctlValues();
  for (const key of [...B1, ...B2, 'kernel.core_pattern']) {
    assert.ok(values.has(key), `${key} set`);
    assert.ok(key in SYSCTL_EXPECTED, `${key} expected`);
    assert.ok(sysctlMatches(SYSCTL_EXPECTED[key]!, values.get(key)!), `${key} = ${values.get(key)}`);
  }
  for (const key of Object.keys(SYSCTL_EXPECTED)) assert.ok(values.has(key), `expected ${key} is in the file`);
  assert.is(values.get('net.ipv4.ip_forward'), '0');
  assert.is(values.get('kernel.core_pattern'), '|/bin/false');
  assert.equal(SYSCTL_EXPECTED['kernel.yama.ptrace_scope'], { min: 2 });
  assert.equal(SYSCTL_EXPECTED['fs.protected_fifos'], { min: 1 });
  assert.is(SYSCTL_EXPECTED['kernel.sysrq'], '0');
  assert.ok(sysctlMatches({ min: 2 }, '3'));
  assert.not.ok(sysctlMatches({ min: 2 }, '1'));
  assert.not.ok(sysctlMatches('0', '1'));
});

// ---------------------------------------------------------------- hardening files

test('hardening: core dumps, modules, mounts, apt, journald', () => {
  const files = byPath(renderHardeningFiles());
  const get = (p: string) => {
    const f = files.get(p);
    assert.ok(f, `${p} rendered`);
    return f!.content;
  };
  assert.match(get('etc/security/limits.d/90-bulwark.conf'), /^\*\thard\tcore\t0$/m);
  assert.match(get('etc/systemd/coredump.conf.d/90-bulwark.conf'), /\[Coredump\]\nStorage=none\nProcessSizeMax=0/);
  assert.match(get('etc/systemd/system.conf.d/90-bulwark.conf'), /\[Manager\]\nDefaultLimitCORE=0/);
  const modprobe = get('etc/modprobe.d/90-bulwark.conf');
  for (const m of DISABLED_MODULES) {
    assert.match(modprobe, new RegExp(`^install ${m} /bin/false$`, 'm'));
    assert.match(modprobe, new RegExp(`^blacklist ${m}$`, 'm'));
  }
  assert.match(get('etc/systemd/system/tmp.mount.d/90-bulwark.conf'), /^Options=mode=1777,strictatime,nosuid,nodev,noexec,size=50%%,nr_inodes=1m$/m);
  assert.match(get('etc/systemd/system/bulwark-dev-shm.service'), /^ExecStart=\/usr\/bin\/mount -o remount,nosuid,nodev,noexec \/dev\/shm$/m);
  const auto = get('etc/apt/apt.conf.d/20auto-upgrades');
  assert.match(auto, /^APT::Periodic::Update-Package-Lists "1";$/m);
  assert.match(auto, /^APT::Periodic::Unattended-Upgrade "1";$/m);
  const uu = get('etc/apt/apt.conf.d/52bulwark-unattended-upgrades');
  assert.match(uu, /"origin=Debian,codename=\$\{distro_codename\}-security,label=Debian-Security";/);
  assert.match(uu, /^Unattended-Upgrade::Automatic-Reboot "false";$/m);
  assert.match(get('etc/apt/apt.conf.d/52bulwark-tmpdir'), /^APT::ExtractTemplates::TempDir "\/var\/cache\/apt\/tmp";$/m);
  assert.match(get('etc/tmpfiles.d/bulwark-apt.conf'), /^d \/var\/cache\/apt\/tmp 0700 root root/m);
  for (const u of ['apt-daily.service', 'apt-daily-upgrade.service']) assert.match(get(`etc/systemd/system/${u}.d/90-bulwark-tmpdir.conf`), /^Environment=TMPDIR=\/var\/cache\/apt\/tmp$/m);
  assert.match(get('etc/systemd/journald.conf.d/90-bulwark.conf'), /\[Journal\]\nStorage=persistent\nSystemMaxUse=200M/);
  for (const u of ['nftables.service', 'caddy.service', 'unattended-upgrades.service', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'systemd-timesyncd.service', 'apparmor.service', 'bulwark-dev-shm.service']) {
    assert.ok(HOST_ENABLE_UNITS.includes(u), `${u} enabled`);
  }
});

test('apt reads the apt.conf.d files Bulwark writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-apt-'));
  try {
    const files = renderHardeningFiles().filter((f) => f.path.startsWith('etc/apt/apt.conf.d/'));
    await mkdir(join(dir, 'parts'));
    // The package's defaults, which #clear must drop.
    await writeFile(join(dir, 'parts', '50unattended-upgrades'), 'Unattended-Upgrade::Origins-Pattern {\n\t"origin=Debian,codename=${distro_codename},label=Debian";\n\t"origin=Debian,codename=${distro_codename},label=Debian-Security";\n};\n');
    for (const f of files) await writeFile(join(dir, 'parts', f.path.split('/').pop()!), f.content);
    // APT_CONFIG is read before the parts directory, so it can move it.
    await writeFile(join(dir, 'apt.conf'), `Dir::Etc::Parts "${dir}/parts";\n`);
    const r = await run('apt-config', ['dump'], { env: { ...process.env, APT_CONFIG: join(dir, 'apt.conf') }, missingHint: setupHint('apt-config (apt)') });
    assert.match(r.stdout, /^APT::ExtractTemplates::TempDir "\/var\/cache\/apt\/tmp";$/m);
    assert.match(r.stdout, /^Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=\$\{distro_codename\}-security,label=Debian-Security";$/m);
    assert.is(r.stdout.match(/^Unattended-Upgrade::Origins-Pattern:: /gm)?.length, 1, 'only the security origin');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- firewall

test('firewall: default-deny ruleset, 22/80/443 open, accepted by nft -c', async () => {
  const files = renderFirewallFiles();
  assert.is(FIREWALL_UNIT, 'nftables.service');
  assert.is(files.length, 1);
  const f = files[0]!;
  assert.is(f.path, 'etc/nftables.conf');
  assert.is(f.mode, 0o755);
  assert.ok(f.content.startsWith('#!/usr/sbin/nft -f\n'));
  assert.match(f.content, /^flush ruleset$/m);
  assert.match(f.content, /type filter hook input priority filter; policy drop;/);
  assert.match(f.content, /type filter hook forward priority filter; policy drop;/);
  assert.match(f.content, /type filter hook output priority filter; policy accept;/);
  assert.match(f.content, /tcp dport \{ 22, 80, 443 \} accept/);
  const dports = [...f.content.matchAll(/tcp dport (\{[^}]*\}|\d+)/g)].flatMap((m) => m[1]!.replace(/[{}]/g, '').split(',').map((s) => Number(s.trim())));
  assert.equal([...new Set(dports)].sort((a, b) => a - b), [22, 80, 443], 'no other TCP port');

  const dir = await mkdtemp(join(tmpdir(), 'bulwark-nft-'));
  try {
    await writeFile(join(dir, 'nftables.conf'), f.content);
    const r = await run('nft', ['-c', '-f', join(dir, 'nftables.conf')], { allowFail: true, missingHint: setupHint('nft (nftables)') });
    assert.is(r.code, 0, `nft -c rejected the ruleset (it needs root and netlink): ${r.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- Caddyfile

test('Caddyfile: global options, TLS policy, headers, redirect', () => {
  const c = renderCaddyfile(acmeSpec());
  for (const s of [
    '\tadmin off\n',
    `\tstorage file_system ${CADDY_STORAGE}\n`,
    '\tskip_install_trust\n',
    '\tkey_type p256\n',
    '\tdefault_sni localhost\n',
    '\tacme_ca https://pebble.test:14000/dir\n',
    '\temail ops@example.com\n',
    `\tacme_ca_root ${ACME_CA_ROOT_FILE}\n`,
    '\tprotocols tls1.2 tls1.3\n',
    '\tcurves x25519 secp256r1 secp384r1\n',
    '\t\tStrict-Transport-Security "max-age=63072000; includeSubDomains"\n',
    '\t\tX-Content-Type-Options "nosniff"\n',
    '\t\tX-Frame-Options "DENY"\n',
    '\t\tReferrer-Policy "strict-origin-when-cross-origin"\n',
    '\t\tCross-Origin-Opener-Policy "same-origin"\n',
    '\t\tCross-Origin-Resource-Policy "same-origin"\n',
    '\t\t-Server\n',
    '\t\t-X-Powered-By\n',
    'localhost, 127.0.0.1 {\n',
    'notes.example.com, www.notes.example.com {\n',
    '\treverse_proxy 127.0.0.1:3000 {\n',
    '\treverse_proxy 127.0.0.1:8000 {\n',
    'http:// {\n\theader -Server\n\tredir https://{host}{uri} 308\n}\n',
  ]) {
    assert.ok(c.includes(s), `Caddyfile has ${JSON.stringify(s)}`);
  }
  const csp = /Content-Security-Policy "([^"]*)"/.exec(c)![1]!;
  const scriptSrc = /script-src ([^;]*)/.exec(csp)![1]!;
  assert.not.match(scriptSrc, /unsafe/);
  for (const d of ["object-src 'none'", 'base-uri', 'form-action', "frame-ancestors 'none'"]) assert.ok(csp.includes(d), d);
  const pp = /Permissions-Policy "([^"]*)"/.exec(c)![1]!;
  for (const f of ['camera', 'microphone', 'geolocation', 'payment', 'usb']) assert.ok(pp.includes(`${f}=()`), f);
  assert.ok(c.includes(`\tciphers ${TLS12_CIPHERS.join(' ')}\n`));
  for (const s of TLS12_CIPHERS) assert.match(s, /^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
});

test('Caddyfile: internal CA only where needed; ACME only in ACME mode', () => {
  const internal = renderCaddyfile(internalSpec());
  assert.ok(internal.includes(`cert ${INTERNAL_CA_DIR}/root.crt`));
  assert.ok(internal.includes(`cert ${INTERNAL_CA_DIR}/intermediate.crt`));
  assert.ok(internal.includes(`key ${INTERNAL_CA_DIR}/intermediate.key`));
  assert.not.ok(internal.includes('root.key'), 'no root key anywhere');
  assert.not.ok(internal.includes('acme_ca'));
  assert.not.ok(internal.includes('email'));
  assert.ok(internal.includes('\ttls internal {'));

  const acmeOnly = acmeSpec();
  acmeOnly.apps = acmeOnly.apps.filter((a) => a.domains.length > 0);
  const a = renderCaddyfile(acmeOnly);
  assert.not.ok(a.includes('pki {'), 'no internal CA without an internal site');
  assert.not.ok(a.includes('default_sni'));
  assert.not.ok(a.includes('tls internal'));

  const noEmail = acmeSpec();
  if (noEmail.tls.mode === 'acme') {
    delete noEmail.tls.email;
    delete noEmail.tls.caRootPem;
  }
  const b = renderCaddyfile(noEmail);
  assert.not.ok(b.includes('\temail '));
  assert.not.ok(b.includes('acme_ca_root'));
  assert.not.ok(renderProxyFiles(noEmail).some((f) => f.path === ACME_CA_ROOT_FILE.slice(1)));
  const withRoot = byPath(renderProxyFiles(acmeSpec())).get(ACME_CA_ROOT_FILE.slice(1));
  assert.ok(withRoot);
  assert.is(withRoot!.content, FAKE_PEM);
  assert.is(withRoot!.mode, 0o644);
});

test('Caddyfile: invalid specs are refused', () => {
  const two = internalSpec();
  two.apps.push({ ...structuredClone(two.apps[0]!), name: 'other', port: 3001 });
  assert.throws(() => renderCaddyfile(two), /only one app can be served as localhost/);
  const dup = acmeSpec();
  dup.apps[0]!.domains = ['notes.example.com'];
  assert.throws(() => renderCaddyfile(dup), /given to both/);
  const bad = acmeSpec();
  bad.apps[1]!.domains = ['Notes.Example.com'];
  assert.throws(() => renderCaddyfile(bad), /not a lowercase DNS name/);
  const inject = acmeSpec();
  if (inject.tls.mode === 'acme') inject.tls.email = 'a@b.com\n}\n{';
  assert.throws(() => renderCaddyfile(inject), /email/);
  const port = internalSpec();
  port.apps[0]!.port = 443;
  assert.throws(() => renderCaddyfile(port), /proxy's/);
});

// ---------------------------------------------------------------- caddy adapt / validate

async function adapt(caddyfile: string): Promise<any> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-caddy-'));
  try {
    await writeFile(join(dir, 'Caddyfile'), caddyfile);
    const r = await run('caddy', ['adapt', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { allowFail: true, timeoutMs: 30_000, missingHint: setupHint('caddy') });
    assert.is(r.code, 0, `caddy adapt failed: ${r.stderr}`);
    assert.not.match(r.stderr, /"level":"warn"/, `caddy adapt warned: ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Handlers of every route, flattened through subroutes. */
function handlers(routes: any[]): any[] {
  return routes.flatMap((r: any) => (r.handle ?? []).flatMap((h: any) => (h.handler === 'subroute' ? [h, ...handlers(h.routes ?? [])] : [h])));
}

function checkHttpsServer(cfg: any) {
  const servers = Object.values(cfg.apps.http.servers) as any[];
  const https = servers.find((s) => s.listen.includes(':443'));
  const http = servers.find((s) => s.listen.includes(':80'));
  assert.ok(https && http, 'servers on :443 and :80');
  for (const s of servers) assert.equal(s.protocols, ['h1', 'h2']);
  for (const p of https.tls_connection_policies.filter((p: any) => p.match)) {
    assert.is(p.protocol_min, 'tls1.2', 'C1: TLS 1.2 minimum');
    assert.is(p.protocol_max, 'tls1.3');
    assert.equal(p.cipher_suites, [...TLS12_CIPHERS]);
    assert.equal(p.curves, ['x25519', 'secp256r1', 'secp384r1']);
  }
  const hs = handlers(https.routes);
  const deferred = hs.filter((h) => h.handler === 'headers' && h.response?.deferred);
  assert.ok(deferred.length >= 1, 'deferred header handler');
  for (const h of deferred) {
    assert.equal(h.response.set['Strict-Transport-Security'], ['max-age=63072000; includeSubDomains']);
    assert.ok(h.response.set['Content-Security-Policy']);
    assert.equal(h.response.delete, ['Server', 'X-Powered-By']);
  }
  assert.ok(hs.some((h) => h.handler === 'reverse_proxy'));
  const errHandlers = handlers(https.errors.routes);
  assert.ok(errHandlers.some((h) => h.handler === 'headers' && h.response.set['Strict-Transport-Security']), 'error responses carry the headers too');
  const redirect = handlers(http.routes).find((h) => h.handler === 'static_response');
  assert.is(redirect.status_code, 308);
  assert.equal(redirect.headers.Location, ['https://{http.request.host}{http.request.uri}']);
  for (const p of cfg.apps.tls.automation.policies) assert.is(p.key_type, 'p256');
  assert.equal(cfg.admin, { disabled: true });
  assert.is(cfg.storage.root, CADDY_STORAGE);
}

test('caddy adapt accepts the internal-CA Caddyfile', async () => {
  const cfg = await adapt(renderCaddyfile(internalSpec()));
  checkHttpsServer(cfg);
  const ca = cfg.apps.pki.certificate_authorities.local;
  assert.is(ca.install_trust, false);
  assert.equal(ca.root, { certificate: `${INTERNAL_CA_DIR}/root.crt`, private_key: `${INTERNAL_CA_DIR}/intermediate.key` });
  assert.equal(ca.intermediate, { certificate: `${INTERNAL_CA_DIR}/intermediate.crt`, private_key: `${INTERNAL_CA_DIR}/intermediate.key` });
  const [policy] = cfg.apps.tls.automation.policies;
  assert.equal(policy.issuers, [{ module: 'internal' }]);
  assert.equal([...policy.subjects].sort(), ['127.0.0.1', 'localhost']);
});

test('caddy adapt accepts the ACME Caddyfile', async () => {
  const cfg = await adapt(renderCaddyfile(acmeSpec()));
  checkHttpsServer(cfg);
  const issuers = cfg.apps.tls.automation.policies.flatMap((p: any) => p.issuers ?? []);
  const acme = issuers.filter((i: any) => i.module === 'acme');
  assert.ok(acme.length >= 1);
  for (const i of acme) {
    assert.is(i.ca, 'https://pebble.test:14000/dir');
    assert.is(i.email, 'ops@example.com');
    assert.equal(i.trusted_roots_pem_files, [ACME_CA_ROOT_FILE]);
  }
  assert.ok(issuers.some((i: any) => i.module === 'internal'), 'the domain-less app still uses the internal CA');
});

test('caddy validate loads a real internal CA without its root key (Caddy 2.6)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-caddy-ca-'));
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir, missingHint: setupHint('openssl') });
  try {
    await writeFile(join(dir, 'ext.cnf'), '[root]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n[inter]\nbasicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nnameConstraints=critical,permitted;DNS:localhost,permitted;IP:127.0.0.0/255.0.0.0\n');
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'root.key']);
    await openssl(['req', '-new', '-x509', '-days', '30', '-key', 'root.key', '-subj', '/CN=test root', '-config', 'ext.cnf', '-extensions', 'root', '-out', 'root.crt']);
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'intermediate.key']);
    await openssl(['req', '-new', '-key', 'intermediate.key', '-subj', '/CN=test intermediate', '-config', 'ext.cnf', '-out', 'inter.csr']);
    await openssl(['x509', '-req', '-days', '20', '-in', 'inter.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-set_serial', '1', '-extfile', 'ext.cnf', '-extensions', 'inter', '-out', 'intermediate.crt']);
    await rm(join(dir, 'root.key'));
    const caddyfile = renderCaddyfile(internalSpec()).replaceAll(`${INTERNAL_CA_DIR}/`, `${dir}/`).replaceAll(CADDY_STORAGE, join(dir, 'storage'));
    await writeFile(join(dir, 'Caddyfile'), caddyfile);
    const env = { ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') };
    const r = await run('caddy', ['validate', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { allowFail: true, env, timeoutMs: 30_000, missingHint: setupHint('caddy') });
    assert.is(r.code, 0, `caddy validate failed: ${r.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- Caddy's unit

test('caddy.service: D2–D10 directives, one capability', () => {
  const unit = renderCaddyUnit();
  const s = serviceSettings(unit);
  const expect: Record<string, string> = {
    User: 'caddy',
    Group: 'caddy',
    CapabilityBoundingSet: 'CAP_NET_BIND_SERVICE',
    AmbientCapabilities: 'CAP_NET_BIND_SERVICE',
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    PrivateDevices: 'yes',
    DevicePolicy: 'closed',
    ProtectKernelTunables: 'yes',
    ProtectKernelModules: 'yes',
    ProtectKernelLogs: 'yes',
    ProtectControlGroups: 'yes',
    ProtectClock: 'yes',
    ProtectHostname: 'yes',
    ProtectProc: 'invisible',
    ProcSubset: 'pid',
    RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    RestrictNamespaces: 'yes',
    RestrictRealtime: 'yes',
    RestrictSUIDSGID: 'yes',
    LockPersonality: 'yes',
    MemoryDenyWriteExecute: 'yes',
    SystemCallArchitectures: 'native',
    UMask: '0077',
    RemoveIPC: 'yes',
    StateDirectory: 'bulwark/caddy',
    LimitNOFILE: '1048576',
    ExecStart: '/usr/bin/caddy run --environ --config /etc/caddy/Caddyfile --adapter caddyfile',
  };
  for (const [k, v] of Object.entries(expect)) assert.equal(s.get(k), [v], k);
  assert.equal(s.get('SystemCallFilter'), ['@system-service', '~@privileged @resources']);
  assert.not.ok(s.has('ExecReload'), 'admin API is off: no reload');
  assert.ok(s.get('Environment')![0]!.includes(`XDG_CONFIG_HOME=${CADDY_STORAGE}/config`));
  assert.match(unit, /^RequiresMountsFor=\/var\/lib\/bulwark$/m);
  assert.match(unit, /^After=network-online.target bulwark-data.service$/m);
  const files = byPath(renderProxyFiles(internalSpec()));
  assert.is(files.get(`etc/systemd/system/${CADDY_UNIT}`)!.content, unit);
  assert.is(files.get('etc/caddy/Caddyfile')!.mode, 0o644);
});

test('D1: systemd-analyze exposure of caddy.service ≤ 2.0', async () => {
  const level = await offlineExposure(CADDY_UNIT, renderCaddyUnit());
  assert.ok(level <= 2.0, `exposure ${level} > 2.0`);
  assert.ok(level > 0, `exposure ${level}: implausibly low, is the unit read at all?`);
});

test.run();
