// Paths an app's code mentions, resolved relative to the app folder: the raw material for
// "which files and folders does the app write" (gitignored data dirs, SQLite files) and "what it serves".
import { posix } from 'node:path';

export interface PathRef {
  path: string; // relative to the app folder, normalized, never '..' or absolute
  file: string;
  line: number;
  /** The source line, so callers can look at what the path is used for. */
  source: string;
}

export type Lang = 'js' | 'py';

export interface PathRefOptions {
  /**
   * What a Python "base dir" variable (BASE_DIR, basedir, ROOT_DIR…) points at: the app folder
   * (Django's BASE_DIR is the folder holding manage.py) or the folder of the file that uses it.
   */
  pyBase: 'root' | 'file';
}

const lit = /^(['"`])([^'"`$\n]*)\1$/;
const pyPrefixLit = /^[rRuU]?(['"])([^'"\n]*)\1$/;

/** Split "a, f(b, c), 'd'" at top-level commas. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The text inside the parentheses that open at `open`, or undefined when they do not close on this line. */
export function callArgs(line: string, open: number): string | undefined {
  let depth = 0;
  let quote = '';
  for (let i = open; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote && line[i - 1] !== '\\') quote = '';
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return line.slice(open + 1, i);
  }
  return undefined;
}

/** Normalize a joined path; undefined when it leaves the app folder or is absolute. */
function clean(p: string): string | undefined {
  if (!p || p.startsWith('/')) return undefined;
  const n = posix.normalize(p).replace(/\/+$/, '');
  if (n === '.' || n === '' || n.startsWith('..')) return undefined;
  return n;
}

const fileDir = (file: string, ups = 1) => {
  let d = file;
  for (let i = 0; i < ups; i++) d = posix.dirname(d);
  return d === '.' ? '' : d;
};

/** The folder a base expression stands for, '' for the app folder, undefined when unknown. */
function baseOf(expr: string, file: string, lang: Lang, opts: PathRefOptions): string | undefined {
  const e = expr.trim();
  if (lang === 'js') {
    if (e === '__dirname' || e === 'import.meta.dirname') return fileDir(file);
    if (e === 'process.cwd()') return '';
    return undefined;
  }
  if (/__file__/.test(e)) {
    // Path(__file__).parent → the file's folder; each further .parent goes one up.
    const parents = (e.match(/\.parent\b/g) ?? []).length;
    const dirnames = (e.match(/dirname\(/g) ?? []).length;
    return fileDir(file, Math.max(1, parents + dirnames));
  }
  if (e === 'os.getcwd()' || e === 'Path.cwd()') return '';
  if (/^[A-Za-z_]*(dir|root|base)[A-Za-z_]*$/i.test(e)) return opts.pyBase === 'root' ? '' : fileDir(file);
  return undefined;
}

function literal(a: string, lang: Lang): string | undefined {
  const m = (lang === 'py' ? pyPrefixLit : lit).exec(a.trim());
  return m ? m[2] : undefined;
}

/** Resolve join(base, 'a', 'b') arguments. */
function joinArgs(args: string[], file: string, lang: Lang, opts: PathRefOptions): string | undefined {
  if (!args.length) return undefined;
  const parts: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const l = literal(args[i], lang);
    if (l !== undefined) {
      parts.push(l.replace(/^\/+/, i === 0 ? '/' : ''));
      continue;
    }
    if (i > 0) return undefined; // a variable in the middle: cannot tell the path
    const b = baseOf(args[i], file, lang, opts);
    if (b === undefined) return undefined;
    parts.push(b);
  }
  return clean(posix.join(...parts.filter((p) => p !== '')));
}

/** Every path the file's code spells out (joins, __dirname concatenation, Path / chains, plain literals). */
export function pathRefs(file: string, text: string, lang: Lang, opts: PathRefOptions = { pyBase: 'file' }): PathRef[] {
  const out: PathRef[] = [];
  const lines = text.split('\n');
  lines.forEach((source, i) => {
    const line = i + 1;
    const trimmed = source.trim();
    if (lang === 'js' && /^(import\b|export\b.*\bfrom\b)|require\(/.test(trimmed)) return; // module names, not paths
    if (lang === 'py' && /^(import|from)\s/.test(trimmed)) return;
    if (trimmed.startsWith('//') || trimmed.startsWith('#')) return;
    const add = (p: string | undefined) => {
      if (p !== undefined && !out.some((r) => r.line === line && r.path === p)) out.push({ path: p, file, line, source });
    };
    const consumed: [number, number][] = [];
    const joinRe = lang === 'js' ? /path\.(?:join|resolve)\(/g : /(?:os\.path\.join|os\.path\.abspath|Path)\(/g;
    for (let m = joinRe.exec(source); m; m = joinRe.exec(source)) {
      const open = m.index + m[0].length - 1;
      const inner = callArgs(source, open);
      if (inner === undefined) continue;
      consumed.push([m.index, open + inner.length + 2]);
      add(joinArgs(splitArgs(inner), file, lang, opts));
    }
    if (lang === 'js') {
      for (const m of source.matchAll(/(__dirname|import\.meta\.dirname)\s*\+\s*(['"`])([^'"`$]+)\2/g)) {
        consumed.push([m.index!, m.index! + m[0].length]);
        add(clean(posix.join(fileDir(file) || '.', m[3].replace(/^\/+/, ''))));
      }
    } else {
      // BASE_DIR / 'data' / 'db.sqlite3', Path(__file__).parent / 'uploads'
      for (const m of source.matchAll(/([A-Za-z_][\w.()]*)((?:\s*\/\s*[rRuU]?(['"])[^'"\n]+\3)+)/g)) {
        const base = baseOf(m[1], file, lang, opts);
        consumed.push([m.index!, m.index! + m[0].length]);
        if (base === undefined) continue;
        const segs = [...m[2].matchAll(/(['"])([^'"\n]+)\1/g)].map((s) => s[2]);
        add(clean(posix.join(base || '.', ...segs)));
      }
    }
    // Plain relative literals ('data/app.db', './uploads') outside the expressions above.
    const litRe = lang === 'js' ? /(['"`])((?:\.\/)?[A-Za-z0-9_][A-Za-z0-9_.\-/]*)\1/g : /(?<![A-Za-z])[rRuU]?(['"])((?:\.\/)?[A-Za-z0-9_][A-Za-z0-9_.\-/]*)\1/g;
    for (const m of source.matchAll(litRe)) {
      const at = m.index!;
      if (consumed.some(([a, b]) => at >= a && at < b)) continue;
      add(clean(m[2]));
    }
  });
  return out;
}

/** SQLite database files and sqlite:// URLs. */
export const sqliteFile = /\.(sqlite3?|db)$/i;

/** sqlite:///relative/path.db (SQLAlchemy, Sequelize…): the relative path after the scheme. */
export function sqliteUrlPaths(file: string, text: string): PathRef[] {
  const out: PathRef[] = [];
  text.split('\n').forEach((source, i) => {
    for (const m of source.matchAll(/sqlite:\/\/\/([^'"`\s]+)/g)) {
      const p = clean(m[1]);
      if (p) out.push({ path: p, file, line: i + 1, source });
    }
  });
  return out;
}
