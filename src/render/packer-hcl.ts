// A small HCL2 writer for the generated Packer templates: typed nodes in, text out, laid out
// the way `packer fmt` lays it out (two-space indent, `=` aligned within runs of one-line
// attributes), so a generated file is already canonical and diffs stay small.

/** An attribute value. Strings are literals; use `ref`/`tpl` for expressions. */
export type HclValue = string | number | boolean | HclExpr | HclValue[] | HclObject;

/** A raw expression (`var.x`, a conditional), written as is. */
export interface HclExpr {
  expr: string;
}

/** A map value, written one key per line in the given key order. */
export interface HclObject {
  object: Array<[string, HclValue]>;
}

export type HclNode =
  | { kind: 'attr'; key: string; value: HclValue }
  | { kind: 'block'; type: string; labels: string[]; body: HclNode[] }
  | { kind: 'comment'; text: string }
  | { kind: 'blank' };

export const ref = (expr: string): HclExpr => ({ expr });

/**
 * A template string whose `${…}` interpolations are kept as expressions: the literal parts are
 * escaped, the interpolations written as they are (quotes inside them stay unescaped).
 */
export function tpl(s: string): HclExpr {
  const escape = (lit: string) => lit.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  let out = '';
  let i = 0;
  while (i < s.length) {
    const start = s.indexOf('${', i);
    if (start < 0) {
      out += escape(s.slice(i));
      break;
    }
    out += escape(s.slice(i, start));
    let depth = 0;
    let end = start + 1;
    for (; end < s.length; end++) {
      if (s[end] === '{') depth++;
      else if (s[end] === '}' && --depth === 0) break;
    }
    if (end >= s.length) throw new Error(`hcl: unclosed interpolation in ${s}`);
    out += s.slice(start, end + 1);
    i = end + 1;
  }
  return { expr: `"${out}"` };
}

export const obj = (entries: Array<[string, HclValue]>): HclObject => ({ object: entries });

export const attr = (key: string, value: HclValue): HclNode => ({ kind: 'attr', key, value });
export const block = (type: string, labels: string[], body: HclNode[]): HclNode => ({ kind: 'block', type, labels, body });
export const comment = (text: string): HclNode => ({ kind: 'comment', text });
export const blank: HclNode = { kind: 'blank' };

/** A string literal: no interpolation, everything escaped. */
export function hclString(s: string): string {
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$\{/g, '$$$${') // "$$" is one "$" in a replacement: this writes $${
    .replace(/%\{/g, '%%{');
  return `"${body}"`;
}

// Keys with a dash are quoted too, so nobody reads `a-b` as a subtraction.
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const objectKey = (k: string) => (identifier.test(k) ? k : hclString(k));

const isExpr = (v: HclValue): v is HclExpr => typeof v === 'object' && v !== null && !Array.isArray(v) && 'expr' in v;
const isObject = (v: HclValue): v is HclObject => typeof v === 'object' && v !== null && !Array.isArray(v) && 'object' in v;

/** One output line; `key` set when the line is `key = value` on its own (alignable). */
interface Line {
  indent: number;
  key?: string;
  text: string; // the value, or the whole line when key is unset
}

const MAX_INLINE_LIST = 80;

/** A value on one line; a list longer than MAX_INLINE_LIST only when `anyLength` (an item of a list). */
function scalar(v: HclValue, anyLength = false): string | undefined {
  if (typeof v === 'string') return hclString(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (isExpr(v)) return v.expr;
  if (Array.isArray(v)) {
    const parts = v.map((x) => scalar(x));
    if (parts.some((p) => p === undefined)) return undefined;
    const inline = `[${parts.join(', ')}]`;
    return anyLength || inline.length <= MAX_INLINE_LIST ? inline : undefined;
  }
  return undefined; // objects are always multi-line
}

/** Lines of `key = value` where value may span lines. */
function attrLines(key: string, value: HclValue, indent: number, out: Line[]): void {
  const one = scalar(value);
  if (one !== undefined) {
    out.push({ indent, key, text: one });
    return;
  }
  if (Array.isArray(value)) {
    // packer fmt never aligns a line that opens a bracket: it is written with one space.
    out.push({ indent, text: `${key} = [` });
    for (const item of value) {
      const s = scalar(item, true);
      if (s === undefined) throw new Error(`hcl: nested multi-line list items are not supported (${key})`);
      out.push({ indent: indent + 1, text: `${s},` });
    }
    out.push({ indent, text: ']' });
    return;
  }
  if (isObject(value)) {
    out.push({ indent, text: `${key} = {` });
    for (const [k, v] of value.object) attrLines(objectKey(k), v, indent + 1, out);
    out.push({ indent, text: '}' });
    return;
  }
  throw new Error(`hcl: cannot write value of ${key}`);
}

function nodeLines(nodes: HclNode[], indent: number, out: Line[]): void {
  for (const n of nodes) {
    switch (n.kind) {
      case 'attr':
        attrLines(n.key, n.value, indent, out);
        break;
      case 'comment':
        for (const l of n.text.split('\n')) out.push({ indent, text: l === '' ? '#' : `# ${l}` });
        break;
      case 'blank':
        out.push({ indent: 0, text: '' });
        break;
      case 'block': {
        const labels = n.labels.map((l) => ` ${hclString(l)}`).join('');
        out.push({ indent, text: `${n.type}${labels} {` });
        nodeLines(n.body, indent + 1, out);
        out.push({ indent, text: '}' });
        break;
      }
    }
  }
}

/** Render nodes as HCL text, `=` aligned within each run of consecutive one-line attributes. */
export function renderHcl(nodes: HclNode[]): string {
  const lines: Line[] = [];
  nodeLines(nodes, 0, lines);
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.key === undefined) {
      const l = lines[i]!;
      out.push(l.text === '' ? '' : '  '.repeat(l.indent) + l.text);
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j]!.key !== undefined) j++;
    const width = Math.max(...lines.slice(i, j).map((l) => l.key!.length));
    for (const l of lines.slice(i, j)) out.push(`${'  '.repeat(l.indent)}${l.key!.padEnd(width)} = ${l.text}`);
    i = j;
  }
  return out.join('\n') + '\n';
}
