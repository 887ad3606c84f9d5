// Helpers for tests that boot a Bulwark VM disk in QEMU and talk to it on 127.0.0.1 only.
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { bootVm, freeLocalPort, type Accelerator, type VmHandle } from '../../src/vm/qemu.js';
import { connectSsh, type SshSession } from '../../src/vm/ssh.js';
import { parseExposure } from '../../src/audit/checks-units.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** HTTPS to the VM's forwarded 443, verified against `ca` as `servername` (SNI and Host). */
export function httpsCall(port: number, path: string, ca: string | Buffer, opts: { method?: string; json?: unknown; servername?: string } = {}): Promise<Reply> {
  const servername = opts.servername ?? 'localhost';
  const body = opts.json === undefined ? undefined : JSON.stringify(opts.json);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        servername,
        ca,
        rejectUnauthorized: true,
        headers: { host: servername, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
        timeout: 10_000,
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

export function httpCall(port: number, path: string, host = 'localhost'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Poll until HTTPS answers `path` with 200 (the app is up behind Caddy, certificate verified). */
export async function waitHttps(port: number, path: string, ca: string | Buffer, vm: VmHandle, timeoutMs: number, servername = 'localhost'): Promise<void> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    if (!vm.running()) throw new Error('QEMU exited while waiting for HTTPS');
    try {
      const r = await httpsCall(port, path, ca, { servername });
      if (r.status === 200) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`https://${servername}${path} did not answer 200 within ${timeoutMs / 1000} s: ${last}`);
}

export interface BootedVm {
  vm: VmHandle;
  ssh: number;
  http: number;
  https: number;
  startedAt: number;
}

export async function bootSystemDisk(o: {
  disk: string;
  dataDisk: string;
  accel: Accelerator;
  serialLog: string;
  guestForwards?: Array<{ guestIp: string; guestPort: number; hostPort: number }>;
  /** Host ports for the guest's 22, 80 and 443 (default: free ones). */
  ports?: { ssh: number; http: number; https: number };
}): Promise<BootedVm> {
  const { ssh, http, https } = o.ports ?? { ssh: await freeLocalPort(), http: await freeLocalPort(), https: await freeLocalPort() };
  const startedAt = Date.now();
  const vm = await bootVm({
    disk: o.disk,
    dataDisk: o.dataDisk,
    forwards: [{ host: ssh, guest: 22 }, { host: http, guest: 80 }, { host: https, guest: 443 }],
    memoryMiB: 1024,
    accel: o.accel,
    serialLog: o.serialLog,
    snapshot: true,
    ...(o.guestForwards ? { guestForwards: o.guestForwards } : {}),
  });
  return { vm, ssh, http, https, startedAt };
}

export async function sshTo(b: BootedVm, keyFile: string): Promise<SshSession> {
  return connectSsh({ port: b.ssh, privateKey: await readFile(keyFile), readyTimeoutMs: 30_000 });
}

/** "Overall exposure level for x.service: 1.1 OK" → 1.1 (the audit's parser). */
export function exposure(out: string): number {
  const level = parseExposure(out);
  if (level === null) throw new Error(`no exposure level in: ${out.slice(-300)}`);
  return level;
}
