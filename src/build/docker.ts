// Thin wrappers over the docker CLI; every call goes through proc.ts.
import { run, capture, type RunOptions } from './proc.js';
import { envError } from '../types.js';

let checked = false;
/** Fail with exit 3 and the fix when no Docker daemon answers. */
export async function requireDocker(): Promise<void> {
  if (checked) return;
  const r = await run('docker', ['version', '--format', '{{.Server.Version}}'], {
    allowFail: true,
    timeoutMs: 20_000,
    missingHint: 'install docker.io (scripts/setup does it)',
  });
  if (r.code !== 0 || !r.stdout.trim())
    throw envError('Docker daemon is not running: start it (`dockerd &` or `systemctl start docker`), or run scripts/setup');
  checked = true;
}

export const docker = (args: string[], opts?: RunOptions) => run('docker', args, { timeoutMs: 600_000, ...opts });
export const dockerOut = (args: string[], opts?: RunOptions) => capture('docker', args, { timeoutMs: 600_000, ...opts });

export async function imageExists(ref: string): Promise<boolean> {
  return (await docker(['image', 'inspect', ref], { allowFail: true })).code === 0;
}

export async function inspectImage(ref: string): Promise<any> {
  return JSON.parse(await dockerOut(['image', 'inspect', ref]))[0];
}

/**
 * Remove a container and wait until it is really gone: with --rm, docker may answer
 * "removal already in progress" while the container still exists.
 */
export async function removeContainer(name: string, waitMs = 15_000): Promise<void> {
  await docker(['rm', '-f', name], { allowFail: true, timeoutMs: 60_000 });
  const t0 = Date.now();
  while (Date.now() - t0 < waitMs) {
    if ((await docker(['container', 'inspect', name], { allowFail: true, timeoutMs: 10_000 })).code !== 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
