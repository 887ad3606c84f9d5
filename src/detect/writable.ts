// The app's writable data: what must live under /var/lib/<app> because /opt/<app> is read-only
// (DESIGN "Well-known places"). Evidence is the code that names the path plus the .gitignore rule.
import type { Evidence, WritablePath } from '../types.js';
import type { DetectContext } from './context.js';
import type { Gitignore } from './gitignore.js';
import { sqliteFile, type PathRef } from './paths.js';

/** Ignored folders that hold dependencies or build output, not data the app writes. */
const notData = new Set([
  'node_modules', 'dist', 'build', 'out', '.next', 'coverage', 'public', 'static', 'staticfiles', 'venv', '.venv',
  'env', '__pycache__', '.env', '.git', '.bulwark', '.cache', 'tmp', '.pytest_cache', 'htmlcov',
]);

/** Calls that write files, per language: a gitignored folder only counts where the code writes. */
export const writeCalls = {
  js: /\b(mkdirSync|mkdir|writeFileSync|writeFile|appendFileSync|appendFile|createWriteStream|copyFileSync|renameSync|multer|diskStorage)\b/,
  py: /\b(makedirs|mkdir|write_text|write_bytes|UPLOAD_FOLDER)\b|\.save\(|open\([^)]*['"][wax]b?\+?['"]/,
};

export class WritableSet {
  private byPath = new Map<string, WritablePath>();

  add(path: string, kind: 'file' | 'dir', reason: string, evidence: Evidence[]): void {
    const w = this.byPath.get(path);
    if (!w) {
      this.byPath.set(path, { path, kind, reason, evidence: [...evidence] });
      return;
    }
    for (const e of evidence) if (!w.evidence.some((x) => x.file === e.file && x.line === e.line)) w.evidence.push(e);
  }

  list(): WritablePath[] {
    return [...this.byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/**
 * SQLite files the code names (written at run time when git ignores them or they are not in the
 * folder yet), and gitignored folders named in files that write.
 */
export function addWritableFromRefs(ctx: DetectContext, set: WritableSet, refs: PathRef[], gi: Gitignore, writes: RegExp): void {
  const writesIn = new Map<string, boolean>();
  const fileWrites = (f: string) => {
    if (!writesIn.has(f)) writesIn.set(f, writes.test(ctx.read(f) ?? ''));
    return writesIn.get(f)!;
  };
  for (const r of refs) {
    // Database engine names ('django.db.backends.sqlite3') and URL prefixes (MEDIA_URL = 'media/') are not paths.
    if (/ENGINE|backends\.|\w+_URL\s*[=:]/.test(r.source)) continue;
    const at: Evidence = { file: r.file, line: r.line };
    const top = r.path.split('/')[0];
    if (notData.has(top)) continue;
    if (sqliteFile.test(r.path)) {
      const ign = gi.ignores(r.path, false);
      if (ign) set.add(r.path, 'file', 'sqlite', [at, ign.evidence]);
      else if (!ctx.exists(r.path)) set.add(r.path, 'file', 'sqlite', [{ ...at, note: 'not in the app folder: created at run time' }]);
      continue;
    }
    // A last segment without a dot reads as a folder ('data', 'uploads/avatars').
    const looksDir = !/\.[A-Za-z0-9]+$/.test(r.path);
    const ign = gi.ignores(r.path, looksDir);
    if (!ign || notData.has(ign.path)) continue;
    const isDirPrefix = ign.path !== r.path || looksDir || ctx.isDir(ign.path);
    if (isDirPrefix && fileWrites(r.file)) set.add(ign.path, 'dir', 'gitignored-dir', [at, ign.evidence]);
  }
}
