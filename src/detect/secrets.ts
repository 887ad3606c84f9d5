// Secrets the app reads from its environment: Bulwark generates them per instance (first boot)
// and passes them as environment, so they never land in an image.
import type { Secret } from '../types.js';
import type { DetectContext } from './context.js';
import { collect, findAll, type Hit } from './evidence.js';

/** Environment variable names that hold secrets. */
export const secretName = /SECRET|TOKEN|PASSWORD|API_KEY|_KEY$/;

export interface EnvRead {
  name: string;
  file: string;
  line: number;
}

const patterns = {
  js: [
    /process\.env\.([A-Za-z_][A-Za-z0-9_]*)/,
    /process\.env\[\s*['"`]([A-Za-z_][A-Za-z0-9_]*)['"`]\s*\]/,
  ],
  py: [
    /os\.environ\s*\[\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\]/,
    /(?:os\.environ\.get|os\.environ\.setdefault|os\.getenv|environ\.get)\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]/,
    // django-environ's env('X') / env.str('X') and python-decouple's config('X')
    /\b(?:env(?:\.\w+)?|config)\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]/,
  ],
};

/** Every environment variable the text reads, with its line. */
export function envReads(file: string, text: string, lang: 'js' | 'py'): EnvRead[] {
  const hits: Hit[] = patterns[lang].flatMap((re) => findAll(file, text, re));
  const out = hits.map((h) => ({ name: h.match[1], file, line: h.line }));
  if (lang === 'js') {
    // const { SESSION_SECRET, PORT = 3000 } = process.env
    for (const h of findAll(file, text, /\{([^{}]*)\}\s*=\s*process\.env\b/)) {
      for (const part of h.match[1].split(',')) {
        const name = /^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(part)?.[1];
        if (name) out.push({ name, file, line: h.line });
      }
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Secrets read by the given files; `also` names variables that are secrets whatever their name. */
export function findSecrets(ctx: DetectContext, files: string[], lang: 'js' | 'py', also: Set<string> = new Set()): Secret[] {
  const map = new Map<string, Secret>();
  for (const f of files) {
    const text = ctx.read(f);
    if (text === undefined) continue;
    for (const r of envReads(f, text, lang))
      if (secretName.test(r.name) || also.has(r.name)) collect(map, r.name, () => ({ env: r.name, evidence: [] }), { file: r.file, line: r.line });
  }
  return [...map.values()];
}
