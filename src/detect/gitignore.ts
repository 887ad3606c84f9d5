// Just enough .gitignore matching to answer "is this path the app's runtime data?":
// a folder or file the project ignores is written at run time (data/, uploads/, *.sqlite3), not shipped.
import type { DetectContext } from './context.js';
import { ev } from './evidence.js';
import type { Evidence } from '../types.js';

interface Rule {
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
  line: number;
}

export interface Gitignore {
  /**
   * The shortest ignored part of path (relative, '/'-separated: the path itself or a folder above it)
   * and the rule's evidence; undefined when git would keep the path.
   */
  ignores(path: string, isDir: boolean): { path: string; evidence: Evidence } | undefined;
}

function globToRe(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

export function readGitignore(ctx: DetectContext): Gitignore {
  const text = ctx.read('.gitignore') ?? '';
  const rules: Rule[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    let l = raw.trim();
    if (!l || l.startsWith('#')) return;
    const negate = l.startsWith('!');
    if (negate) l = l.slice(1);
    const dirOnly = l.endsWith('/');
    if (dirOnly) l = l.replace(/\/+$/, '');
    // A pattern with a slash inside is anchored to the folder; one without matches at any depth.
    const anchored = l.includes('/');
    l = l.replace(/^\//, '');
    rules.push({ re: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${globToRe(l)}$`), negate, dirOnly, line: i + 1 });
  });
  const test = (p: string, isDir: boolean): Rule | undefined => {
    let hit: Rule | undefined;
    for (const r of rules) if ((!r.dirOnly || isDir) && r.re.test(p)) hit = r.negate ? undefined : r;
    return hit;
  };
  return {
    ignores(path, isDir) {
      const parts = path.replace(/^\.\//, '').replace(/\/+$/, '').split('/');
      // A path is ignored when it, or any folder above it, is.
      for (let i = 1; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        const r = test(prefix, i < parts.length || isDir);
        if (r) return { path: prefix, evidence: ev('.gitignore', r.line, `ignores ${prefix}${i < parts.length || isDir ? '/' : ''}`) };
      }
      return undefined;
    },
  };
}
