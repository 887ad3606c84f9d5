// Build-stage images: a Debian rootfs with the tools an app's install needs (npm, yarnpkg,
// compilers for native modules), made by mmdebstrap from the Debian mirror and imported into
// Docker. They never become part of a runtime image; they are cached by content hash.
import { createHash } from 'node:crypto';
import { imageExists } from './docker.js';
import { run } from './proc.js';
import { envError } from '../types.js';
import { noCache } from './cache.js';
import { onCancel } from './proc.js';
import { suiteSources } from '../lock/archive.js';

export interface BuilderSpec {
  kind: 'node';
  packages: string[];
}

export function nodeBuilderSpec(opts: { yarn: boolean; native: boolean }): BuilderSpec {
  const packages = ['ca-certificates', 'nodejs', 'npm'];
  if (opts.yarn) packages.push('yarnpkg');
  if (opts.native) packages.push('g++', 'make', 'python3');
  return { kind: 'node', packages: packages.sort() };
}

/** The same three suites the runtime layers come from, so the builder's Node is the image's Node. */
export function builderSources(suite: string, mirror: string, securityMirror: string): string[] {
  return suiteSources(suite, mirror, securityMirror).map((s) => `deb ${s.baseUrl} ${s.suite} main`);
}

export function builderTag(spec: BuilderSpec, sources: string[]): string {
  const h = createHash('sha256').update(JSON.stringify({ spec, sources, v: 2 })).digest('hex').slice(0, 16);
  return `bulwark/builder-${spec.kind}:${sources[0]!.split(' ')[2]}-${h}`;
}

export async function ensureBuilderImage(spec: BuilderSpec, suite: string, mirror: string, securityMirror: string, log: (s: string) => void): Promise<string> {
  const sources = builderSources(suite, mirror, securityMirror);
  // --no-cache: a builder made for this run only (removed by the caller's cleanup).
  const tag = noCache() ? `${builderTag(spec, sources)}-nocache-${process.pid}` : builderTag(spec, sources);
  if (await imageExists(tag)) return tag;
  if (noCache()) onCancel(() => run('docker', ['rmi', '-f', tag], { allowFail: true }).then(() => undefined));
  log(`builder ${tag}: mmdebstrap ${suite} with ${spec.packages.join(' ')} (once per package set)`);
  const r = await run('bash', ['-c', 'set -o pipefail; tag="$1" include="$2" suite="$3"; shift 3; mmdebstrap --quiet --mode=root --variant=minbase --include="$include" "$suite" - "$@" | docker import --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" - "$tag"', 'x',
    tag, spec.packages.join(','), suite, ...sources], { timeoutMs: 1_200_000, allowFail: true });
  if (r.code !== 0 || !(await imageExists(tag))) {
    if (/mmdebstrap: (not found|No such file)/.test(r.stderr)) throw envError('mmdebstrap not found: apt-get install mmdebstrap (scripts/setup does it)');
    throw envError(`could not make the ${spec.kind} build image with mmdebstrap from ${mirror}: ${r.stderr.trim().split('\n').slice(-1)[0]}; check the mirror (--mirror)`);
  }
  return tag;
}
