// Test helpers: explicit timeouts for integration tests (uvu has none) and cleanup of what a test started.
import { run } from '../src/build/proc.js';
import { repoRoot } from '../src/version.js';
import { join } from 'node:path';

export { repoRoot };
export const fixture = (...p: string[]) => join(repoRoot, 'test', 'fixtures', ...p);
export const example = (...p: string[]) => join(repoRoot, 'examples', ...p);
export const bulwarkBin = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/**
 * Run fn with a deadline; on timeout or error, run every cleanup (stop containers, kill VMs)
 * so one hung container fails one test instead of the whole run.
 */
export async function withTimeout<T>(ms: number, fn: (cleanup: (c: () => Promise<unknown> | unknown) => void) => Promise<T>): Promise<T> {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test timed out after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([fn((c) => cleanups.push(c)), deadline]);
  } finally {
    clearTimeout(timer);
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        /* best effort */
      }
    }
  }
}

/** Run the bulwark CLI (compiled) and capture its result. */
export function bulwark(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return run(process.execPath, [bulwarkBin, ...args], { allowFail: true, timeoutMs: opts.timeoutMs ?? 900_000, cwd: opts.cwd, env: { ...process.env, NO_COLOR: '1', ...opts.env } });
}
