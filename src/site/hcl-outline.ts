// Where things are in an HCL text. hcl2-parser turns HCL into JSON but gives no positions, and on a
// syntax error no message at all, so this reads the native syntax far enough for good errors:
// the line of every attribute, block, list element and map key; whether a value is a plain literal
// (bulwark.hcl evaluates nothing); and the first syntax error with its line.
// hcl2-parser stays the judge of what the values are; this only says where they are.

export interface HclExpr {
  line: number;
  /** Offsets in the text, for quoting the expression in a message. */
  start: number;
  end: number;
  /** A plain literal: no variables, functions, operators or interpolation. */
  literal: boolean;
  /** List elements, when the value is a [ … ] list. */
  items?: HclExpr[];
  /** Map entries, when the value is a { … } map. key is null when it is an expression. */
  entries?: HclEntry[];
}

export interface HclEntry {
  key: string | null;
  line: number;
  value: HclExpr;
}

export interface HclAttr {
  name: string;
  line: number;
  value: HclExpr;
}

export interface HclBlock {
  type: string;
  labels: string[];
  line: number;
  body: HclBody;
}

export interface HclBody {
  attrs: HclAttr[];
  blocks: HclBlock[];
}

export interface HclOutline {
  /** Everything read before the first error (all of it when there is none). */
  body: HclBody;
  error?: { line: number; message: string };
}

type Kind = 'ident' | 'number' | 'string' | 'heredoc' | 'punct' | 'nl' | 'eof' | 'bad';

interface Tok {
  kind: Kind;
  /** Identifier, punctuation or number text; a literal string's value; the error for 'bad'. */
  text: string;
  /** A string or heredoc with ${…} or %{…} in it. */
  template?: boolean;
  line: number;
  start: number;
  end: number;
}

class Stop extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const identStart = /[\p{L}_]/u;
const identPart = /[\p{L}\p{N}_-]/u;
const puncts = ['...', '==', '!=', '<=', '>=', '&&', '||', '=>', '{', '}', '[', ']', '(', ')', '=', ',', '.', ':', '?', '!', '+', '-', '*', '/', '%', '<', '>', '~'];
const binaryOps = new Set(['==', '!=', '<=', '>=', '&&', '||', '+', '-', '*', '/', '%', '<', '>']);

/**
 * Tokens of the whole text. A lexical error becomes a final 'bad' token, so that a parse error
 * earlier in the text is still the one reported.
 */
