// What every detector reads: the app folder, its files (cached, read once) and where errors should point.
// Pure file reading: detection never runs the app or any tool, so it is safe on untrusted folders.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, relative, sep } from 'node:path';
import type { Suite } from '../plan/types.js';

/** Folders that hold dependencies, caches or build output, not the app's own source. */
const skipDirs = new Set([
  'node_modules', '.git', '.hg', '.svn', '.venv', 'venv', 'env', '.env', '__pycache__', 'site-packages',
  '.bulwark', '.tox', '.mypy_cache', '.pytest_cache', 'coverage', '.next', '.cache', 'bower_components',
]);
/** Bound the walk so a huge folder (a monorepo, a home dir) cannot stall `bulwark detect`. */
const maxFiles = 5000;
const maxFileBytes = 1 << 20;

export interface DetectContext {
  /** Absolute app folder. */
  abs: string;
  /** The folder as the user wrote it, for error messages they can click. */
  shown: string;
  suite: Suite;
  exists(rel: string): boolean;
  isDir(rel: string): boolean;
  /** File text, or undefined when missing, unreadable or too large. */
  read(rel: string): string | undefined;
  /** Every file under the folder (relative, '/'-separated), dependency and cache folders skipped. */
  files(): string[];
  /** `DIR/file:line` for error messages. */
  where(rel: string, line?: number): string;
}

export function createContext(dir: string, suite: Suite): DetectContext {
  const abs = resolve(dir);
  const cache = new Map<string, string | undefined>();
  let all: string[] | undefined;
  const stat = (rel: string) => {
    try {
      return statSync(join(abs, rel));
    } catch {
      return undefined;
    }
  };
  return {
    abs,
    shown: dir,
    suite,
    exists: (rel) => stat(rel) !== undefined,
    isDir: (rel) => stat(rel)?.isDirectory() === true,
    read(rel) {
      if (cache.has(rel)) return cache.get(rel);
      let text: string | undefined;
      const st = stat(rel);
      if (st?.isFile() && st.size <= maxFileBytes) {
        try {
          text = readFileSync(join(abs, rel), 'utf8');
        } catch {
          text = undefined;
        }
      }
      cache.set(rel, text);
      return text;
    },
    files() {
      all ??= walk(abs);
      return all;
    },
    where(rel, line) {
      const p = join(dir, rel);
      return line ? `${p}:${line}` : p;
    },
  };
}

function walk(root: string): string[] {
  const out: string[] = [];
  const queue = [''];
  // Breadth-first so the top of the app (where entry points live) is always covered before the bound.
  while (queue.length && out.length < maxFiles) {
    const d = queue.shift()!;
    let entries;
    try {
      entries = readdirSync(join(root, d), { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const rel = d ? `${d}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!skipDirs.has(e.name)) queue.push(rel);
      } else if (e.isFile()) {
        out.push(rel);
        if (out.length >= maxFiles) break;
      }
    }
  }
  return out;
}

/** Relative '/'-separated path of an absolute path inside the app. */
export const relPath = (abs: string, p: string) => relative(abs, p).split(sep).join('/');
