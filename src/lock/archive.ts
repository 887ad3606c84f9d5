// Reading the Debian archive: InRelease (signature checked with Debian's keyring by gpgv),
// then the Packages index it names (sha256 checked), parsed into typed stanzas.
// Indexes are cached by their sha256, so an unchanged InRelease costs one small fetch.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../build/proc.js';
import { envError, workError } from '../types.js';
import { cacheDir } from '../build/cache.js';
import { tempSibling } from '../build/atomic.js';

export interface DebPackage {
  name: string;
  version: string;
  arch: string;
  source: string; // source package name
  sourceVersion: string;
  filename: string; // pool path
  sha256: string;
  size: number;
  depends: string; // Pre-Depends + Depends, raw
  provides: string;
  /** Which suite index it came from, and that suite's base URL. */
  suite: string;
  baseUrl: string;
}

export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The mirror answered, but not with the file (404 and the like): the file is not there. */
export class MirrorMissing extends Error {
  constructor(readonly url: string, readonly status: number) {
    super(`the Debian mirror answered ${status} for ${url}`);
  }
}

export async function httpGet(url: string, what: string): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  } catch (e) {
    throw envError(`cannot reach the Debian mirror for ${what} (${url}): ${(e as Error).message}; check the network or pass --mirror URL`);
  }
  if (res.status === 404 || res.status === 410) throw new MirrorMissing(url, res.status);
  if (!res.ok) throw envError(`the Debian mirror answered ${res.status} for ${url}; check --mirror`);
  return Buffer.from(await res.arrayBuffer());
}

export const sha256hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The suites whose indexes are read for `suite` (security and point updates win by version). */
export function suiteSources(suite: string, mirror: string, securityMirror: string) {
  return [
    { suite, baseUrl: mirror },
    { suite: `${suite}-updates`, baseUrl: mirror },
    { suite: `${suite}-security`, baseUrl: securityMirror },
  ];
}

async function verifiedInRelease(baseUrl: string, suite: string): Promise<string> {
  const raw = await httpGet(`${baseUrl}/dists/${suite}/InRelease`, `${suite} InRelease`);
  if (!existsSync(DEBIAN_KEYRING)) throw envError(`${DEBIAN_KEYRING} is missing: apt-get install debian-archive-keyring`);
  const r = await run('gpgv', ['--keyring', DEBIAN_KEYRING, '--output', '-', '-'], { input: raw, allowFail: true, timeoutMs: 60_000, missingHint: 'apt-get install gpgv' });
  if (r.code !== 0) throw workError(`${suite} InRelease from ${baseUrl} fails its signature check with Debian's keyring: ${r.stderr.trim().split('\n').pop()}`);
  return r.stdout;
}

export function parseStanzas(text: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const block of text.split(/\n\n+/)) {
    if (!block.trim()) continue;
    const rec: Record<string, string> = {};
    let key = '';
    for (const line of block.split('\n')) {
      if (/^\s/.test(line)) {
        if (key) rec[key] += '\n' + line;
        continue;
      }
      const i = line.indexOf(':');
      if (i < 0) continue;
      key = line.slice(0, i);
      rec[key] = line.slice(i + 1).trim();
    }
    out.push(rec);
  }
  return out;
}

/** Read one suite's Packages (main, amd64), verified against its signed InRelease. */
export async function loadSuiteIndex(baseUrl: string, suite: string, arch = 'amd64'): Promise<DebPackage[]> {
  return (await loadSuiteRelease(baseUrl, suite, arch)).packages;
}

export interface SuiteRelease {
  suite: string;
  baseUrl: string;
  /** The InRelease Date: field, as Unix seconds. */
  date: number;
  packages: DebPackage[];
}

/** The signed release of a suite: its date and its Packages index. */
export async function loadSuiteRelease(baseUrl: string, suite: string, arch = 'amd64'): Promise<SuiteRelease> {
  const release = await verifiedInRelease(baseUrl, suite);
  const rel = parseStanzas(release)[0] ?? {};
  const date = Math.floor(Date.parse(rel['Date'] ?? '') / 1000);
  if (!Number.isFinite(date)) throw workError(`${suite} InRelease from ${baseUrl} has no valid Date: field`);
  return { suite, baseUrl, date, packages: await loadPackages(baseUrl, suite, rel, arch) };
}

async function loadPackages(baseUrl: string, suite: string, rel: Record<string, string>, arch: string): Promise<DebPackage[]> {
  const want = `main/binary-${arch}/Packages.xz`;
  const line = (rel['SHA256'] ?? '').split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[2] === want);
  if (!line) throw workError(`${suite} InRelease lists no ${want}`);
  const digest = line[0]!;
  const dir = join(cacheDir(), 'indexes');
  await mkdir(dir, { recursive: true });
  const cached = join(dir, `${digest}.json`);
  if (existsSync(cached)) return JSON.parse(await readFile(cached, 'utf8'));
  const xz = await httpGet(`${baseUrl}/dists/${suite}/${want}`, `${suite} Packages`);
  if (sha256hex(xz) !== digest) throw workError(`${suite} Packages.xz does not match its signed InRelease; the mirror may be mid-sync, retry later`);
  const text = (await run('xz', ['-dc'], { input: xz, timeoutMs: 120_000 })).stdout;
  const pkgs = parseStanzas(text).map((s): DebPackage => {
    const src = (s['Source'] ?? s['Package'] ?? '').match(/^(\S+)(?:\s+\((.+)\))?/);
    return {
      name: s['Package']!,
      version: s['Version']!,
      arch: s['Architecture']!,
      source: src?.[1] ?? s['Package']!,
      sourceVersion: src?.[2] ?? s['Version']!,
      filename: s['Filename']!,
      sha256: s['SHA256']!,
      size: Number(s['Size']),
      depends: [s['Pre-Depends'], s['Depends']].filter(Boolean).join(', '),
      provides: s['Provides'] ?? '',
      suite,
      baseUrl,
    };
  });
  const tmp = tempSibling(cached);
  await writeFile(tmp, JSON.stringify(pkgs));
  await rename(tmp, cached);
  return pkgs;
}