function tokenize(text: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const fail = (at: number, message: string): never => {
    throw new Stop(at, message);
  };

  /** A quoted string from the opening quote at i; returns its decoded value (templates: raw). */
  const quoted = (): Tok => {
    const start = i;
    const startLine = line;
    let value = '';
    let template = false;
    i++;
    for (;;) {
      if (i >= text.length) fail(startLine, 'unterminated string: add the closing "');
      const c = text[i]!;
      if (c === '"') {
        i++;
        return { kind: 'string', text: value, template, line: startLine, start, end: i };
      }
      if (c === '\n' || c === '\r') fail(startLine, 'unterminated string: a quoted string ends on the line it starts (use a heredoc <<EOT for several lines)');
      if (c === '\\') {
        const e = text[i + 1] ?? '';
        const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
        if (e in simple) {
          value += simple[e];
          i += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          value += String.fromCodePoint(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else if (e === 'U' && /^[0-9a-fA-F]{8}$/.test(text.slice(i + 2, i + 10))) {
          value += String.fromCodePoint(parseInt(text.slice(i + 2, i + 10), 16));
          i += 10;
        } else fail(line, `invalid escape \\${e} in a string (use \\\\ for a backslash)`);
        continue;
      }
      if ((c === '$' || c === '%') && text[i + 1] === c && text[i + 2] === '{') {
        value += `${c}{`; // $${ and %%{ are a literal ${ and %{
        i += 3;
        continue;
      }
      if ((c === '$' || c === '%') && text[i + 1] === '{') {
        template = true;
        i += 2;
        interpolation();
        continue;
      }
      value += c;
      i++;
    }
  };

  /** Skip the inside of ${ … } up to its closing brace; strings in it may nest. */
  const interpolation = () => {
    const openLine = line;
    let depth = 0;
    for (;;) {
      const t = next();
      if (t.kind === 'eof') fail(openLine, 'unterminated ${ … } in a string: add the closing }');
      if (t.kind === 'punct' && t.text === '{') depth++;
      if (t.kind === 'punct' && t.text === '}') {
        if (depth === 0) return;
        depth--;
      }
    }
  };

  const heredoc = (): Tok | undefined => {
    const m = /^<<(-?)([\p{L}_][\p{L}\p{N}_-]*)[ \t]*\r?\n/u.exec(text.slice(i, i + 200));
    if (!m) return undefined;
    const start = i;
    const startLine = line;
    const marker = m[2]!;
    let at = i + m[0].length;
    let l = line + 1;
    for (;;) {
      if (at >= text.length) fail(startLine, `unterminated heredoc <<${marker}: add a line holding only ${marker}`);
      const nl = text.indexOf('\n', at);
      const end = nl < 0 ? text.length : nl;
      const content = text.slice(at, end).replace(/\r$/, '');
      if (content.trim() === marker) {
        const body = text.slice(start + m[0].length, at);
        i = end;
        line = l;
        return { kind: 'heredoc', text: body, template: /(^|[^$])\$\{|(^|[^%])%\{/.test(body), line: startLine, start, end };
      }
      if (nl < 0) fail(startLine, `unterminated heredoc <<${marker}: add a line holding only ${marker}`);
      at = nl + 1;
      l++;
    }
  };

  const next = (): Tok => {
    for (;;) {
      if (i >= text.length) return { kind: 'eof', text: '', line, start: i, end: i };
      const c = text[i]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\uFEFF') {
        i++;
        continue;
      }
      if (c === '\n') {
        i++;
        line++;
        return { kind: 'nl', text: '\n', line: line - 1, start: i - 1, end: i };
      }
      if (c === '#' || (c === '/' && text[i + 1] === '/')) {
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      if (c === '/' && text[i + 1] === '*') {
        const close = text.indexOf('*/', i + 2);
        if (close < 0) fail(line, 'unterminated /* comment: add */');
        for (let k = i; k < close; k++) if (text[k] === '\n') line++;
        i = close + 2;
        continue;
      }
      const start = i;
      if (c >= '0' && c <= '9') {
        const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
        i += m[0].length;
        if (i < text.length && identPart.test(text[i]!)) {
          const word = /^[\p{L}\p{N}_.-]*/u.exec(text.slice(start))![0];
          fail(line, `invalid number ${word}: HCL numbers are decimal, like 3000`);
        }
        return { kind: 'number', text: m[0], line, start, end: i };
      }
      if (identStart.test(c)) {
        i++;
        while (i < text.length && identPart.test(text[i]!)) i++;
        return { kind: 'ident', text: text.slice(start, i), line, start, end: i };
      }
      if (c === '"') return quoted();
      if (c === '<' && text[i + 1] === '<') {
        const h = heredoc();
        if (h) return h;
        fail(line, 'a heredoc starts with <<NAME (or <<-NAME) at the end of a line');
      }
      if (c === "'") fail(line, 'strings are written in double quotes ("…"), not single quotes');
      const p = puncts.find((x) => text.startsWith(x, i));
      if (!p) fail(line, `unexpected character ${JSON.stringify(c)}`);
      i += p!.length;
      return { kind: 'punct', text: p!, line, start, end: i };
    }
  };

  try {
    for (;;) {
      const t = next();
      toks.push(t);
      if (t.kind === 'eof') return toks;
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    toks.push({ kind: 'bad', text: e.message, line: e.line, start: i, end: i });
    return toks;
  }
}

const describe = (t: Tok): string => {
  switch (t.kind) {
    case 'nl':
      return 'the end of the line';
    case 'eof':
      return 'the end of the file';
    case 'string':
    case 'heredoc':
      return 'a string';
    case 'number':
      return `the number ${t.text}`;
    case 'ident':
      return t.text;
    default:
      return `"${t.text}"`;
  }
};

class Parser {
  private pos = 0;
  /** Whether newlines are insignificant here: inside ( ) and [ ], but not in { } maps. */
  private skipNl: boolean[] = [false];

  constructor(private readonly toks: Tok[]) {}

  private raw(): Tok {
    const t = this.toks[this.pos]!;
    if (t.kind === 'bad') throw new Stop(t.line, t.text);
    return t;
  }

  /** The next token, skipping newlines where they do not count. */
  private peek(): Tok {
    if (this.skipNl[this.skipNl.length - 1]) while (this.toks[this.pos]!.kind === 'nl') this.pos++;
    return this.raw();
  }

  private take(): Tok {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private skipNewlines() {
    while (this.toks[this.pos]!.kind === 'nl') this.pos++;
  }

  private is(t: Tok, p: string) {
    return t.kind === 'punct' && t.text === p;
  }

  private expect(p: string, what: string): Tok {
    const t = this.peek();
    if (!this.is(t, p)) throw new Stop(t.line, `expected "${p}" ${what}, found ${describe(t)}`);
    return this.take();
  }

  private within<T>(skip: boolean, f: () => T): T {
    this.skipNl.push(skip);
    try {
      return f();
    } finally {
      this.skipNl.pop();
    }
  }

  /** Attributes and blocks up to `}` (inside a block) or the end of the file. */
  body(into: HclBody, open?: HclBlock): void {
    const seen = new Map<string, number>();
    for (;;) {
      this.skipNewlines();
      const t = this.raw();
      if (open && this.is(t, '}')) return;
      if (t.kind === 'eof') {
        if (open) throw new Stop(open.line, `block ${[open.type, ...open.labels.map((l) => JSON.stringify(l))].join(' ')} is never closed: add } on a line of its own`);
        return;
      }
      if (this.is(t, '}')) throw new Stop(t.line, 'unexpected "}": no block is open here');
      this.item(into, seen, t);
    }
  }

  /** One attribute (name = value) or block (type "label" { … }), and the end of its line. */
  private item(into: HclBody, seen: Map<string, number>, t: Tok): void {
    if (t.kind !== 'ident') throw new Stop(t.line, `expected a setting name or a block, found ${describe(t)}`);
    this.pos++;
    const after = this.raw();
    if (this.is(after, '=')) {
      this.attribute(into, seen, t);
      this.endOfLine(`the value of ${t.text}`);
      return;
    }
    const block: HclBlock = { type: t.text, labels: [], line: t.line, body: { attrs: [], blocks: [] } };
    for (let l = this.raw(); l.kind === 'string' || l.kind === 'ident'; l = this.raw()) {
      if (l.kind === 'string' && l.template) throw new Stop(l.line, `a block label is a plain string, without \${…}`);
      block.labels.push(l.text);
      this.pos++;
    }
    const brace = this.raw();
    if (!this.is(brace, '{')) {
      if (block.labels.length === 0) throw new Stop(t.line, `expected "=" after ${t.text}, found ${describe(brace)} (write ${t.text} = value)`);
      throw new Stop(brace.line, `expected "{" after block ${t.text} ${block.labels.map((l) => JSON.stringify(l)).join(' ')}, found ${describe(brace)}`);
    }
    this.pos++;
    into.blocks.push(block);
    const first = this.raw();
    if (this.is(first, '}')) {
      this.pos++; // empty block on one line
    } else if (first.kind === 'nl') {
      this.body(block.body, block);
      this.pos++; // the closing }
    } else if (first.kind === 'eof') {
      throw new Stop(block.line, `block ${[block.type, ...block.labels.map((l) => JSON.stringify(l))].join(' ')} is never closed: add } on a line of its own`);
    } else {
      // A one-line block holds one attribute: app "a" { port = 1 }
      if (first.kind !== 'ident') throw new Stop(first.line, `expected a setting name or a new line after "{", found ${describe(first)}`);
      this.pos++;
      if (!this.is(this.raw(), '=')) throw new Stop(first.line, `expected "=" after ${first.text}, found ${describe(this.raw())}`);
      this.attribute(block.body, new Map(), first);
      const close = this.raw();
      if (!this.is(close, '}')) throw new Stop(close.line, `a block written on one line holds one setting; put each setting on its own line (found ${describe(close)})`);
      this.pos++;
    }
    this.endOfLine(`the closing } of ${t.text}`);
  }

  private attribute(into: HclBody, seen: Map<string, number>, name: Tok): void {
    this.pos++; // =
    const v = this.raw();
    if (v.kind === 'nl' || v.kind === 'eof') throw new Stop(name.line, `${name.text} = has no value`);
    const first = seen.get(name.text);
    if (first !== undefined) throw new Stop(name.line, `${name.text} is set twice (first on line ${first})`);
    seen.set(name.text, name.line);
    into.attrs.push({ name: name.text, line: name.line, value: this.expr() });
  }

  private endOfLine(what: string): void {
    const t = this.raw();
    if (t.kind === 'nl' || t.kind === 'eof') return;
    if (this.is(t, '}')) throw new Stop(t.line, `expected a new line after ${what}: put the closing } on a line of its own`);
    throw new Stop(t.line, `expected a new line after ${what}, found ${describe(t)}: put each setting on its own line`);
  }

  expr(): HclExpr {
    const e = this.binary();
    if (this.is(this.peek(), '?')) {
      this.take();
      this.expr();
      this.expect(':', 'in a conditional (a ? b : c)');
      const last = this.expr();
      return { line: e.line, start: e.start, end: last.end, literal: false };
    }
    return e;
  }

  private binary(): HclExpr {
    const left = this.unary();
    let end = -1;
    while (this.peek().kind === 'punct' && binaryOps.has(this.peek().text)) {
      this.take();
      end = this.unary().end;
    }
    return end < 0 ? left : { line: left.line, start: left.start, end, literal: false };
  }

  private unary(): HclExpr {
    const t = this.peek();
    if (this.is(t, '-') || this.is(t, '!')) {
      this.take();
      const n = this.peek();
      const e = this.unary();
      // -3 is a literal number; -x and !true are expressions
      return { line: t.line, start: t.start, end: e.end, literal: t.text === '-' && n.kind === 'number' && e.start === n.start && e.end === n.end };
    }
    return this.postfix();
  }

  private postfix(): HclExpr {
    let e = this.primary();
    for (;;) {
      const t = this.raw();
      if (this.is(t, '.')) {
        this.pos++;
        const n = this.raw();
        if (n.kind !== 'ident' && n.kind !== 'number' && !this.is(n, '*')) throw new Stop(n.line, `expected a name after ".", found ${describe(n)}`);
        this.pos++;
        e = { line: e.line, start: e.start, end: n.end, literal: false };
      } else if (this.is(t, '[')) {
        this.pos++;
        const close = this.within(true, () => {
          if (this.is(this.peek(), '*')) this.take();
          else this.expr();
          return this.expect(']', 'to close the index');
        });
        e = { line: e.line, start: e.start, end: close.end, literal: false };
      } else return e;
    }
  }

  private primary(): HclExpr {
    const t = this.peek();
    const at = { line: t.line, start: t.start, end: t.end };
    switch (t.kind) {
      case 'number':
        this.take();
        return { ...at, literal: true };
      case 'string':
      case 'heredoc':
        this.take();
        return { ...at, literal: !t.template };
      case 'ident': {
        this.take();
        if (t.text === 'true' || t.text === 'false' || t.text === 'null') return { ...at, literal: true };
        if (this.is(this.raw(), '(')) {
          this.pos++;
          const close = this.within(true, () => {
            while (!this.is(this.peek(), ')')) {
              this.expr();
              if (this.is(this.peek(), '...')) this.take();
              if (this.is(this.peek(), ',')) this.take();
              else break;
            }
            return this.expect(')', `to close the call of ${t.text}(…)`);
          });
          return { ...at, end: close.end, literal: false };
        }
        return { ...at, literal: false }; // a variable
      }
      case 'punct':
        if (t.text === '[') return this.list(t);
        if (t.text === '{') return this.map(t);
        if (t.text === '(') {
          this.take();
          const close = this.within(true, () => {
            this.expr();
            return this.expect(')', `to close the "(" on line ${t.line}`);
          });
          return { ...at, end: close.end, literal: false };
        }
    }
    throw new Stop(t.line, `expected a value, found ${describe(t)}`);
  }

  /** A for expression, [for … : …] or {for … : …}: skipped to its closing bracket. */
  private forExpr(open: Tok, closer: string): HclExpr {
    let depth = 0;
    for (;;) {
      const t = this.toks[this.pos]!;
      if (t.kind === 'bad') throw new Stop(t.line, t.text);
      if (t.kind === 'eof') throw new Stop(open.line, `"${open.text}" is never closed: add ${closer}`);
      this.pos++;
      if (t.kind === 'punct' && '([{'.includes(t.text)) depth++;
      if (t.kind === 'punct' && ')]}'.includes(t.text)) {
        if (depth === 0) return { line: open.line, start: open.start, end: t.end, literal: false };
        depth--;
      }
    }
  }

  private list(open: Tok): HclExpr {
    this.take();
    return this.within(true, () => {
      if (this.peek().kind === 'ident' && this.peek().text === 'for') return this.forExpr(open, ']');
      const items: HclExpr[] = [];
      for (;;) {
        if (this.is(this.peek(), ']')) break;
        if (this.peek().kind === 'eof') throw new Stop(open.line, 'the list "[" is never closed: add ]');
        items.push(this.expr());
        const sep = this.peek();
        if (this.is(sep, ',')) this.take();
        else if (!this.is(sep, ']')) {
          if (sep.kind === 'eof' || this.is(sep, '}') || this.is(sep, ')')) throw new Stop(open.line, `the list "[" is never closed: add ]${sep.kind === 'eof' ? '' : ` before the "${sep.text}" on line ${sep.line}`}`);
          throw new Stop(sep.line, `expected "," or "]" in the list, found ${describe(sep)}`);
        }
      }
      const close = this.take();
      return { line: open.line, start: open.start, end: close.end, literal: items.every((x) => x.literal), items };
    });
  }

  private map(open: Tok): HclExpr {
    this.take();
    return this.within(false, () => {
      this.skipNewlines();
      if (this.peek().kind === 'ident' && this.peek().text === 'for') return this.forExpr(open, '}');
      const entries: HclEntry[] = [];
      let literal = true;
      for (;;) {
        this.skipNewlines();
        const k = this.peek();
        if (this.is(k, '}')) break;
        if (k.kind === 'eof') throw new Stop(open.line, 'the map "{" is never closed: add }');
        let key: string | null = null;
        if (k.kind === 'ident' && (this.is(this.toks[this.pos + 1]!, '=') || this.is(this.toks[this.pos + 1]!, ':'))) {
          this.take();
          key = k.text;
        } else {
          const ke = this.expr();
          if (k.kind === 'string' && ke.literal && ke.start === k.start && ke.end === k.end) key = k.text;
          else literal = false;
        }
        const eq = this.peek();
        if (!this.is(eq, '=') && !this.is(eq, ':')) throw new Stop(eq.line, `expected "=" after the key ${key ?? ''} in the map, found ${describe(eq)}`.replace('key  in', 'key in'));
        this.take();
        const v = this.peek();
        if (v.kind === 'nl') throw new Stop(k.line, `${key ?? 'the key'} = has no value`);
        const value = this.expr();
        literal &&= value.literal;
        entries.push({ key, line: k.line, value });
        const sep = this.raw();
        if (this.is(sep, ',')) this.pos++;
        else if (sep.kind !== 'nl' && !this.is(sep, '}')) {
          if (sep.kind === 'eof' || this.is(sep, ']') || this.is(sep, ')')) throw new Stop(open.line, `the map "{" is never closed: add }${sep.kind === 'eof' ? '' : ` before the "${sep.text}" on line ${sep.line}`}`);
          throw new Stop(sep.line, `expected "," or a new line between the entries of the map, found ${describe(sep)}`);
        }
      }
      const close = this.take();
      return { line: open.line, start: open.start, end: close.end, literal, entries };
    });
  }
}

/** The outline of an HCL text: positions of what it holds, and its first syntax error. */
export function outlineHcl(text: string): HclOutline {
  const body: HclBody = { attrs: [], blocks: [] };
  try {
    new Parser(tokenize(text)).body(body);
    return { body };
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    return { body, error: { line: e.line, message: e.message } };
  }
}
