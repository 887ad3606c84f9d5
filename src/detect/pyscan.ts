// A cheap look at Python source without running Python: is it lexically sound (strings closed,
// brackets balanced), and where does a bracketed block end. Enough to reject a broken settings.py
// with a file:line before a build spends minutes finding out.

export interface PyProblem {
  line: number;
  message: string;
}

const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** The first lexical problem in Python source, or undefined. */
export function checkPythonText(text: string): PyProblem | undefined {
  const stack: { ch: string; line: number }[] = [];
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      continue;
    }
    if (c === '#') {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const startLine = line;
      const triple = text.startsWith(c.repeat(3), i);
      const q = triple ? c.repeat(3) : c;
      i += q.length;
      let closed = false;
      for (; i < text.length; i++) {
        const d = text[i];
        if (d === '\\') {
          if (text[i + 1] === '\n') line++;
          i++;
          continue;
        }
        if (d === '\n') {
          if (!triple) break;
          line++;
          continue;
        }
        if (text.startsWith(q, i)) {
          i += q.length - 1;
          closed = true;
          break;
        }
      }
      if (!closed) return { line: startLine, message: triple ? 'unterminated triple-quoted string' : 'unterminated string literal' };
      continue;
    }
    if (c === '(' || c === '[' || c === '{') stack.push({ ch: c, line });
    else if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop();
      if (!open) return { line, message: `unmatched '${c}'` };
      if (open.ch !== pairs[c]) return { line, message: `closing '${c}' does not match '${open.ch}' on line ${open.line}` };
    }
  }
  const open = stack.pop();
  return open ? { line: open.line, message: `'${open.ch}' was never closed` } : undefined;
}

/** The text of the bracketed block opening at or after `from` (strings and comments skipped), or undefined. */
export function bracketBlock(text: string, from: number): string | undefined {
  const start = text.slice(from).search(/[({[]/);
  if (start < 0) return undefined;
  let depth = 0;
  for (let i = from + start; i < text.length; i++) {
    const c = text[i];
    if (c === '#') {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c && text[i] !== '\n'; i++) if (text[i] === '\\') i++;
    } else if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c) && --depth === 0) return text.slice(from, i + 1);
  }
  return undefined;
}

/** A top-level `NAME = value` assignment: the value's first line and its line number. */
export function assignment(text: string, name: string): { value: string; line: number; index: number } | undefined {
  const m = new RegExp(`^${name}\\s*=\\s*(.*)$`, 'm').exec(text);
  if (!m) return undefined;
  let line = 1;
  for (let i = 0; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
  return { value: m[1].replace(/\s+#.*$/, '').trim(), line, index: m.index };
}

/** The string a value expression is, when it is a plain literal ('x', "x", r'x'). */
export function pyString(expr: string): string | undefined {
  return /^[rRuU]?(['"])(.*)\1$/.exec(expr.trim())?.[2];
}
