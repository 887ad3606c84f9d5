// No half-written output: files are written into a sibling temp dir, then swapped in by rename.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A unique name beside `path` to write to before renaming: unique across processes and calls. */
export const tempSibling = (path: string) => `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;

export interface OutFile {
  content: string;
  mode?: number;
}

export async function writeTreeAtomic(dest: string, files: Record<string, OutFile>): Promise<void> {
  const parent = dirname(dest);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${process.pid}-${Date.now()}.tmp`);
  try {
    for (const [rel, f] of Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const p = join(tmp, rel);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content);
      await chmod(p, f.mode ?? 0o644);
    }
    const old = `${dest}.old-${process.pid}`;
    if (existsSync(dest)) await rename(dest, old);
    await rename(tmp, dest);
    await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  await writeFile(tmp, content);
  await rename(tmp, path);
}
