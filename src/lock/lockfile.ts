// Reading, writing and comparing bulwark.lock. Keys are sorted at every level, so the same
// inputs give the same bytes and a change is a small diff.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { DebPackage } from './archive.js';
import { LOCK_FILE, LOCK_VERSION, type BulwarkLock, type LockedPackage } from './types.js';
import { usageError } from '../types.js';
import { writeFileAtomic } from '../build/atomic.js';

export const lockPath = (dir: string) => join(dir, LOCK_FILE);

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]));
  return v;
}

export function serializeLock(lock: BulwarkLock): string {
  return JSON.stringify(sortDeep(lock), null, 2) + '\n';
}

export const lockHash = (lock: BulwarkLock) => createHash('sha256').update(serializeLock(lock)).digest('hex');

export function readLock(dir: string): BulwarkLock | null {
  const p = lockPath(dir);
  if (!existsSync(p)) return null;
  let lock: BulwarkLock;
  try {
    lock = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw usageError(`${p}: not valid JSON (${(e as Error).message}); restore it from version control or delete it and run \`bulwark lock\``);
  }
  if (lock.lockVersion !== LOCK_VERSION)
    throw usageError(`${p}: lockVersion ${JSON.stringify(lock.lockVersion)} is not ${LOCK_VERSION}; this Bulwark cannot read it (upgrade Bulwark, or run \`bulwark lock --update\`)`);
  for (const k of ['suite', 'mirror', 'securityMirror', 'sourceDateEpoch', 'packages', 'layers', 'apps'] as const)
    if (lock[k] === undefined) throw usageError(`${p}: missing "${k}"; run \`bulwark lock --update\` to rewrite it`);
  return lock;
}

export async function writeLock(dir: string, lock: BulwarkLock): Promise<void> {
  await writeFileAtomic(lockPath(dir), serializeLock(lock));
}

export function toLocked(p: DebPackage): LockedPackage {
  return { version: p.version, arch: p.arch, suite: p.suite, filename: p.filename, sha256: p.sha256, size: p.size, source: p.source, sourceVersion: p.sourceVersion, depends: p.depends };
}

/** A locked package as the resolver and fetcher see it (baseUrl from the index it came from). */
export function fromLocked(lock: BulwarkLock, name: string): DebPackage {
  const p = lock.packages[name];
  if (!p) throw usageError(`${LOCK_FILE} lists ${name} in a layer but has no pin for it; run \`bulwark lock --update\``);
  const baseUrl = lock.indexes[p.suite]?.baseUrl ?? (p.suite.endsWith('-security') ? lock.securityMirror : lock.mirror);
  return { name, version: p.version, arch: p.arch, source: p.source, sourceVersion: p.sourceVersion, filename: p.filename, sha256: p.sha256, size: p.size, depends: p.depends, provides: '', suite: p.suite, baseUrl };
}

export interface LockChange {
  package: string;
  from: string | null; // null: added
  to: string | null; // null: removed
  suite: string | null;
}

export function diffLocks(a: BulwarkLock | null, b: BulwarkLock): LockChange[] {
  const names = new Set([...Object.keys(a?.packages ?? {}), ...Object.keys(b.packages)]);
  const out: LockChange[] = [];
  for (const n of [...names].sort()) {
    const x = a?.packages[n],
      y = b.packages[n];
    if (x?.version === y?.version && x?.sha256 === y?.sha256) continue;
    out.push({ package: n, from: x?.version ?? null, to: y?.version ?? null, suite: y?.suite ?? null });
  }
  return out;
}

export function formatChanges(changes: LockChange[]): string {
  if (!changes.length) return 'no changes';
  return changes
    .map((c) => (c.from === null ? `+ ${c.package} ${c.to}` : c.to === null ? `- ${c.package} ${c.from}` : `~ ${c.package} ${c.from} → ${c.to}${c.suite ? ` (${c.suite})` : ''}`))
    .join('\n');
}
