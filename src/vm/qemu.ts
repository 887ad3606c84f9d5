// Booting Bulwark's disks in QEMU on this machine: headless, the serial console to a file, virtio
// disks, and user-mode networking whose only ways in are forwards bound to 127.0.0.1 (and, unless
// asked, no way out: the guest reaches nothing beyond QEMU's own DHCP). Every QEMU is spawned
// through proc.ts, in its own process group, killed with that group on stop, on cancel, when its
// lifetime runs out, and by the kernel if this process dies first (setpriv --pdeathsig).
import { existsSync } from 'node:fs';
import { access, constants, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCancel, run, type RunResult } from '../build/proc.js';
import { usageError, workError } from '../types.js';

export type Accelerator = 'kvm' | 'tcg';

const QEMU = 'qemu-system-x86_64';
const QEMU_HINT = 'apt-get install qemu-system-x86 (scripts/setup does it)';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A deadline to race against: it does not keep the process alive once nothing else does. */
const deadline = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** QEMU's arguments for the accelerator: the host's CPU under KVM, QEMU's default model under TCG. */
export function accelArgs(accel: Accelerator): string[] {
  return accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg'];
}

/** A kernel of this machine to test KVM with, when the caller has none. */
async function hostKernel(): Promise<string | undefined> {
  for (const p of ['/vmlinuz', '/boot/vmlinuz']) if (existsSync(p)) return p;
  const boot = existsSync('/boot') ? (await readdir('/boot')).filter((f) => /^vmlinuz-/.test(f)).sort() : [];
  return boot.length ? join('/boot', boot[boot.length - 1]!) : undefined;
}

/** The line the kernel prints when it ran all the way to mounting a root file system it was not given. */
const PROBE_DONE = /Kernel panic - not syncing/;

let probed: Promise<Accelerator> | null = null;

/**
 * 'kvm' when KVM really boots a Linux kernel here, else 'tcg' (with a notice saying why). A
 * /dev/kvm that opens is not enough: some (paravirtual, nested) ones fail on the first real
 * guest. So the kernel is booted under KVM with no disk: a working KVM runs it to the panic about
 * the missing root file system within a second or two, and QEMU exits (-no-reboot, panic=-1).
 * BULWARK_VM_ACCEL=kvm|tcg skips the test. The answer is kept for the life of the process.
 */
export function probeAccelerator(opts: { kernel?: string; log?: (line: string) => void; timeoutMs?: number } = {}): Promise<Accelerator> {
  probed ??= probeOnce(opts).then((r) => {
    // Without a kernel nothing was learnt: a later call with one tests again.
    if (r.untested) probed = null;
    return r.accel;
  });
  return probed;
}

async function probeOnce(opts: { kernel?: string; log?: (line: string) => void; timeoutMs?: number }): Promise<{ accel: Accelerator; untested?: boolean }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const tcg = (why: string, untested = false) => {
    log(`notice: VMs run under TCG (emulation, several times slower than KVM): ${why}`);
    return { accel: 'tcg' as const, untested };
  };
  const forced = process.env.BULWARK_VM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return { accel: forced, untested: true };
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return tcg('/dev/kvm is missing or not accessible');
  }
  const kernel = opts.kernel ?? (await hostKernel());
  if (!kernel) return tcg('no kernel to test KVM with (/dev/kvm exists, but whether it boots Linux is unknown)', true);
  const r = await kernelBoots('kvm', kernel, opts.timeoutMs ?? 20_000);
  if (r.ok) return { accel: 'kvm' };
  return tcg(`/dev/kvm exists but a Linux kernel does not boot under it (${r.why})`);
}

/**
 * Whether `kernel` boots under `accel`: run with no disk, it must reach the panic about the
 * missing root file system (and QEMU exit) within `timeoutMs`. The test probeAccelerator makes.
 */
