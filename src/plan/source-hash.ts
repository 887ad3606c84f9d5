// Content hash of an app's source: what goes into its image, so an unchanged app keeps its tag.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Never part of the app layer: installed or generated at build, VCS, Bulwark's own output. */
export const SOURCE_EXCLUDES = new Set(['node_modules', '.git', '.bulwark', 'bulwark.lock', 'bulwark.hcl', '__pycache__', '.venv', 'venv', '.env', '.DS_Store']);

export function listSourceFiles(dir: string, skip: Set<string> = new Set()): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (SOURCE_EXCLUDES.has(e.name)) continue;
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip.has(rel)) continue;
      if (e.isDirectory()) walk(p);
      else out.push(rel);
    }
  };
  walk(dir);
  return out;
}

export function hashSource(dir: string, skip: Set<string> = new Set()): string {
  const h = createHash('sha256');
  for (const rel of listSourceFiles(dir, skip)) {
    const p = join(dir, rel);
    const st = lstatSync(p);
    h.update(rel + '\0' + (st.mode & 0o111 ? 'x' : '-') + '\0');
    h.update(st.isSymbolicLink() ? 'link:' + readlinkSync(p) : readFileSync(p));
    h.update('\0');
  }
  return h.digest('hex');
}
