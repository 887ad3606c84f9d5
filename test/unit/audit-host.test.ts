// Unit tests for `bulwark audit` groups B (host), C (TLS and headers) and D (units): small system
// trees built here from Bulwark's own renderers (a passing one, and variants that break one thing
// each), read through offlineView; and checkTls against Node HTTPS servers on 127.0.0.1 with a
// CA, an intermediate and a P-256 leaf made by openssl.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { checkHost, analyseNft, outdatedInstalled } from '../../src/audit/checks-host.js';
import { checkUnits, discoverUnits, parseUnitFiles, capabilitySet } from '../../src/audit/checks-units.js';
import { checkTls, cspProblems, observatoryScore, parseSetCookie } from '../../src/audit/checks-tls.js';
import { offlineView, resolveInRoot } from '../../src/audit/host-view.js';
import { confOrder, parseAptConf, parseSysctlFiles, sysctlValue, resolveAlgorithms, moduliSizes } from '../../src/audit/host-config.js';
import type { CheckResult, CheckStatus } from '../../src/audit/types.js';
import type { DebPackage } from '../../src/lock/archive.js';
import { appUid } from '../../src/names.js';
import { renderAppUnit } from '../../src/render/systemd.js';
import { renderSysctlFiles } from '../../src/render/sysctl.js';
import { renderHardeningFiles } from '../../src/render/host-hardening.js';
import { renderFirewallFiles } from '../../src/render/firewall.js';
import { renderCaddyUnit } from '../../src/render/proxy.js';
import { renderSshdDropIn, SSHD_DROP_IN } from '../../src/vm/base-tree.js';
import { freeLocalPort } from '../../src/vm/qemu.js';
import { samplePlan } from './sample-plan.js';

const isRoot = process.getuid?.() === 0;
const plan = samplePlan();
const [express, django] = plan.apps as [(typeof plan.apps)[0], (typeof plan.apps)[0]];
const UNITS = ['django-notes.service', 'express-hello.service', 'caddy.service'];