export async function kernelBoots(accel: Accelerator, kernel: string, timeoutMs: number): Promise<{ ok: boolean; why: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-kernel-probe-'));
  try {
    const serial = join(dir, 'serial.log');
    const pidFile = join(dir, 'qemu.pid');
    let failedEarly = '';
    const killNow = async () => {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    };
    const r = await run(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', QEMU, ...accelArgs(accel), '-machine', 'pc', '-m', '256', '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-monitor', 'none', '-serial', `file:${serial}`, '-pidfile', pidFile, '-kernel', kernel, '-append', 'console=ttyS0 panic=-1 quiet'],
      {
        allowFail: true,
        timeoutMs,
        missingHint: QEMU_HINT,
        // A KVM that cannot run the guest says so at once and then hangs: stop waiting.
        onLine: (line) => {
          if (!failedEarly && /KVM internal error|kvm run failed|failed to initialize kvm|Could not access KVM/i.test(line)) {
            failedEarly = line.trim();
            void killNow();
          }
        },
      },
    ).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }) as RunResult);
    const out = existsSync(serial) ? await readFile(serial, 'utf8') : '';
    if (r.code === 0 && PROBE_DONE.test(out)) return { ok: true, why: '' };
    return { ok: false, why: failedEarly || (r.code === -1 ? `no result within ${timeoutMs / 1000} s` : lastLine(r.stderr) || `exit ${r.code}`) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const lastLine = (s: string) => s.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';

export interface PortForward {
  /** Port on 127.0.0.1. */
  host: number;
  /** Port in the guest. */
  guest: number;
}

export interface BootOptions {
  /** System disk (qcow2 or raw, by its name: *.qcow2 is qcow2). */
  disk: string;
  /** A second disk (per-instance data), written through. */
  dataDisk?: string;
  forwards: PortForward[];
  memoryMiB: number;
  cpus?: number;
  accel: Accelerator;
  /** The guest's first serial port (the console) goes to this file. */
  serialLog: string;
  /** The system disk's writes go to a throwaway overlay: the disk file is never changed. */
  snapshot?: boolean;
  /** Let the guest open connections to the outside (default: no, only the forwards come in). */
  egress?: boolean;
  /**
   * Services on this machine's 127.0.0.1 the guest may reach, at a virtual address of QEMU's user
   * network (guestfwd): each guest connection runs `nc 127.0.0.1 hostPort` (netcat-openbsd).
   */
  guestForwards?: Array<{ guestIp: string; guestPort: number; hostPort: number }>;
  /**
   * systemd credentials passed in SMBIOS type 11 strings, e.g. ssh.authorized_keys.root (systemd's
   * tmpfiles provision.conf writes it to /root/.ssh/authorized_keys at boot). No commas in values.
   */
  credentials?: Record<string, string>;
  /** QEMU is killed after this long, whatever happens (default 1 h). */
  maxLifetimeMs?: number;
}

export interface VmHandle {
  pid: number;
  accel: Accelerator;
  serialLog: string;
  forwards: PortForward[];
  /** The host port forwarded to the guest's 22, if any. */
  sshPort?: number;
  /** Resolves when QEMU has exited (never rejects). */
  exited: Promise<RunResult>;
  running(): boolean;
  /** ACPI power button (the guest shuts down cleanly), then kill if it has not exited in time. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /** Kill the QEMU process group at once. */
  kill(): Promise<void>;
}

const diskFormat = (path: string) => (/\.qcow2$/i.test(path) ? 'qcow2' : 'raw');

/** A -drive value; commas in a path are doubled, as QEMU's option syntax wants. */
function driveArg(path: string, extra: string[]): string {
  return [`file=${path.replace(/,/g, ',,')}`, `format=${diskFormat(path)}`, 'if=virtio', ...extra].join(',');
}

/** QEMU's command line for a VM (without the setpriv wrapper). Pure, for tests and for the log. */
export function qemuArgs(opts: BootOptions, runtime: { qmpSocket: string; pidFile: string }): string[] {
  for (const f of opts.forwards)
    if (![f.host, f.guest].every((p) => Number.isInteger(p) && p > 0 && p < 65536)) throw usageError(`port forward ${f.host} → ${f.guest}: ports are 1–65535`);
  for (const g of opts.guestForwards ?? [])
    if (!/^10\.0\.2\.\d+$/.test(g.guestIp) || ![g.guestPort, g.hostPort].every((p) => Number.isInteger(p) && p > 0 && p < 65536)) throw usageError(`guest forward ${g.guestIp}:${g.guestPort} → 127.0.0.1:${g.hostPort}: give an address of QEMU's 10.0.2.0/24 and ports 1–65535`);
  const net = [
    'user',
    'id=net0',
    ...(opts.egress ? [] : ['restrict=on']),
    ...opts.forwards.map((f) => `hostfwd=tcp:127.0.0.1:${f.host}-:${f.guest}`),
    ...(opts.guestForwards ?? []).map((g) => `guestfwd=tcp:${g.guestIp}:${g.guestPort}-cmd:nc 127.0.0.1 ${g.hostPort}`),
  ].join(',');
  return [
    '-name', 'bulwark-vm',
    '-machine', 'pc',
    ...accelArgs(opts.accel),
    '-smp', String(opts.cpus ?? 2),
    '-m', String(opts.memoryMiB),
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-serial', `file:${opts.serialLog}`,
    '-monitor', 'none',
    '-qmp', `unix:${runtime.qmpSocket},server=on,wait=off`,
    '-pidfile', runtime.pidFile,
    '-drive', driveArg(opts.disk, [`snapshot=${opts.snapshot ? 'on' : 'off'}`]),
    ...(opts.dataDisk ? ['-drive', driveArg(opts.dataDisk, [])] : []),
    '-netdev', net,
    '-device', 'virtio-net-pci,netdev=net0',
    // Entropy from the host: sshd's key generation at first boot does not wait for it.
    '-device', 'virtio-rng-pci',
    ...Object.entries(opts.credentials ?? {}).flatMap(([k, v]) => {
      if (/[,\n]/.test(v) || !/^[A-Za-z0-9_.-]+$/.test(k)) throw usageError(`credential ${k}: names are [A-Za-z0-9_.-], values one line without commas`);
      return ['-smbios', `type=11,value=io.systemd.credential:${k}=${v}`];
    }),
  ];
}

/** Send QMP commands over the VM's control socket; resolves after the last reply (or on error). */
async function qmp(socket: string, commands: string[], timeoutMs = 5000): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const conn = createConnection(socket);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error('QMP did not answer'));
    }, timeoutMs).unref();
    let buf = '';
    let sent = 0;
    let greeted = false;
    const next = () => {
      if (sent < commands.length) conn.write(JSON.stringify({ execute: commands[sent++] }) + '\n');
      else {
        clearTimeout(timer);
        conn.end();
        resolve();
      }
    };
    conn.on('data', (b) => {
      buf += b.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if ('QMP' in msg && !greeted) {
          greeted = true;
          next();
        } else if ('return' in msg) next();
        else if ('error' in msg) {
          clearTimeout(timer);
          conn.destroy();
          reject(new Error(JSON.stringify(msg.error)));
        }
      }
    });
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    conn.on('close', () => {
      clearTimeout(timer);
      reject(new Error('QMP closed the connection')); // a no-op once resolved
    });
  });
}

