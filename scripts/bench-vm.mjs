#!/usr/bin/env node
// VM boot benchmark, side by side in one run (this machine is noisy: read the ratios).
//   bare:   a minimal Debian disk (minbase + kernel, systemd, udev, sshd; Bulwark's GRUB and
//           first-boot units), built the same way: time from QEMU start to sshd's banner;
//   first:  an example's system disk with a blank data disk (formats it, makes host keys,
//           secrets, Caddy's certificate): time to HTTPS 200 on its health path, chain verified;
//   second: the same disk and data disk again: time to HTTPS 200.
// Target: second ≤ 1.2 × bare. Boots alternate within each run; figures are medians of --runs.
// Needs root, QEMU and a built dist/ (npm run build or npx tsc -p .).
// Usage: node scripts/bench-vm.mjs [--runs N] [--app express-hello|django-hello]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => (process.argv.includes(k) ? process.argv[process.argv.indexOf(k) + 1] : d);
const runs = Number(arg('--runs', 2));
const app = arg('--app', 'express-hello');
const { buildBaseDisk } = await import(join(root, 'dist/src/vm/base-disk.js'));
const { bootVm, freeLocalPort, probeAccelerator } = await import(join(root, 'dist/src/vm/qemu.js'));
const { bootSystemDisk, waitHttps } = await import(join(root, 'dist/test/integration/vm-live.js'));

const work = mkdtempSync(join(tmpdir(), 'bulwark-bench-vm-'));
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const s = (ms) => (ms / 1000).toFixed(1);

function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).slice(-1500)}`);
  return r.stdout;
}

/** Resolves when sshd's banner arrives on 127.0.0.1:port. */
async function waitBanner(port, timeoutMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const ok = await new Promise((resolve) => {
      const c = connect({ host: '127.0.0.1', port }, () => undefined);
      c.setTimeout(3000, () => c.destroy());
      c.on('data', (d) => {
        c.destroy();
        resolve(d.toString().startsWith('SSH-'));
      });
      c.on('error', () => resolve(false));
      c.on('close', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('sshd did not answer');
}

try {
  // The system disk of the example (built, or taken from the caches).
  const dir = join(work, app);
  cpSync(join(root, 'examples', app), dir, { recursive: true, filter: (p) => !p.includes('/.bulwark') && !p.includes('node_modules') && !p.endsWith('/data') });
  let t0 = Date.now();
  const built = JSON.parse(sh(process.execPath, [join(root, 'dist/src/cli/main.js'), 'build', dir, '--target', 'qemu', '--json']));
  const buildSecs = (Date.now() - t0) / 1000;
  const disk = built.artifacts.find((a) => a.kind === 'qcow2');
  const ca = readFileSync(disk.caCert);

  // The bare disk.
  t0 = Date.now();
  const bare = await buildBaseDisk({
    suite: 'trixie',
    mirror: 'http://deb.debian.org/debian',
    securityMirror: 'http://deb.debian.org/debian-security',
    sizeMiB: 2048,
    packages: ['grub-pc-bin', 'initramfs-tools', 'linux-image-amd64', 'openssh-server', 'systemd', 'systemd-sysv', 'udev', 'zstd'],
    log: () => undefined,
  });
  const accel = await probeAccelerator({ kernel: bare.kernel.path });
  console.log(`${app}: system disk ${disk.path} (build ${buildSecs.toFixed(1)} s this run); bare disk ${bare.packages.length} packages (${bare.cached ? 'cached' : `built in ${bare.buildSeconds} s`}); accelerator ${accel}`);

  const times = { bare: [], first: [], second: [] };
  for (let i = 0; i < runs; i++) {
    // bare
    const port = await freeLocalPort();
    t0 = Date.now();
    const vm = await bootVm({ disk: bare.qcow2, forwards: [{ host: port, guest: 22 }], memoryMiB: 1024, accel, serialLog: join(work, `bare-${i}.log`), snapshot: true });
    await waitBanner(port, 300_000);
    times.bare.push(Date.now() - t0);
    await vm.kill();
    // first and second boot of the system disk with one data disk
    const data = join(work, `data-${i}.raw`);
    sh('truncate', ['-s', '512M', data]);
    for (const which of ['first', 'second']) {
      const b = await bootSystemDisk({ disk: disk.path, dataDisk: data, accel, serialLog: join(work, `${which}-${i}.log`) });
      await waitHttps(b.https, disk.healthPath, ca, b.vm, 420_000);
      times[which].push(Date.now() - b.startedAt);
      await b.vm.stop({ timeoutMs: 120_000 });
    }
    console.log(`run ${i + 1}: bare to sshd ${s(times.bare[i])} s, first boot to HTTPS ${s(times.first[i])} s, second ${s(times.second[i])} s`);
  }
  const [b, f, sec] = [median(times.bare), median(times.first), median(times.second)];
  console.log(`\nmedian of ${runs}: bare to sshd ${s(b)} s | ${app} first boot to HTTPS ${s(f)} s (${(f / b).toFixed(2)}×) | second boot ${s(sec)} s (${(sec / b).toFixed(2)}×, target ≤ 1.2×)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
