// The one module that spawns processes (DESIGN "build"): timeouts, captured output,
// per-job logs, and cleanup of everything still running when the build is cancelled.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { envError, workError } from '../types.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Stream piped to stdin (large inputs such as image archives). */
  inputStream?: NodeJS.ReadableStream;
  /** Milliseconds before the process group is killed (default 10 min). */
  timeoutMs?: number;
  /** Append stdout+stderr here as well. */
  logFile?: string;
  /** Forward output lines to this callback (progress). */
  onLine?: (line: string) => void;
  /** Do not throw on non-zero exit. */
  allowFail?: boolean;
  /** What to tell the user when the command is missing. */
  missingHint?: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();
const cleanups: Array<() => Promise<void> | void> = [];

/** Register work to undo if the run is cancelled (containers started, temp dirs). */
export function onCancel(fn: () => Promise<void> | void): () => void {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** Kill every running child and run the registered cleanups (SIGINT/SIGTERM). */
export async function cancelAll(): Promise<void> {
  for (const c of live) killTree(c);
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      /* best effort */
    }
  }
}

function killTree(c: ChildProcess) {
  if (c.pid === undefined) return;
  try {
    process.kill(-c.pid, 'SIGKILL');
  } catch {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout kills the whole tree
    });
    live.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let log: WriteStream | undefined;
    if (opts.logFile) log = createWriteStream(opts.logFile, { flags: 'a' });
    let partial = '';
    const feed = (b: Buffer) => {
      log?.write(b);
      if (!opts.onLine) return;
      partial += b.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) opts.onLine(l);
    };
    child.stdout!.on('data', (b: Buffer) => {
      out.push(b);
      feed(b);
    });
    child.stderr!.on('data', (b: Buffer) => {
      err.push(b);
      feed(b);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child);
    }, opts.timeoutMs ?? 600_000);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      live.delete(child);
      log?.end();
      if (e.code === 'ENOENT') reject(envError(`${cmd} not found: ${opts.missingHint ?? 'run scripts/setup (as root) to install it'}`));
      else reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      log?.end();
      const res = { code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (timedOut) return reject(workError(`${cmd} ${args.slice(0, 3).join(' ')} timed out after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)} s`));
      if (res.code !== 0 && !opts.allowFail) {
        const tail = (res.stderr || res.stdout).trim().split('\n').slice(-1)[0] ?? '';
        const e = workError(`${cmd} ${args.slice(0, 2).join(' ')} failed (exit ${res.code}): ${tail}`);
        (e as any).result = res;
        return reject(e);
      }
      resolve(res);
    });
    if (opts.inputStream) {
      child.stdin!.on('error', () => {});
      opts.inputStream.pipe(child.stdin!);
    } else if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Run and return trimmed stdout. */
export async function capture(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return (await run(cmd, args, opts)).stdout.trim();
}