/** Start QEMU; resolves once it is running (its pid file written), with the handle to reach and stop it. */
export async function bootVm(opts: BootOptions): Promise<VmHandle> {
  if (!existsSync(opts.disk)) throw usageError(`no disk at ${opts.disk}`);
  if (opts.dataDisk && !existsSync(opts.dataDisk)) throw usageError(`no data disk at ${opts.dataDisk}`);
  const runtime = await mkdtemp(join(tmpdir(), 'bulwark-vm-'));
  const qmpSocket = join(runtime, 'qmp.sock');
  const pidFile = join(runtime, 'qemu.pid');
  let args: string[];
  try {
    args = qemuArgs(opts, { qmpSocket, pidFile });
  } catch (e) {
    await rm(runtime, { recursive: true, force: true });
    throw e;
  }
  const launchPidFile = join(runtime, 'launch.pid');
  let done = false;
  // sh writes its pid, then execs setpriv, which execs QEMU: one pid (the process group that
  // proc.ts made), known before QEMU starts. setpriv sets the parent-death signal: if this
  // process dies without cleaning up, the kernel kills QEMU.
  const exited: Promise<RunResult> = run('sh', ['-c', 'echo $$ >"$0"; exec "$@"', launchPidFile, 'setpriv', '--pdeathsig', 'KILL', '--', QEMU, ...args], {
    allowFail: true,
    timeoutMs: opts.maxLifetimeMs ?? 3_600_000,
    missingHint: QEMU_HINT,
  })
    .catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }))
    .then(async (r) => {
      done = true;
      unregister();
      await rm(runtime, { recursive: true, force: true });
      return r;
    });
  const readPid = async (file: string) => {
    const text = await readFile(file, 'utf8').catch(() => '');
    return /^\d+\s*$/.test(text) ? Number(text.trim()) : 0;
  };
  let pid = 0;
  const kill = async () => {
    if (done) return;
    pid ||= await readPid(launchPidFile);
    if (pid > 0) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await Promise.race([exited, deadline(10_000)]);
  };
  const unregister = onCancel(kill);

  // Running once QEMU has written its own pid file (its options were accepted), or failed early.
  const t0 = Date.now();
  while (!done && Date.now() - t0 < 30_000) {
    if (await readPid(pidFile)) {
      pid = await readPid(launchPidFile);
      break;
    }
    await sleep(50);
  }
  if (!pid) {
    const r = done ? await exited : null;
    await kill();
    throw workError(`QEMU did not start${r ? ` (exit ${r.code}): ${lastLine(r.stderr) || lastLine(r.stdout)}` : ' within 30 s'}`);
  }
  const ssh = opts.forwards.find((f) => f.guest === 22);
  return {
    pid,
    accel: opts.accel,
    serialLog: opts.serialLog,
    forwards: opts.forwards,
    sshPort: ssh?.host,
    exited,
    running: () => !done,
    kill,
    async stop(s: { timeoutMs?: number } = {}) {
      if (done) return;
      try {
        await qmp(qmpSocket, ['qmp_capabilities', 'system_powerdown']);
        await Promise.race([exited, deadline(s.timeoutMs ?? 60_000)]);
      } catch {
        /* no QMP: kill below */
      }
      await kill();
    },
  };
}

