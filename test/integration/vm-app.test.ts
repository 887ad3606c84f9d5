// Integration: `bulwark build --target qemu` for both examples, each disk booted in QEMU (TCG
// here) with a blank data disk, and checked from this machine on 127.0.0.1 only:
//  - HTTPS through Caddy with a chain that verifies against the exported CA, the headers of
//    SECURITY-CHECKS C, HTTP → HTTPS redirect;
//  - over SSH (ssh2, the key Bulwark made): unit exposure, sshd -T, the nftables policies,
//    sysctl values, no setuid files, the data disk mounted, an unattended-upgrades dry run;
//  - `bulwark audit` offline on the disk file and live on the booted VM: zero failures;
//  - a note written through the app survives a reboot (Express) and a swap to a freshly built
//    system disk with the same data disk (both), with the same SSH host key.
// Boot times are printed: first boot (formats the data disk) and second boot, to HTTPS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { sha256File } from '../../src/build/layer-tar.js';
import { probeAccelerator, type Accelerator } from '../../src/vm/qemu.js';
import { bulwark, example, withTimeout } from '../helpers.js';
import { bootSystemDisk, exposure, httpCall, httpsCall, sshTo, waitHttps, type BootedVm } from './vm-live.js';
import type { Artifact } from '../../src/types.js';

const secs = (ms: number) => (ms / 1000).toFixed(1);
const mib = (bytes: number) => `${Math.round(bytes / 1048576)} MiB`;

interface Case {
  app: string;
  health: string;
  notes: string;
  page: RegExp;
  /** A file to touch for "a new release of the app". */
  sourceFile: string;
  /** Also reboot the same system disk (one example is enough: each boot costs ~40 s here). */
  reboot: boolean;
}

const cases: Case[] = [
  { app: 'express-hello', health: '/healthz', notes: '/notes', page: /Hello from express-hello/, sourceFile: 'server.js', reboot: true },
  { app: 'django-hello', health: '/healthz/', notes: '/notes/', page: /Hello from django-hello/, sourceFile: 'notes/views.py', reboot: false },
];

let accel: Accelerator | null = null;

async function buildDisk(dir: string): Promise<{ qcow2: Artifact; raw: Artifact; seconds: number }> {
  const t0 = Date.now();
  const r = await bulwark(['build', dir, '--target', 'qemu', '--json'], { timeoutMs: 1_200_000 });
  assert.is(r.code, 0, r.stderr.slice(-2000));
  const out = JSON.parse(r.stdout) as { artifacts: Artifact[] };
  const qcow2 = out.artifacts.find((a) => a.kind === 'qcow2')!;
  const raw = out.artifacts.find((a) => a.kind === 'raw')!;
  assert.ok(qcow2 && raw, 'qcow2 and raw artifacts');
  return { qcow2, raw, seconds: (Date.now() - t0) / 1000 };
}

