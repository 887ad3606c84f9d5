// Evidence: "this fact comes from file:line", so `bulwark detect` can explain every value it reports.
import type { Evidence } from '../types.js';
import type { DetectContext } from './context.js';

export const ev = (file: string, line?: number, note?: string): Evidence => {
  const e: Evidence = { file };
  if (line !== undefined) e.line = line;
  if (note !== undefined) e.note = note;
  return e;
};

/** 1-based line of a character offset. */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export interface Hit {
  file: string;
  line: number;
  match: RegExpExecArray;
}

/** Every match of re (made global) in text, with its line. */
export function findAll(file: string, text: string, re: RegExp): Hit[] {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  const hits: Hit[] = [];
  for (let m = g.exec(text); m; m = g.exec(text)) {
    hits.push({ file, line: lineAt(text, m.index), match: m });
    if (m[0] === '') g.lastIndex++;
  }
  return hits;
}

/** First match of re in text, with its line. */
export function findFirst(file: string, text: string, re: RegExp): Hit | undefined {
  const m = new RegExp(re.source, re.flags.replace('g', '')).exec(text);
  return m ? { file, line: lineAt(text, m.index), match: m } : undefined;
}

/** Search several files in order; hits in file order, then line order. */
export function searchFiles(ctx: DetectContext, files: string[], re: RegExp): Hit[] {
  const hits: Hit[] = [];
  for (const f of files) {
    const text = ctx.read(f);
    if (text !== undefined) hits.push(...findAll(f, text, re));
  }
  return hits;
}

/** Tests and fixtures mention secrets and paths the running app never uses. */
const testPath = /(^|\/)(tests?|__tests__|spec|specs|fixtures|e2e|cypress|docs?|examples?|scripts)\/|(\.|_)(test|spec)\.[cm]?[jt]sx?$|(^|\/)test_[^/]*\.py$|_test\.py$|(^|\/)conftest\.py$/;

/** The app's own source files with one of the extensions, tests and bundles left out. */
export function sourceFiles(ctx: DetectContext, exts: string[]): string[] {
  return ctx
    .files()
    .filter((f) => exts.some((e) => f.endsWith(e)))
    .filter((f) => !testPath.test(f) && !/\.min\.js$/.test(f) && !/^(dist|build|public|static|staticfiles)\//.test(f));
}

/** Append evidence to a list keyed by name, keeping first-seen order. */
export function collect<T extends { evidence: Evidence[] }>(map: Map<string, T>, key: string, make: () => T, e: Evidence): void {
  let item = map.get(key);
  if (!item) map.set(key, (item = make()));
  if (!item.evidence.some((x) => x.file === e.file && x.line === e.line)) item.evidence.push(e);
}