export interface SshOptions {
  user?: string;
  allowFail?: boolean;
  timeoutMs?: number;
  input?: string;
}

/** ssh(1) options: this VM's forwarded port, this key only, no host key memory (every VM's keys are new). */
export function sshArgs(port: number, key: string, user = 'root'): string[] {
  return [
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-i', key,
    '-p', String(port),
    `${user}@127.0.0.1`,
  ];
}

/**
 * Run a shell command in the VM over SSH (OpenSSH's client; the fleet code will use ssh2).
 * `key` is the private key file (mode 0600).
 */
export async function ssh(vm: VmHandle, key: string, cmd: string, opts: SshOptions = {}): Promise<RunResult> {
  if (!vm.sshPort) throw usageError('this VM has no forward to its port 22');
  return run('ssh', [...sshArgs(vm.sshPort, key, opts.user), '--', cmd], {
    allowFail: opts.allowFail,
    timeoutMs: opts.timeoutMs ?? 120_000,
    input: opts.input,
    missingHint: 'apt-get install openssh-client',
  });
}

/** The last lines of the VM's console, without terminal escapes (for error messages). */
export async function serialTail(vm: Pick<VmHandle, 'serialLog'>, lines = 8): Promise<string> {
  const text = await readFile(vm.serialLog, 'utf8').catch(() => '');
  const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r/g, '');
  return plain.split('\n').filter((l) => l.trim()).slice(-lines).join('\n');
}

/** Wait until sshd in the VM lets the key in; resolves with the milliseconds it took. */
export async function waitForSsh(vm: VmHandle, key: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    if (!vm.running()) {
      const r = await vm.exited;
      throw workError(`the VM stopped before sshd answered (QEMU exit ${r.code}: ${lastLine(r.stderr)}); its console ended with:\n${await serialTail(vm)}`);
    }
    const left = timeoutMs - (Date.now() - t0);
    const r = await ssh(vm, key, 'true', { allowFail: true, timeoutMs: Math.max(1000, Math.min(30_000, left)) }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    if (r.code === 0) return Date.now() - t0;
    last = lastLine(r.stderr);
    await sleep(500);
  }
  throw workError(`sshd on 127.0.0.1:${vm.sshPort} did not let the key in within ${Math.round(timeoutMs / 1000)} s (last: ${last || 'no answer'}); the console ended with:\n${await serialTail(vm)}`);
}

/** A free TCP port on 127.0.0.1 for a forward (free now; QEMU fails to start if it is taken meanwhile). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
