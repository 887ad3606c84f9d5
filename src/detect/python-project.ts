// Python project metadata: requirements.txt (and pyproject.toml [project]), the requested Python
// version (.python-version, runtime.txt, requires-python) and the declared name.
import { posix } from 'node:path';
import type { PythonRequirement } from '../types.js';
import type { DetectContext } from './context.js';
import { ev } from './evidence.js';
import type { NameSource } from './name.js';
import type { VersionRequest } from './runtimes.js';

interface Located {
  value: string;
  line: number;
}

export interface Pyproject {
  name?: Located;
  requiresPython?: Located;
  dependencies: Located[];
}

/** The few [project] keys Bulwark needs, read without a TOML parser (strings and string arrays only). */
export function readPyproject(ctx: DetectContext): Pyproject | undefined {
  const text = ctx.read('pyproject.toml');
  if (text === undefined) return undefined;
  const out: Pyproject = { dependencies: [] };
  const lines = text.split('\n');
  let table = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].replace(/\s+#.*$/, '').trim();
    const header = /^\[+\s*([^\]]+?)\s*\]+$/.exec(l);
    if (header) {
      table = header[1];
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(l);
    if (!kv) continue;
    const key = table === 'tool.poetry' || table === 'project' ? kv[1] : `${table}.${kv[1]}`;
    const str = /^(['"])(.*)\1$/.exec(kv[2])?.[2];
    if (key === 'name' && str !== undefined) out.name ??= { value: str, line: i + 1 };
    if (key === 'requires-python' && table === 'project' && str !== undefined) out.requiresPython = { value: str, line: i + 1 };
    if (key === 'dependencies' && table === 'project' && kv[2].startsWith('[')) {
      // A possibly multi-line array of strings: read up to the closing bracket.
      for (let j = i, rest = kv[2].slice(1); j < lines.length; rest = lines[++j] ?? '') {
        for (const m of rest.matchAll(/(['"])([^'"]+)\1/g)) out.dependencies.push({ value: m[2], line: j + 1 });
        if (/\]\s*(#.*)?$/.test(rest.replace(/(['"])[^'"]*\1/g, ''))) {
          i = j;
          break;
        }
      }
    }
  }
  return out;
}

/** "Django>=4.2,<5 ; python_version>'3.8'" → name and version spec (extras and markers dropped). */
function parseRequirement(s: string): { name: string; spec: string } | undefined {
  const noMarker = s.split(';')[0].trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$/.exec(noMarker);
  if (!m) return undefined;
  const spec = m[3].startsWith('@') ? '' : m[3].replace(/\s+/g, ''); // "pkg @ https://…" pins by URL
  return { name: m[1], spec };
}

function readRequirementsFile(ctx: DetectContext, file: string, depth: number, out: PythonRequirement[]): void {
  const text = ctx.read(file);
  if (text === undefined) return;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let l = lines[i];
    while (l.trimEnd().endsWith('\\') && i + 1 < lines.length) l = l.trimEnd().slice(0, -1) + ' ' + lines[++i]; // --hash continuations
    l = l.replace(/(^|\s)#.*$/, '').trim();
    if (!l) continue;
    const include = /^(?:-r|--requirement)(?:\s+|=)(\S+)/.exec(l);
    if (include) {
      // Follow one level: requirements.txt → base.txt is common; deeper chains are rare.
      if (depth === 0) readRequirementsFile(ctx, posix.normalize(posix.join(posix.dirname(file), include[1])), 1, out);
      continue;
    }
    if (l.startsWith('-') || /^[a-z+]+:\/\//i.test(l)) continue; // options, editable installs, bare URLs
    const r = parseRequirement(l.replace(/\s--hash=\S+/g, ''));
    if (r) out.push({ name: r.name, spec: r.spec, evidence: [ev(file, lineNo)] });
  }
}

/** requirements.txt (one level of -r followed), else pyproject [project] dependencies. */
export function readRequirements(ctx: DetectContext, py: Pyproject | undefined): PythonRequirement[] {
  const out: PythonRequirement[] = [];
  if (ctx.exists('requirements.txt')) readRequirementsFile(ctx, 'requirements.txt', 0, out);
  else if (py)
    for (const d of py.dependencies) {
      const r = parseRequirement(d.value);
      if (r) out.push({ name: r.name, spec: r.spec, evidence: [ev('pyproject.toml', d.line)] });
    }
  return out;
}

/** .python-version, runtime.txt, then requires-python. */
export function pythonVersionRequests(ctx: DetectContext, py: Pyproject | undefined): VersionRequest[] {
  const reqs: VersionRequest[] = [];
  for (const f of ['.python-version', 'runtime.txt']) {
    const v = ctx.read(f)?.split('\n').map((l) => l.replace(/#.*/, '').trim()).find(Boolean);
    if (v) reqs.push({ label: f, value: v, kind: 'python-minor', evidence: ev(f, 1) });
  }
  if (py?.requiresPython)
    reqs.push({ label: 'requires-python', value: py.requiresPython.value, kind: 'pep440', evidence: ev('pyproject.toml', py.requiresPython.line) });
  return reqs;
}

export const pyprojectName = (py: Pyproject | undefined): NameSource | undefined =>
  py?.name ? { value: py.name.value, file: 'pyproject.toml', line: py.name.line } : undefined;

/** Does a requirement with this (normalized, PEP 503) name exist? */
export const requires = (reqs: PythonRequirement[], name: string) =>
  reqs.find((r) => r.name.toLowerCase().replace(/[-_.]+/g, '-') === name);
