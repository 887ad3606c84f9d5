// SSH from Node (ssh2) to a VM on this machine: the live audit (B, D) and, later, fleet checks.
// Host keys: a VM forwarded to 127.0.0.1 is a fresh machine whose keys nobody knows yet, so on
// loopback any host key is accepted and its fingerprint returned; a caller pins it on later
// connections (`hostKeySha256`). Any other host needs a pinned fingerprint.
import { createHash } from 'node:crypto';
import { Client, type ConnectConfig } from 'ssh2';
import { shQuote } from '../render/provision.js';
import { usageError, workError } from '../types.js';

export interface SshConnectOptions {
  host?: string;
  port: number;
  /** OpenSSH or PEM private key (contents, not a file name). */
  privateKey: Buffer | string;
  username?: string;
  /** How long the handshake and authentication may take (default 20 s). */
  readyTimeoutMs?: number;
  /** Expected host key, as `SHA256:base64` (ssh-keygen -l style); required off loopback. */
  hostKeySha256?: string;
}

export interface SshExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SshSession {
  /** The server's host key fingerprint, `SHA256:…` as ssh-keygen -l prints it. */
  hostKeySha256: string;
  exec(cmd: string, opts?: { timeoutMs?: number; input?: string | Buffer }): Promise<SshExecResult>;
  /** Raw stdout and exit code of a command (binary-safe). */
  execRaw(cmd: string, opts?: { timeoutMs?: number; input?: string | Buffer }): Promise<{ code: number; stdout: Buffer; stderr: string }>;
  /** A file's bytes, or null when it does not exist or cannot be read. */
  readFile(path: string): Promise<Buffer | null>;
  close(): void;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
export const isLoopback = (host: string) => LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);

/** `SHA256:<base64 without padding>` of a host key blob, as `ssh-keygen -l` prints it. */
export const hostKeyFingerprint = (blob: Buffer) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

export function connectSsh(opts: SshConnectOptions): Promise<SshSession> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.hostKeySha256) return Promise.reject(usageError(`ssh to ${host}: only 127.0.0.1 is accepted without a pinned host key`));
  return new Promise((resolve, reject) => {
    const client = new Client();
    let seen = '';
    let settled = false;
    const config: ConnectConfig = {
      host: host.replace(/^\[|\]$/g, ''),
      port: opts.port,
      username: opts.username ?? 'root',
      privateKey: opts.privateKey,
      readyTimeout: opts.readyTimeoutMs ?? 20_000,
      keepaliveInterval: 0,
      hostVerifier: (key: Buffer) => {
        seen = hostKeyFingerprint(key);
        return !opts.hostKeySha256 || opts.hostKeySha256 === seen;
      },
    };
    client.on('ready', () => {
      settled = true;
      resolve(session(client, seen));
    });
    client.on('error', (e) => {
      if (settled) return;
      settled = true;
      client.end();
      const pinned = opts.hostKeySha256 && seen && seen !== opts.hostKeySha256;
      reject(workError(pinned ? `ssh ${host}:${opts.port}: host key ${seen} is not the pinned ${opts.hostKeySha256}` : `ssh ${host}:${opts.port}: ${e.message}`));
    });
    client.on('close', () => {
      if (settled) return;
      settled = true;
      reject(workError(`ssh ${host}:${opts.port}: connection closed before authentication`));
    });
    try {
      client.connect(config);
    } catch (e) {
      settled = true;
      reject(usageError(`ssh ${host}:${opts.port}: ${(e as Error).message}`)); // e.g. an unreadable private key
    }
  });
}

function session(client: Client, hostKeySha256: string): SshSession {
  const execRaw: SshSession['execRaw'] = (cmd, o = {}) =>
    new Promise((resolve, reject) => {
      client.exec(cmd, (err, ch) => {
        if (err) return reject(workError(`ssh exec ${cmd.slice(0, 40)}: ${err.message}`));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let code: number | null = null;
        const timer = setTimeout(() => {
          ch.close();
          reject(workError(`ssh: \`${cmd.slice(0, 60)}\` timed out after ${Math.round((o.timeoutMs ?? 120_000) / 1000)} s`));
        }, o.timeoutMs ?? 120_000);
        ch.on('data', (b: Buffer) => out.push(b));
        ch.stderr.on('data', (b: Buffer) => errs.push(b));
        ch.on('exit', (c: number | null, signal?: string) => {
          code = c ?? (signal ? 128 : 1);
        });
        ch.on('close', () => {
          clearTimeout(timer);
          resolve({ code: code ?? 255, stdout: Buffer.concat(out), stderr: Buffer.concat(errs).toString('utf8') });
        });
        if (o.input !== undefined) ch.end(o.input);
        else ch.end();
      });
    });
  return {
    hostKeySha256,
    execRaw,
    async exec(cmd, o) {
      const r = await execRaw(cmd, o);
      return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
    },
    async readFile(path) {
      const r = await execRaw(`cat -- ${shQuote(path)}`, { timeoutMs: 60_000 });
      return r.code === 0 ? r.stdout : null;
    },
    close: () => client.end(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Connect as soon as sshd answers and lets the key in (a booting VM refuses, resets or stalls
 * the connection for a while). Resolves with the session; rejects with the last error.
 */
export async function waitForSsh2(opts: SshConnectOptions, timeoutMs: number, intervalMs = 500): Promise<SshSession> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    const left = timeoutMs - (Date.now() - t0);
    try {
      return await connectSsh({ ...opts, readyTimeoutMs: Math.max(1000, Math.min(opts.readyTimeoutMs ?? 20_000, left)) });
    } catch (e) {
      last = (e as Error).message;
      if ((e as { exitCode?: number }).exitCode === 2) throw e; // a bad key or host: retrying will not help
    }
    await sleep(intervalMs);
  }
  throw workError(`sshd on ${opts.host ?? '127.0.0.1'}:${opts.port} did not let the key in within ${Math.round(timeoutMs / 1000)} s (last: ${last || 'no answer'})`);
}