// BULWARK_VM_CASES=express-hello runs one example (while working on it); the suite runs both.
const only = process.env.BULWARK_VM_CASES?.split(',');
for (const c of cases.filter((x) => !only || only.includes(x.app))) {
  test(`${c.app} VM: built disk boots, serves HTTPS with the exported CA, passes the audit, keeps its data`, () =>
    withTimeout(1_500_000, async (cleanup) => {
      const work = await mkdtemp(join(tmpdir(), `bulwark-vm-${c.app}-`));
      cleanup(() => rm(work, { recursive: true, force: true }));
      const dir = join(work, c.app);
      await cp(example(c.app), dir, { recursive: true, filter: (p) => !p.includes('/.bulwark') && !p.includes('node_modules') && !p.endsWith('/data') });

      // Build: the disk, its raw twin for the clouds, checksums, the CA next to it.
      const built = await buildDisk(dir);
      const { qcow2, raw } = built;
      assert.is(await sha256File(qcow2.path!), qcow2.sha256, 'qcow2 sha256 as recorded');
      assert.is(await sha256File(raw.path!), raw.sha256, 'raw sha256 as recorded');
      assert.ok(qcow2.caCert, 'the internal CA is exported next to the disk');
      const ca = await readFile(qcow2.caCert!);
      const manifest = JSON.parse(await readFile(join(dir, '.bulwark', 'artifacts.json'), 'utf8')) as { artifacts: Artifact[] };
      assert.ok(manifest.artifacts.some((a) => a.kind === 'qcow2' && a.path === qcow2.path), 'recorded in artifacts.json');
      const rawAllocated = (await stat(raw.path!)).blocks * 512;
      console.log(`  (${c.app}: disk built in ${built.seconds.toFixed(1)} s; qcow2 ${mib((await stat(qcow2.path!)).size)}, raw ${mib((await stat(raw.path!)).size)} (${mib(rawAllocated)} allocated))`);
      const key = join(dir, '.bulwark', 'ssh', 'admin_ed25519');
      const diskManifest = JSON.parse(await readFile(join(dirname(qcow2.path!), 'manifest.json'), 'utf8')) as { rootUuid: string; kernel: string; baseKey: string };

      // The partition table as sfdisk reads it: one bootable Linux partition from 1 MiB (BIOS GRUB
      // sits in the gap before it), on the raw disk the clouds import.
      const table = JSON.parse((await run('sfdisk', ['--json', raw.path!])).stdout).partitiontable;
      assert.is(table.label, 'dos');
      assert.is(table.partitions.length, 1);
      assert.is(table.partitions[0].start, 2048);
      assert.is(table.partitions[0].bootable, true);

      // Offline audit of the disk file: B and D without booting.
      const offline = await bulwark(['audit', '--disk', qcow2.path!, '--json'], { timeoutMs: 600_000 });
      const offlineReport = JSON.parse(offline.stdout || '{}');
      const offFailed = (offlineReport.results ?? []).filter((r: { status: string }) => r.status === 'fail');
      assert.is(offFailed.length, 0, `offline audit failures: ${JSON.stringify(offFailed, null, 1)}`);
      assert.is(offline.code, 0, offline.stderr);

      // Probe KVM with the disk's own kernel (kept in the base disk's cache entry).
      const baseDir = diskManifest.baseKey;
      const kernel = (await readdir(baseDir)).find((f) => f.startsWith('vmlinuz-'));
      accel ??= await probeAccelerator({ kernel: kernel ? join(baseDir, kernel) : undefined, log: (l) => console.log(`  ${l}`) });
      const dataDisk = join(work, 'data.raw');
      await run('truncate', ['-s', '512M', dataDisk]);
      let boot = 0;
      const start = async (disk: string): Promise<BootedVm & { toHttps: number }> => {
        const b = await bootSystemDisk({ disk, dataDisk, accel: accel!, serialLog: join(work, `serial-${++boot}.log`) });
        cleanup(() => b.vm.kill());
        try {
          await waitHttps(b.https, c.health, ca, b.vm, 420_000);
        } catch (e) {
          const tail = (await readFile(b.vm.serialLog, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
          throw new Error(`${(e as Error).message}\n${tail}`);
        }
        return { ...b, toHttps: Date.now() - b.startedAt };
      };

      // First boot: formats the data disk, makes the host keys and the app's secrets.
      const first = await start(qcow2.path!);
      const page = await httpsCall(first.https, '/', ca);
      assert.is(page.status, 200);
      assert.match(page.body, c.page);
      assert.is(page.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains');
      assert.match(String(page.headers['content-security-policy']), /object-src 'none'/);
      assert.is(page.headers['x-content-type-options'], 'nosniff');
      assert.is(page.headers['server'], undefined, 'no Server header');
      for (const cookie of [page.headers['set-cookie'] ?? []].flat()) assert.match(cookie, /; Secure/, `cookie ${cookie} is Secure`);
      const redirect = await httpCall(first.http, '/some/path?x=1');
      assert.ok([301, 308].includes(redirect.status), `HTTP answers ${redirect.status}`);
      assert.is(redirect.headers.location, 'https://localhost/some/path?x=1');
      const note = `written before the reboot ${Date.now()}`;
      const posted = await httpsCall(first.https, c.notes, ca, { method: 'POST', json: { text: note } });
      assert.is(posted.status, 201, posted.body);

      const s = await sshTo(first, key);
      const sh = async (cmd: string) => {
        const r = await s.exec(cmd, { timeoutMs: 300_000 });
        return r.stdout.trim();
      };
      const fingerprint = s.hostKeySha256;
      try {
        const appExposure = exposure(await sh(`systemd-analyze security ${c.app}.service`));
        const proxyExposure = exposure(await sh('systemd-analyze security caddy.service'));
        console.log(`  (${c.app}: exposure app ${appExposure}, caddy ${proxyExposure})`);
        assert.ok(appExposure <= 1.5, `app unit exposure ${appExposure}`);
        assert.ok(proxyExposure <= 2.0, `caddy unit exposure ${proxyExposure}`);
        const sshd = new Map((await sh('sshd -T')).split('\n').map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)] as const));
        assert.is(sshd.get('passwordauthentication'), 'no');
        assert.is(sshd.get('authenticationmethods'), 'publickey');
        assert.is(sshd.get('maxauthtries'), '2');
        assert.is(sshd.get('x11forwarding'), 'no');
        const ruleset = await sh('nft list ruleset');
        assert.match(ruleset, /chain input \{[^}]*policy drop;/);
        assert.match(ruleset, /chain forward \{[^}]*policy drop;/);
        assert.is(await sh('sysctl -n kernel.kptr_restrict net.ipv4.conf.all.rp_filter net.ipv4.ip_forward fs.suid_dumpable'), '2\n1\n0\n0');
        assert.is(await sh('find / -xdev -type f -perm /6000 2>/dev/null | head'), '', 'no setuid/setgid files');
        assert.match(await sh('findmnt -no SOURCE,OPTIONS /var/lib/bulwark'), /^\/dev\/vdb .*noexec/);
        assert.match(await sh(`findmnt -no SOURCE /var/lib/${c.app}`), /vdb/);
        assert.is(await sh(`stat -c '%a %U' /var/lib/bulwark/secrets/${c.app}.env`), '600 root');
        assert.match(await sh('findmnt -no OPTIONS /tmp'), /noexec/);
        assert.is(await sh('cat /sys/module/apparmor/parameters/enabled'), 'Y');
        // The installed kernel, the root file system by UUID, identity made at this first boot.
        assert.is(await sh('uname -r'), diskManifest.kernel);
        assert.is(await sh('findmnt -n -o UUID,FSTYPE /'), `${diskManifest.rootUuid} ext4`);
        assert.match(await sh('cat /etc/machine-id'), /^[0-9a-f]{32}$/);
        assert.is(await sh('ls /var/lib/bulwark/ssh/ | grep "^ssh_host_.*_key$" | sort | tr "\\n" " "'), 'ssh_host_ecdsa_key ssh_host_ed25519_key');
        assert.is(await sh('systemctl is-active bulwark-ssh-host-keys.service bulwark-data.service systemd-networkd.service | sort -u'), 'active');
        const uu = await s.exec('unattended-upgrade --dry-run --debug 2>&1; echo "exit=$?"', { timeoutMs: 300_000 });
        assert.match(uu.stdout, /exit=0\s*$/, `unattended-upgrade --dry-run: ${uu.stdout.slice(-600)}`);
        assert.match(uu.stdout, /trixie-security/);
      } finally {
        s.close();
      }

      // The live audit: B and D over SSH, C against the forwarded HTTPS port.
      const caFile = qcow2.caCert!;
      const live = await bulwark(['audit', '--vm', `127.0.0.1:${first.ssh}`, '--key', key, '--https-port', String(first.https), '--http-port', String(first.http), '--servername', 'localhost', '--ca', caFile, '--json'], { timeoutMs: 600_000 });
      const liveReport = JSON.parse(live.stdout || '{}');
      const results = (liveReport.reports ?? [liveReport]).flatMap((r: { results?: unknown[] }) => r.results ?? []) as Array<{ id: string; status: string; evidence: string }>;
      const failed = results.filter((r) => r.status === 'fail');
      console.log(`  (${c.app}: live audit ${results.filter((r) => r.status === 'pass').length} passed, ${failed.length} failed, ${results.filter((r) => r.status === 'warn').length} warnings)`);
      assert.is(failed.length, 0, `live audit failures: ${JSON.stringify(failed, null, 1)}`);
      assert.ok(results.some((r) => r.id === 'C1') && results.some((r) => r.id === 'B11') && results.some((r) => r.id === 'D1'), 'groups B, C and D ran');
      const t1 = Date.now();
      await first.vm.stop({ timeoutMs: 120_000 });
      assert.not.ok(first.vm.running());
      console.log(`  (${c.app}: first boot to HTTPS ${secs(first.toHttps)} s under ${accel}; ACPI power-off ${secs(Date.now() - t1)} s)`);

      // Second boot of the same disk: the data disk is already there.
      if (c.reboot) {
        const second = await start(qcow2.path!);
        console.log(`  (${c.app}: second boot to HTTPS ${secs(second.toHttps)} s)`);
        const list = await httpsCall(second.https, c.notes, ca);
        assert.ok(list.body.includes(note), `the note survived the reboot: ${list.body}`);
        await second.vm.stop({ timeoutMs: 120_000 });
      }

      // A new release of the app: a new system disk, booted with the old data disk.
      await appendFile(join(dir, c.sourceFile), c.app.startsWith('express') ? '\n// release 2\n' : '\n# release 2\n');
      const rebuilt = await buildDisk(dir);
      assert.is.not(rebuilt.qcow2.sha256, qcow2.sha256, 'a new system disk');
      console.log(`  (${c.app}: new release's disk built in ${rebuilt.seconds.toFixed(1)} s)`);
      const swapped = await start(rebuilt.qcow2.path!);
      console.log(`  (${c.app}: boot of the new disk with the old data disk, to HTTPS ${secs(swapped.toHttps)} s)`);
      const list = await httpsCall(swapped.https, c.notes, ca);
      assert.ok(list.body.includes(note), `the note survived the swap: ${list.body}`);
      const s2 = await sshTo(swapped, key);
      try {
        assert.is(s2.hostKeySha256, fingerprint, 'the same SSH host key (kept on the data disk)');
      } finally {
        s2.close();
      }
      await swapped.vm.stop({ timeoutMs: 120_000 });
    }),
  );
}

test.run();
