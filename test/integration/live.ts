// Helpers for integration tests that run real containers on 127.0.0.1.
import { run } from '../../src/build/proc.js';

export const docker = (args: string[], allowFail = false) => run('docker', args, { allowFail, timeoutMs: 180_000 });

export async function waitHttp(url: string, timeoutMs = 60_000): Promise<Response> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(3000), redirect: 'manual' });
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s: ${(last as Error)?.message}`);
}

export async function waitHealthy(container: string, timeoutMs = 90_000): Promise<string> {
  const t0 = Date.now();
  let status = '';
  while (Date.now() - t0 < timeoutMs) {
    status = (await docker(['inspect', '-f', '{{.State.Health.Status}}', container], true)).stdout.trim();
    if (status === 'healthy' || status === 'unhealthy') return status;
    await new Promise((r) => setTimeout(r, 500));
  }
  return status;
}

/** Seconds `docker stop` takes (with the default 10 s grace, so a slow stop shows). */
export async function timeStop(container: string): Promise<number> {
  const t0 = Date.now();
  await docker(['stop', container]);
  return (Date.now() - t0) / 1000;
}

export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function danglingImages(): Promise<string[]> {
  return (await docker(['images', '-q', '-f', 'dangling=true'])).stdout.split('\n').filter(Boolean).sort();
}

export async function buildContainers(): Promise<string[]> {
  return (await docker(['ps', '-aq', '-f', 'name=bulwark-build-'])).stdout.split('\n').filter(Boolean);
}