interface Entry {
  path: string;
  content?: string;
  link?: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

const dpkgStatus = (pkgs: Array<[string, string]>) =>
  pkgs.map(([n, v]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\n`).join('\n');

const PACKAGES: Array<[string, string]> = [
  ['apparmor', '4.1.0-1'],
  ['caddy', '2.6.2-12'],
  ['nftables', '1.1.3-1'],
  ['openssh-server', '1:10.0p1-7'],
  ['systemd', '257.7-1'],
  ['unattended-upgrades', '2.12'],
];

/** A host tree that should pass every offline B and D check. */
function goodTree(): Entry[] {
  const u = (name: string) => `${name}:x:${appUid(name)}:${appUid(name)}::/nonexistent:/usr/sbin/nologin`;
  return [
    { path: 'etc/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\nID=debian\n' },
    { path: 'etc/passwd', content: ['root:x:0:0:root:/root:/bin/sh', 'caddy:x:999:999::/var/lib/caddy:/usr/sbin/nologin', u('express-hello'), u('django-notes'), ''].join('\n'), mode: 0o644 },
    { path: 'etc/group', content: 'root:x:0:\nshadow:x:42:\ncaddy:x:999:\n', mode: 0o644 },
    { path: 'etc/shadow', content: 'root:*:20000:0:99999:7:::\n', mode: 0o640, gid: 42 },
    { path: 'etc/machine-id', content: '', mode: 0o444 },
    { path: 'var/lib/dpkg/status', content: dpkgStatus(PACKAGES) },
    // systemd's defaults, which Bulwark's drop-in overrides by file name order.
    { path: 'usr/lib/sysctl.d/50-default.conf', content: 'kernel.sysrq = 16\nfs.protected_regular = 1\nfs.protected_fifos = 1\nnet.ipv4.conf.default.rp_filter = 2\n-net.ipv4.conf.all.rp_filter = 2\n' },
    ...renderSysctlFiles(),
    ...renderHardeningFiles(),
    ...renderFirewallFiles(),
    { path: 'etc/ssh/sshd_config', content: 'Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\nX11Forwarding yes\nSubsystem sftp /usr/lib/openssh/sftp-server\n', mode: 0o600 },
    { path: SSHD_DROP_IN, content: renderSshdDropIn(), mode: 0o600 },
    { path: 'etc/ssh/moduli', content: '20240101000000 2 6 100 2047 2 C0FFEE\n' }, // unused: no DH group exchange
    { path: 'usr/lib/systemd/system/tmp.mount', content: '[Mount]\nWhat=tmpfs\nWhere=/tmp\nType=tmpfs\nOptions=mode=1777,strictatime,nosuid,nodev,size=50%%,nr_inodes=1m\n' },
    { path: 'usr/lib/systemd/system/nftables.service', content: '[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n' },
    { path: 'etc/systemd/system/sysinit.target.wants/nftables.service', link: '/usr/lib/systemd/system/nftables.service' },
    { path: 'etc/systemd/system/sysinit.target.wants/apparmor.service', link: '/usr/lib/systemd/system/apparmor.service' },
    { path: 'etc/systemd/system/sysinit.target.wants/bulwark-dev-shm.service', link: '/etc/systemd/system/bulwark-dev-shm.service' },
    { path: 'etc/systemd/system/timers.target.wants/apt-daily.timer', link: '/usr/lib/systemd/system/apt-daily.timer' },
    { path: 'etc/systemd/system/timers.target.wants/apt-daily-upgrade.timer', link: '/usr/lib/systemd/system/apt-daily-upgrade.timer' },
    // The unattended-upgrades package's own file, which Bulwark's #clear replaces.
    { path: 'etc/apt/apt.conf.d/50unattended-upgrades', content: 'Unattended-Upgrade::Origins-Pattern {\n  "origin=Debian,codename=${distro_codename},label=Debian";\n//  "o=Debian,a=proposed";\n};\n' },
    { path: 'boot/grub/grub.cfg', content: 'menuentry Debian {\n\tlinux /boot/vmlinuz-6.12 root=UUID=x ro quiet\n}\n' },
    { path: 'usr/bin/env', content: '#!binary\n', mode: 0o755 },
    { path: 'etc/bulwark/apps/express-hello.env', content: 'NAME=express-hello\n' },
    { path: 'etc/bulwark/apps/django-notes.env', content: 'NAME=django-notes\n' },
    { path: 'etc/systemd/system/express-hello.service', content: renderAppUnit(plan, express) },
    { path: 'etc/systemd/system/django-notes.service', content: renderAppUnit(plan, django) },
    { path: 'etc/systemd/system/caddy.service', content: renderCaddyUnit() },
    { path: 'lib', link: 'usr/lib' },
  ].map((e) => ({ mode: 0o644, ...e }));
}

async function writeTree(root: string, entries: Entry[]): Promise<void> {
  for (const e of entries) {
    const p = join(root, e.path);
    await mkdir(dirname(p), { recursive: true });
    await rm(p, { force: true, recursive: true });
    if (e.link) {
      await symlink(e.link, p);
      continue;
    }
    await writeFile(p, e.content ?? '');
    if (isRoot) await chown(p, e.uid ?? 0, e.gid ?? 0); // before chmod: chown clears setuid
    await chmod(p, e.mode ?? 0o644);
  }
}

let work = '';
let good = '';
const securityIndex = (pkgs: Array<[string, string]> = []) => async (): Promise<DebPackage[]> =>
  pkgs.map(([name, version]) => ({ name, version, arch: 'amd64', source: name, sourceVersion: version, filename: '', sha256: '', size: 0, depends: '', provides: '', suite: 'trixie-security', baseUrl: '' }));

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'bulwark-audit-host-'));
  good = join(work, 'good');
  await writeTree(good, goodTree());
});
test.after(() => rm(work, { recursive: true, force: true }));

const byId = (rs: CheckResult[]) => Object.fromEntries(rs.map((r) => [r.id, r]));
const statusOf = (rs: CheckResult[]): Record<string, CheckStatus> => Object.fromEntries(rs.map((r) => [r.id, r.status]));

/** A copy of the good tree with `changes` applied. */
async function variant(name: string, changes: Entry[], remove: string[] = []): Promise<string> {
  const dir = join(work, name);
  await cp(good, dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  for (const r of remove) await rm(join(dir, r), { force: true, recursive: true });
  await writeTree(dir, changes);
  return dir;
}

const hostChecks = (root: string, index = securityIndex()) => checkHost(offlineView(root), { securityIndex: index });

test('resolveInRoot: absolute symlinks stay inside the tree', async () => {
  assert.is(await resolveInRoot(good, '/lib/systemd/system/tmp.mount'), join(good, 'usr/lib/systemd/system/tmp.mount'));
  assert.is(await resolveInRoot(good, '/etc/systemd/system/sysinit.target.wants/nftables.service'), join(good, 'usr/lib/systemd/system/nftables.service'));
  assert.is(await resolveInRoot(good, '/etc/systemd/system/sysinit.target.wants/nftables.service', false), join(good, 'etc/systemd/system/sysinit.target.wants/nftables.service'));
  assert.is(await resolveInRoot(good, '/../../etc/passwd'), join(good, 'etc/passwd'));
  const v = offlineView(good);
  assert.match((await v.readFile('/lib/systemd/system/tmp.mount'))!.toString(), /Where=\/tmp/);
  assert.is((await v.stat('/etc/systemd/system/sysinit.target.wants/nftables.service', { follow: false }))!.isSymlink, true);
  assert.is(await v.readFile('/etc/nope'), null);
});

test('B: the good tree passes (B3 warns for prohibit-password, B11 without nft, B15 without Lynis)', async () => {
  const rs = await hostChecks(good);
  const s = statusOf(rs);
  const r = byId(rs);
  for (const id of ['B1', 'B2', 'B4', 'B5', 'B7', 'B8', 'B9', 'B10', 'B12', 'B13', 'B14']) assert.is(s[id], 'pass', `${id}: ${r[id]!.evidence}`);
  if (isRoot) assert.is(s.B6, 'pass', r.B6!.evidence);
  assert.is(s.B3, 'warn', r.B3!.evidence);
  assert.match(r.B3!.evidence, /no setuid binary/);
  assert.match(r.B4!.evidence, /moduli unused/);
  assert.match(r.B9!.evidence, /remount by bulwark-dev-shm\.service/);
  assert.match(r.B9!.evidence, /tmp\.mount\.d\/90-bulwark\.conf/);
  assert.match(r.B11!.evidence, /546 from link-local/);
  assert.ok(['pass', 'warn'].includes(s.B11!), r.B11!.evidence);
  assert.is(s.B15, 'warn');
  assert.match(r.B15!.evidence, /not run/);
  assert.is(rs.length, 15);
});

test('B1/B2: a later file or a missing key fails; a same-named /etc file hides /usr/lib', async () => {
  const hidden = await variant('sysctl-hidden', [{ path: 'usr/lib/sysctl.d/90-bulwark.conf', content: 'kernel.sysrq = 1\n' }]);
  assert.is(statusOf(await hostChecks(hidden)).B1, 'pass', '/etc/sysctl.d/90-bulwark.conf hides the /usr/lib one');
  const later = await variant('sysctl-later', [{ path: 'etc/sysctl.d/99-local.conf', content: 'kernel.sysrq = 1\nnet/ipv4/ip_forward = 1\n' }]);
  const r = byId(await hostChecks(later));
  assert.is(r.B1!.status, 'fail');
  assert.match(r.B1!.evidence, /kernel\.sysrq=1 \(\/etc\/sysctl\.d\/99-local\.conf\)/);
  assert.is(r.B2!.status, 'fail');
  assert.match(r.B2!.evidence, /ip_forward=1/);
  const gone = await variant('sysctl-gone', [], ['etc/sysctl.d']);
  const g = byId(await hostChecks(gone));
  assert.is(g.B1!.status, 'fail');
  assert.match(g.B1!.evidence, /kernel\.sysrq=16 \(\/usr\/lib\/sysctl\.d\/50-default\.conf\)/);
  assert.match(g.B2!.evidence, /rp_filter=2/);
});

test('B3/B4: sshd first value wins; yes, passwords and weak algorithms fail', async () => {
  const bad = await variant('sshd-bad', [
    { path: 'etc/ssh/sshd_config.d/05-local.conf', content: 'PermitRootLogin yes\nPasswordAuthentication yes\nKexAlgorithms +diffie-hellman-group-exchange-sha256\nMACs hmac-sha1\n', mode: 0o600 },
    { path: 'etc/ssh/moduli', content: '20240101000000 2 6 100 2047 2 C0FFEE\n20240101000000 2 6 100 4095 2 C0FFEE\n' },
  ]);
  const r = byId(await hostChecks(bad));
  assert.is(r.B3!.status, 'fail');
  assert.match(r.B3!.evidence, /permitrootlogin yes/);
  assert.match(r.B3!.evidence, /passwordauthentication yes/);
  assert.is(r.B4!.status, 'fail');
  assert.match(r.B4!.evidence, /MACs hmac-sha1/);
  assert.match(r.B4!.evidence, /KEX ecdh-sha2-nistp256/, '+ appends to the default list');
  assert.match(r.B4!.evidence, /1 groups < 3072 bits/);
  assert.equal(resolveAlgorithms('-ecdh-*', ['a', 'ecdh-sha2-nistp256']), ['a']);
  assert.equal(moduliSizes('# c\n1 2 6 100 3071 2 FF\n'), [3072]);
});

test('B5, B7: host keys, machine-id and a setuid binary in the image fail (and B3 no longer warns)', async () => {
  const bad = await variant('identity', [
    { path: 'etc/ssh/ssh_host_ed25519_key', content: 'KEY', mode: 0o600 },
    { path: 'etc/machine-id', content: '0123456789abcdef0123456789abcdef\n' },
    { path: 'usr/bin/su', content: 'x', mode: 0o4755 },
  ]);
  const r = byId(await hostChecks(bad));
  assert.is(r.B5!.status, 'fail');
  assert.match(r.B5!.evidence, /ssh_host_ed25519_key/);
  assert.match(r.B5!.evidence, /machine-id is set/);
  assert.is(r.B7!.status, 'fail');
  assert.match(r.B7!.evidence, /\/usr\/bin\/su/);
  assert.is(r.B3!.status, 'fail', 'prohibit-password is accepted only without setuid binaries');
});

test('B6, B8, B9, B10, B12, B13, B14: one break each', async () => {
  const bad = await variant(
    'misc',
    [
      { path: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n', mode: 0o666 },
      { path: 'var/lib/dpkg/status', content: dpkgStatus([...PACKAGES.filter(([n]) => n !== 'unattended-upgrades'), ['telnetd', '0.17'], ['systemd-coredump', '257.7-1']]) },
      { path: 'etc/modprobe.d/90-bulwark.conf', content: 'install cramfs /bin/false\nblacklist sctp\n' },
      { path: 'etc/systemd/coredump.conf.d/90-bulwark.conf', content: '[Coredump]\nStorage=external\n' },
      { path: 'boot/grub/grub.cfg', content: '\tlinux /boot/vmlinuz root=UUID=x ro apparmor=0\n' },
    ],
    ['etc/systemd/system/tmp.mount.d', 'etc/systemd/system/timers.target.wants/apt-daily.timer'],
  );
  const r = byId(await hostChecks(bad, securityIndex([['openssh-server', '1:10.0p1-7+deb13u1'], ['systemd', '257.6-1']])));
  if (isRoot) {
    assert.is(r.B6!.status, 'fail');
    assert.match(r.B6!.evidence, /\/etc\/passwd 0666/);
  }
  assert.is(r.B8!.status, 'fail');
  assert.match(r.B8!.evidence, /telnetd/);
  assert.is(r.B9!.status, 'fail');
  assert.match(r.B9!.evidence, /freevxfs/);
  assert.match(r.B9!.evidence, /\/tmp lacks noexec/);
  assert.is(r.B10!.status, 'fail');
  assert.match(r.B10!.evidence, /Storage=external/);
  assert.is(r.B12!.status, 'fail');
  assert.match(r.B12!.evidence, /unattended-upgrades not installed/);
  assert.match(r.B12!.evidence, /apt-daily\.timer not enabled/);
  assert.is(r.B13!.status, 'fail');
  assert.match(r.B13!.evidence, /apparmor=0/);
  assert.is(r.B14!.status, 'fail');
  assert.match(r.B14!.evidence, /openssh-server 1:10\.0p1-7 < 1:10\.0p1-7\+deb13u1/);
  assert.not.match(r.B14!.evidence, /systemd/, 'an older -security version is no finding');
  // The archive cannot be reached: a warning, not a pass.
  const w = byId(await hostChecks(good, async () => Promise.reject(new Error('cannot reach the Debian mirror'))));
  assert.is(w.B14!.status, 'warn');
  assert.match(w.B14!.evidence, /not checked/);
});

test('B11: policy accept, extra ports, no forward chain, not enabled', async () => {
  const bad = await variant(
    'nft-bad',
    [{ path: 'etc/nftables.conf', content: 'table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport { 22, 8080 } accept\n    udp dport 53 accept\n  }\n}\n' }],
    ['etc/systemd/system/sysinit.target.wants/nftables.service'],
  );
  const r = byId(await hostChecks(bad));
  assert.is(r.B11!.status, 'fail');
  assert.match(r.B11!.evidence, /policy accept/);
  assert.match(r.B11!.evidence, /no forward chain/);
  assert.match(r.B11!.evidence, /opens 8080, 53/);
  assert.match(r.B11!.evidence, /nftables\.service not enabled/);
  assert.equal(analyseNft('table ip t { chain c { type filter hook input priority 0; policy drop; ip saddr 10.0.0.0/8 accept } chain f { type filter hook forward priority 0; policy drop; } }').problems, ['accepts without a port: "ip saddr 10.0.0.0/8 accept"']);
});

test('parsers: sysctl order and globs, APT configuration', () => {
  assert.equal(confOrder([['/etc/sysctl.d', ['90-b.conf', 'x.txt']], ['/usr/lib/sysctl.d', ['50-default.conf', '90-b.conf']]], '/etc/sysctl.conf'), ['/usr/lib/sysctl.d/50-default.conf', '/etc/sysctl.d/90-b.conf', '/etc/sysctl.conf']);
  const p = parseSysctlFiles([{ file: 'a', text: 'net.ipv4.conf.*.rp_filter = 2\nnet.ipv4.conf.all.rp_filter = 1\n' }, { file: 'b', text: 'net.ipv4.conf.*.rp_filter = 0\n' }]);
  assert.is(sysctlValue(p, 'net.ipv4.conf.all.rp_filter')!.value, '1', 'an explicit key beats a later glob');
  assert.is(sysctlValue(p, 'net.ipv4.conf.default.rp_filter')!.value, '0');
  const apt = parseAptConf(['APT { Periodic { Unattended-Upgrade "1"; }; };\nUnattended-Upgrade::Origins-Pattern { "a"; "b"; };\n#clear Unattended-Upgrade::Origins-Pattern;\nUnattended-Upgrade::Origins-Pattern:: "c";\n// x "d";\n']);
  assert.equal(apt.get('APT::Periodic::Unattended-Upgrade'), ['1']);
  assert.equal(apt.get('Unattended-Upgrade::Origins-Pattern'), ['c']);
  assert.equal(outdatedInstalled(new Map([['a', { name: 'a', version: '1.0', arch: 'amd64', status: '' }]]), [{ name: 'a', version: '1.1', arch: 'all' } as DebPackage]), [{ name: 'a', installed: '1.0', fixed: '1.1' }]);
});

// ---------------------------------------------------------------------------------------------
// D: units

test('D: the rendered app units and the Caddy unit pass', async () => {
  const v = offlineView(good);
  assert.equal(await discoverUnits(v), UNITS);
  const rs = await checkUnits(v, UNITS);
  const r = byId(rs);
  assert.is(rs.length, 10);
  for (const id of ['D2', 'D3', 'D4', 'D5', 'D6', 'D7', 'D8', 'D9', 'D10']) assert.is(r[id]!.status, 'pass', `${id}: ${r[id]!.evidence}`);
  const version = await run('systemd-analyze', ['--version'], { allowFail: true }).catch(() => null);
  if (version && Number(/systemd (\d+)/.exec(version.stdout)?.[1] ?? 0) >= 250) {
    assert.is(r.D1!.status, 'pass', r.D1!.evidence);
    assert.match(r.D1!.evidence, /caddy\.service \d/);
  } else console.log('  (D1 not measured: systemd-analyze ≥ 250 not available)');
});

test('D: broken units fail the right checks, naming the unit', async () => {
  const unit = renderAppUnit(plan, express)
    .replace(/^# MemoryDenyWriteExecute= stays off.*\n.*\n/m, '')
    .replace('CapabilityBoundingSet=\n', 'CapabilityBoundingSet=CAP_SYS_ADMIN\n')
    .replace('ProtectSystem=strict', 'ProtectSystem=full\nReadWritePaths=/etc')
    .replace('PrivateUsers=yes\n', '')
    .replace('SystemCallFilter=~@privileged\n', '')
    .replace('IPAddressAllow=localhost', 'IPAddressAllow=any');
  const dir = await variant('units-bad', [
    { path: 'etc/systemd/system/express-hello.service', content: unit },
    // A drop-in: later assignments win, an empty one resets a list.
    { path: 'etc/systemd/system/django-notes.service.d/50-local.conf', content: '[Service]\nDynamicUser=yes\nPrivateUsers=no\nRestrictAddressFamilies=\nRestrictAddressFamilies=AF_INET AF_NETLINK\nMemoryDenyWriteExecute=no\n' },
    { path: 'etc/systemd/system/caddy.service.d/50-local.conf', content: '[Service]\nReadWritePaths=/var/lib/bulwark/caddy /srv\nAmbientCapabilities=CAP_NET_ADMIN\n' },
  ]);
  const r = byId(await checkUnits(offlineView(dir), UNITS));
  assert.is(r.D2!.status, 'fail');
  assert.match(r.D2!.evidence, /django-notes\.service: DynamicUser=yes/);
  assert.is(r.D3!.status, 'fail');
  assert.match(r.D3!.evidence, /express-hello\.service: CapabilityBoundingSet=CAP_SYS_ADMIN/);
  assert.match(r.D3!.evidence, /caddy\.service: AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_ADMIN/, 'a drop-in adds to the list');
  assert.is(r.D4!.status, 'fail');
  assert.match(r.D4!.evidence, /express-hello\.service: ProtectSystem=full, ReadWritePaths=\/etc/);
  assert.match(r.D4!.evidence, /caddy\.service: ReadWritePaths=\/srv/);
  assert.is(r.D6!.status, 'fail');
  assert.match(r.D6!.evidence, /django-notes\.service: RestrictAddressFamilies=AF_INET AF_NETLINK/);
  assert.is(r.D7!.status, 'fail');
  assert.match(r.D7!.evidence, /@privileged not denied/);
  assert.is(r.D8!.status, 'fail');
  assert.match(r.D8!.evidence, /django-notes\.service: PrivateUsers not yes/);
  assert.not.match(r.D8!.evidence, /express-hello/, 'it holds CAP_SYS_ADMIN (a D3 finding): PrivateUsers not required');
  assert.not.match(r.D8!.evidence, /caddy/, 'the proxy holds a capability: PrivateUsers not required');
  assert.is(r.D9!.status, 'fail');
  assert.match(r.D9!.evidence, /IPAddressAllow=any/);
  assert.is(r.D10!.status, 'fail');
  assert.match(r.D10!.evidence, /express-hello\.service: Node\.js unit .* \(JIT\)/);
  assert.match(r.D10!.evidence, /django-notes\.service: MemoryDenyWriteExecute not yes/);
  assert.is(r.D5!.status, 'pass');

  const missing = byId(await checkUnits(offlineView(good), ['nope.service'], { skipExposure: true }));
  assert.is(missing.D2!.status, 'fail');
  assert.match(missing.D2!.evidence, /unit file not found: nope\.service/);
});

test('D3: capability sets as systemd combines them', () => {
  const u = (lines: string) => parseUnitFiles('x.service', [{ file: 'x', text: `[Service]\n${lines}` }]);
  assert.equal(capabilitySet(u('CapabilityBoundingSet=CAP_A CAP_B\nCapabilityBoundingSet=~CAP_B'), 'CapabilityBoundingSet'), { all: false, caps: new Set(['CAP_A']) });
  assert.equal(capabilitySet(u('CapabilityBoundingSet=~CAP_SYS_ADMIN'), 'CapabilityBoundingSet'), { all: true, caps: new Set(['CAP_SYS_ADMIN']) });
  assert.equal(capabilitySet(u('CapabilityBoundingSet=CAP_A\nCapabilityBoundingSet='), 'CapabilityBoundingSet'), { all: false, caps: new Set() });
  assert.is(capabilitySet(u('User=x'), 'CapabilityBoundingSet'), null);
});

// ---------------------------------------------------------------------------------------------
// C: TLS and headers

let pki: { root: string; chain: string; leafOnly: string; key: string } | null = null;

async function makePki(): Promise<NonNullable<typeof pki>> {
  const d = join(work, 'pki');
  await mkdir(d, { recursive: true });
  const o = (args: string[]) => run('openssl', args, { cwd: d, timeoutMs: 30_000 });
  const ext = async (name: string, lines: string[]) => writeFile(join(d, name), lines.join('\n') + '\n');
  for (const k of ['root', 'int', 'leaf']) await o(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${k}.key`]);
  await ext('int.ext', ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid']);
  await ext('leaf.ext', ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1', 'authorityKeyIdentifier=keyid']);
  await o(['req', '-x509', '-new', '-key', 'root.key', '-subj', '/CN=Bulwark Test Root', '-days', '2', '-out', 'root.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await o(['req', '-new', '-key', 'int.key', '-subj', '/CN=Bulwark Test Intermediate', '-out', 'int.csr']);
  await o(['x509', '-req', '-in', 'int.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-set_serial', '2', '-days', '2', '-extfile', 'int.ext', '-out', 'int.crt']);
  await o(['req', '-new', '-key', 'leaf.key', '-subj', '/CN=localhost', '-out', 'leaf.csr']);
  await o(['x509', '-req', '-in', 'leaf.csr', '-CA', 'int.crt', '-CAkey', 'int.key', '-set_serial', '3', '-days', '2', '-extfile', 'leaf.ext', '-out', 'leaf.crt']);
  const r = (f: string) => readFile(join(d, f), 'utf8');
  return { root: await r('root.crt'), chain: (await r('leaf.crt')) + (await r('int.crt')), leafOnly: await r('leaf.crt'), key: await r('leaf.key') };
}

const GOOD_HEADERS: Record<string, string> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  Server: 'Caddy',
};

async function listen(server: http.Server | https.Server): Promise<number> {
  const port = await freeLocalPort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return port;
}

test('C: a proxy set up right passes C1–C10', async () => {
  pki ??= await makePki();
  const server = https.createServer(
    { cert: pki.chain, key: pki.key, minVersion: 'TLSv1.2', ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305' },
    (req, res) => {
      for (const [k, v] of Object.entries(GOOD_HEADERS)) res.setHeader(k, v);
      if (req.url === '/') res.setHeader('Set-Cookie', ['sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax', 'csrftoken=x; Path=/; Secure; SameSite=Strict']);
      res.statusCode = req.url === '/' || req.url === '/healthz' ? 200 : 404;
      res.end('ok');
    },
  );
  const httpsPort = await listen(server);
  const redirect = http.createServer((req, res) => {
    res.writeHead(308, { Location: `https://localhost:${httpsPort}${req.url}` });
    res.end();
  });
  const httpPort = await listen(redirect);
  try {
    const rs = await checkTls({ httpsPort, httpPort, servername: 'localhost', ca: pki.root });
    const r = byId(rs);
    assert.is(rs.length, 10);
    for (const id of ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'C8', 'C9', 'C10']) assert.is(r[id]!.status, 'pass', `${id}: ${r[id]!.evidence}`);
    assert.match(r.C2!.evidence, /negotiates TLS_ECDHE_ECDSA_WITH_(AES_\d+_GCM|CHACHA20)/);
    assert.match(r.C5!.evidence, /ECDSA P-256; verifies against the given CA; chain of 2/);
    assert.match(r.C9!.evidence, /2 cookie/);
    assert.match(r.C10!.evidence, /score 1[0-9]{2}/);
  } finally {
    server.close();
    redirect.close();
  }
});

test('C: a proxy with old TLS, CBC, no intermediate and no headers fails', async () => {
  pki ??= await makePki();
  const server = https.createServer({ cert: pki.leafOnly, key: pki.key, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, (req, res) => {
    res.setHeader('X-Powered-By', 'Express');
    res.setHeader('Server', 'nginx/1.22.1');
    res.setHeader('Set-Cookie', 'connect.sid=s%3Aabc; Path=/');
    res.end('ok');
  });
  const httpsPort = await listen(server);
  const plain = http.createServer((_req, res) => res.end('plain'));
  const httpPort = await listen(plain);
  try {
    const r = byId(await checkTls({ httpsPort, httpPort, ca: pki.root }));
    for (const id of ['C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'C8', 'C9', 'C10']) assert.is(r[id]!.status, 'fail', `${id}: ${r[id]!.evidence}`);
    assert.ok(r.C1!.status === 'fail' || r.C1!.status === 'warn', r.C1!.evidence);
    if (r.C1!.status === 'fail') assert.match(r.C1!.evidence, /accepts TLSv1/);
    assert.match(r.C2!.evidence, /accepts .*ECDHE-ECDSA-AES128-SHA/);
    assert.match(r.C4!.evidence, /HTTP answers 200/);
    assert.match(r.C5!.evidence, /chain does not verify|leaf only/);
    assert.match(r.C7!.evidence, /X-Powered-By: Express/);
    assert.match(r.C7!.evidence, /nginx\/1\.22\.1/);
    assert.match(r.C9!.evidence, /connect\.sid without Secure/);
  } finally {
    server.close();
    plain.close();
  }
});

test('C6, C9, C10: rules on strings', () => {
  assert.equal(cspProblems(GOOD_HEADERS['Content-Security-Policy']), []);
  assert.ok(cspProblems("default-src 'self'; script-src 'self' 'unsafe-inline'").some((p) => /unsafe-inline/.test(p)));
  assert.equal(cspProblems("default-src 'none'; script-src 'nonce-abc' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"), [], 'unsafe-inline is ignored next to a nonce');
  assert.equal(parseSetCookie('a=b; Secure; HttpOnly; SameSite=Strict'), { name: 'a', secure: true, httpOnly: true, sameSite: 'Strict' });
  const h = (n: string) => Object.entries(GOOD_HEADERS).find(([k]) => k.toLowerCase() === n)?.[1];
  assert.is(observatoryScore({ headers: h, cookies: [], redirect: 'https-same-host' }).score, 120);
  assert.is(observatoryScore({ headers: () => undefined, cookies: [], redirect: 'none' }).score, 100 - 25 - 20 - 20 - 5 - 20);
});

test.run();
