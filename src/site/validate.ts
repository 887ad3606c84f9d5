// bulwark.hcl, as hcl2-parser's JSON plus the outline's positions → a typed Site, or one error line
// that names the file and, wherever the outline knows it, the line. Pure: the folder check is passed in.
// The language itself is described in load.ts and bulwark.schema.json.
import { dirname, resolve } from 'node:path';
import { normalizeAppName } from '../names.js';
import type { Framework } from '../types.js';
import type { Suite } from '../plan/types.js';
import type { HclAttr, HclBlock, HclBody, HclExpr, HclOutline } from './hcl-outline.js';
import { didYouMean } from './suggest.js';
import { siteFrameworks, siteSuites, siteTargets, type Site, type SiteApp, type SiteAppLines } from './types.js';

export const siteKeys = ['suite', 'mirror', 'security_mirror', 'targets', 'acme_directory', 'acme_email', 'app'] as const;
export const appKeys = ['path', 'framework', 'port', 'health_path', 'domains', 'env', 'secrets'] as const;

/** Env names that look like secrets: they go in `secrets`, never in plain config. */
export const secretLooking = /PASS|SECRET|KEY|TOKEN/;
const envName = /^[A-Z_][A-Z0-9_]*$/;

export interface SiteSource {
  /** Absolute path of bulwark.hcl. */
  file: string;
  /** The file as messages print it. */
  shown: string;
  text: string;
  /** hcl2-parser's result; null when it failed (it gives no message). */
  doc: Record<string, unknown> | null;
  outline: HclOutline;
  /** What is at an absolute path. */
  kindOf: (path: string) => 'dir' | 'file' | 'missing';
}

export interface SiteProblem {
  line?: number;
  message: string;
}

/** Thrown with the first problem (by line); load.ts turns it into a usage error. */
export class SiteInvalid extends Error {
  constructor(readonly problem: SiteProblem) {
    super(problem.message);
  }
}

type Json = unknown;
const isMap = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: Json): string => (Array.isArray(v) ? 'a list' : isMap(v) ? 'a map' : typeof v === 'string' ? JSON.stringify(v) : String(v));
const orList = (xs: readonly string[]) => `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** hcl2-parser writes what it cannot evaluate as "${…}" strings. */
const hasExpression = (v: Json): boolean =>
  typeof v === 'string' ? /[$%]\{/.test(v) : Array.isArray(v) ? v.some(hasExpression) : isMap(v) ? Object.entries(v).some(([k, x]) => hasExpression(k) || hasExpression(x)) : false;

/** The smallest part of an expression that is not a literal, to quote it. */
function nonLiteral(e: HclExpr): HclExpr | undefined {
  if (e.literal) return undefined;
  for (const item of e.items ?? []) if (!item.literal) return nonLiteral(item);
  for (const entry of e.entries ?? []) if (!entry.value.literal) return nonLiteral(entry.value);
  return e;
}

/** How each setting is written, for "write it like this" hints. */
const examples: Record<string, string> = {
  suite: 'suite = "trixie"',
  mirror: 'mirror = "http://deb.debian.org/debian"',
  security_mirror: 'security_mirror = "http://deb.debian.org/debian-security"',
  targets: 'targets = ["docker"]',
  acme_directory: 'acme_directory = "https://acme-v02.api.letsencrypt.org/directory"',
  acme_email: 'acme_email = "ops@example.com"',
  path: 'path = "./shop"',
  framework: 'framework = "express"',
  port: 'port = 3000',
  health_path: 'health_path = "/healthz"',
  domains: 'domains = ["shop.example.com"]',
  env: 'env = { NAME = "value" }',
  secrets: 'secrets = ["API_TOKEN"]',
};

/** Why a host name is not one, or undefined when it is fine. */
export function hostNameProblem(d: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(d)) {
    let host = '';
    try {
      host = new URL(d).hostname;
    } catch {
      /* no hint then */
    }
    return `write the host name only${host ? `: ${host}` : ', without the scheme'}`;
  }
  if (d.includes('/')) return 'write the host name only, without a path';
  if (/^[^:]+:\d+$/.test(d)) return 'write the host name without a port (the proxy serves 80 and 443)';
  if (d.startsWith('*.')) return 'wildcard names are not supported; list each host name';
  if (/^\d+(\.\d+){3}$/.test(d) || d.includes(':')) return 'that is an IP address; domains are host names';
  if (d.endsWith('.')) return 'write it without the trailing dot';
  if (/[^\x00-\x7f]/.test(d)) {
    let ascii = '';
    try {
      ascii = new URL(`http://${d}`).hostname;
    } catch {
      /* no hint then */
    }
    return `write international names in their xn-- form${ascii ? `: ${ascii}` : ''}`;
  }
  const labels = d.split('.');
  if (d.length > 253 || !labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l)) || /^\d+$/.test(labels[labels.length - 1]!))
    return 'a host name is letters, digits and dashes in dot-separated parts, like shop.example.com';
  return undefined;
}

/** Reads one block's (or the top level's) settings, recording problems with their lines. */
class Section {
  constructor(
    private readonly problems: SiteProblem[],
    private readonly text: string,
    private readonly obj: Record<string, Json>,
    private readonly body: HclBody | undefined,
    /** 'app "shop": ' or '' */
    private readonly prefix: string,
    private readonly fallbackLine?: number,
  ) {}

  attr(key: string): HclAttr | undefined {
    return this.body?.attrs.find((a) => a.name === key);
  }

  line(key: string): number | undefined {
    return this.attr(key)?.line ?? this.body?.blocks.find((b) => b.type === key)?.line ?? this.fallbackLine;
  }

  fail(line: number | undefined, message: string): undefined {
    this.problems.push({ line, message: this.prefix + message });
    return undefined;
  }

  /** The value of a setting, once it is known to be written as a literal setting; undefined when unset or null. */
  value(key: string): Json | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    const block = this.body?.blocks.find((b) => b.type === key);
    if (block && !this.attr(key)) return this.fail(block.line, `${key} is a setting, not a block: write ${examples[key] ?? `${key} = …`}`);
    if (hasExpression(v)) {
      const a = this.attr(key);
      const e = a && nonLiteral(a.value);
      // The outline says literal: a $${…} escape, not an expression.
      if (!a || e) {
        const src = e ? this.text.slice(e.start, e.end) : show(v);
        return this.fail(e?.line ?? this.line(key), `${key}: ${src} is an expression; bulwark.hcl does not evaluate variables, functions or interpolation, so write the value itself`);
      }
    }
    return v;
  }

  string(key: string): string | undefined {
    const v = this.value(key);
    if (v === undefined || typeof v === 'string') return v;
    return this.fail(this.line(key), `${key} must be a string, like ${examples[key]}, got ${show(v)}`);
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], what: string): T | undefined {
    const v = this.string(key);
    if (v === undefined || (allowed as readonly string[]).includes(v)) return v as T | undefined;
    return this.fail(this.line(key), `unknown ${what} ${JSON.stringify(v)}${didYouMean(v, allowed)} (choose ${orList(allowed)})`);
  }

  url(key: string): string | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    let ok = false;
    try {
      const u = new URL(v);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && !u.search && !u.hash;
    } catch {
      /* reported below */
    }
    if (!ok) return this.fail(this.line(key), `${key} must be an http:// or https:// URL, like ${examples[key]}, got ${show(v)}`);
    return v.replace(/\/+$/, '');
  }

  port(key: string): number | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    // HCL converts "3000" to a number where a number is wanted; so does Bulwark.
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
    return this.fail(this.line(key), `${key} must be an integer 1-65535, got ${show(v)}`);
  }

  /** A list of strings, each with its line. */
  strings(key: string): Array<{ value: string; line: number | undefined }> | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.fail(this.line(key), `${key} must be a list of strings, like ${examples[key]}, got ${show(v)}`);
    const items = this.attr(key)?.value.items;
    const out: Array<{ value: string; line: number | undefined }> = [];
    v.forEach((x, i) => {
      const line = items?.[i]?.line ?? this.line(key);
      if (typeof x === 'string') out.push({ value: x, line });
      else this.fail(line, `${key} must be a list of strings, like ${examples[key]}, got ${show(x)} in it`);
    });
    return out.length === v.length ? out : undefined;
  }

  /** A map, each entry with the line of its key. Duplicate keys are an error (hcl2-parser keeps the last). */
  map(key: string): Array<{ key: string; value: Json; line: number | undefined }> | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (!isMap(v)) return this.fail(this.line(key), `${key} must be a map, like ${examples[key]}, got ${show(v)}`);
    const entries = this.attr(key)?.value.entries ?? [];
    const seen = new Map<string, number>();
    for (const e of entries) {
      if (e.key === null) continue;
      const first = seen.get(e.key);
      if (first !== undefined) return this.fail(e.line, `${key} sets ${e.key} twice (first on line ${first})`);
      seen.set(e.key, e.line);
    }
    return Object.entries(v).map(([k, x]) => ({ key: k, value: x, line: seen.get(k) ?? this.line(key) }));
  }

  unknownKeys(known: readonly string[], hint: (key: string) => string): void {
    for (const key of Object.keys(this.obj)) {
      if (known.includes(key)) continue;
      const isBlock = !this.attr(key) && this.body?.blocks.some((b) => b.type === key);
      this.fail(this.line(key), `unknown ${isBlock ? 'block' : 'setting'} "${key}"${hint(key)}`);
    }
  }
}

const blockName = (b: HclBlock) => [b.type, ...b.labels.map((l) => JSON.stringify(l))].join(' ');

export function validateSite(src: SiteSource): Site {
  const { outline, doc, text } = src;
  const top = outline.body;
  if (doc === null) {
    if (outline.error) throw new SiteInvalid({ line: outline.error.line, message: `syntax error: ${outline.error.message}` });
    const odd = top.blocks.find((b) => b.type === 'app' && b.labels.length !== 1);
    if (odd) throw new SiteInvalid({ line: odd.line, message: `${blockName(odd)}: an app block takes one name, like app "shop" { … }` });
    throw new SiteInvalid({ message: 'syntax error (the HCL parser reports no position: check quotes, brackets and braces, and that each setting is on its own line)' });
  }

  const problems: SiteProblem[] = [];
  const site = new Section(problems, text, doc, top, '');
  site.unknownKeys(siteKeys, (k) =>
    (appKeys as readonly string[]).includes(k)
      ? `: ${k} belongs in an app block, like app "shop" { ${examples[k]} }`
      : `${didYouMean(k, siteKeys)} (bulwark.hcl takes ${siteKeys.filter((x) => x !== 'app').join(', ')} and app blocks)`,
  );
  const suite = site.oneOf<Suite>('suite', siteSuites, 'suite');
  const mirror = site.url('mirror');
  const securityMirror = site.url('security_mirror');
  const acmeDirectory = site.url('acme_directory');
  if (acmeDirectory && !acmeDirectory.startsWith('https://')) site.fail(site.line('acme_directory'), `acme_directory must be an https:// URL (ACME runs over HTTPS), like ${examples.acme_directory}`);
  const acmeEmail = site.string('acme_email');
  if (acmeEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(acmeEmail)) site.fail(site.line('acme_email'), `acme_email must be an e-mail address, like ${examples.acme_email}`);
  let targets: string[] | undefined;
  const t = site.strings('targets');
  if (t) {
    targets = [];
    for (const { value, line } of t) {
      if (!(siteTargets as readonly string[]).includes(value)) site.fail(line, `unknown target ${JSON.stringify(value)} in targets${didYouMean(value, siteTargets)} (choose ${orList(siteTargets)})`);
      else if (!targets.includes(value)) targets.push(value);
    }
    if (!t.length) site.fail(site.line('targets'), `targets is empty; list at least one of ${orList(siteTargets)}, or leave it out for docker`);
  }

  const read = readApps(src, problems);
  const apps = read.map((r) => r.app);
  if (apps.length === 0 && !problems.length) problems.push({ message: 'no app block: add one, like app "shop" { path = "./shop" }' });

  // One host name, one app: the proxy routes by name.
  const owner = new Map<string, string>();
  for (const { app, domainLines } of read)
    for (const d of app.domains) {
      const o = owner.get(d);
      if (o) problems.push({ line: domainLines.get(d), message: `app "${app.name}": domain ${d} is already served by app "${o}"; a host name belongs to one app` });
      else owner.set(d, app.name);
    }

  if (problems.length) {
    const first = [...problems].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity))[0]!;
    throw new SiteInvalid(first);
  }
  const out: Site = { file: src.file, projectDir: dirname(src.file), apps };
  if (suite) out.suite = suite;
  if (mirror) out.mirror = mirror;
  if (securityMirror) out.securityMirror = securityMirror;
  if (targets) out.targets = targets;
  if (acmeDirectory) out.acmeDirectory = acmeDirectory;
  if (acmeEmail) out.acmeEmail = acmeEmail;
  return out;
}

/** The app blocks, in file order; each must have exactly one name, used once. */
function readApps(src: SiteSource, problems: SiteProblem[]): ReadApp[] {
  const { doc, outline } = src;
  const top = outline.body;
  const v = doc!.app;
  const outlined = top.blocks.filter((b) => b.type === 'app');
  const fail = (line: number | undefined, message: string) => void problems.push({ line, message });
  if (v === undefined || v === null) return [];
  const asAttr = top.attrs.find((a) => a.name === 'app');
  if (asAttr || !(isMap(v) || Array.isArray(v))) {
    fail(asAttr?.line, 'app is a block, not a setting: write app "shop" { … }');
    return [];
  }
  if (Array.isArray(v)) {
    fail(outlined.find((b) => b.labels.length === 0)?.line, 'an app block needs a name, like app "shop" { … }');
    return [];
  }

  const found: Array<{ name: string; obj: Record<string, Json>; block?: HclBlock }> = [];
  for (const [name, occurrences] of Object.entries(v)) {
    const blocks = outlined.filter((b) => b.labels.length === 1 && b.labels[0] === name);
    if (!Array.isArray(occurrences) || !occurrences.every(isMap)) {
      const b = outlined.find((x) => x.labels.length > 1 && x.labels[0] === name);
      fail(b?.line, `${b ? blockName(b) : `app "${name}" …`}: an app block takes one name, like app "shop" { … }`);
      continue;
    }
    occurrences.forEach((obj, i) => {
      if (i > 0) fail(blocks[i]?.line, `app "${name}" is defined twice (first on line ${blocks[0]?.line ?? '?'}); give each app its own name`);
      else found.push({ name, obj, block: blocks[0] });
    });
  }
  found.sort((a, b) => (a.block?.line ?? 0) - (b.block?.line ?? 0));
  return found.map((f) => readApp(src, problems, f.name, f.obj, f.block, found.length === 1));
}

interface ReadApp {
  app: SiteApp;
  /** Line of each domain, for the one-host-one-app check. */
  domainLines: Map<string, number | undefined>;
}

function readApp(src: SiteSource, problems: SiteProblem[], name: string, obj: Record<string, Json>, block: HclBlock | undefined, single: boolean): ReadApp {
  const domainLines = new Map<string, number | undefined>();
  const s = new Section(problems, src.text, obj, block?.body, `app "${name}": `, block?.line);
  const normal = normalizeAppName(name);
  if (!name || name !== normal) {
    const why = 'app names are lowercase letters, digits and dashes (a name names the image, the unit, the user and the paths)';
    s.fail(block?.line, normal ? `${why}; use app "${normal}"` : name ? `${why}; this one has none of them` : `an app needs a name, like app "shop" { … }`);
  }
  s.unknownKeys(appKeys, (k) =>
    k === 'app'
      ? ': app blocks do not nest; put each at the top level of bulwark.hcl'
      : (siteKeys as readonly string[]).includes(k)
      ? `: ${k} is set for the whole site, at the top of bulwark.hcl, outside the app blocks`
      : `${didYouMean(k, appKeys)} (an app block takes ${appKeys.join(', ')})`,
  );

  const lines: SiteAppLines = {};
  const at = (key: string): number | undefined => s.attr(key)?.line;
  const note = (k: keyof SiteAppLines, key: string) => {
    const l = at(key);
    if (l !== undefined) lines[k] = l;
  };
  if (block) lines.block = block.line;

  // path: relative to bulwark.hcl; "./<name>" by default, or "." for a site of one app.
  const base = dirname(src.file);
  const written = s.string('path');
  const rel = written ?? (single ? '.' : `./${name}`);
  const path = resolve(base, rel);
  if (written !== undefined || !single) {
    const kind = src.kindOf(path);
    if (written === undefined && kind !== 'dir') s.fail(block?.line, `no folder ./${name} next to bulwark.hcl; set path = "…" to the app's folder`);
    else if (kind === 'missing') s.fail(at('path'), `path ${JSON.stringify(written)} does not exist (looked for ${path})`);
    else if (kind === 'file') s.fail(at('path'), `path ${JSON.stringify(written)} is a file; give the app's folder`);
  }
  const app: SiteApp = { name, path, domains: [], env: {}, secrets: [] };
  if (written !== undefined) note('path', 'path');

  const framework = s.oneOf<Framework>('framework', siteFrameworks, 'framework');
  if (framework) {
    app.framework = framework;
    note('framework', 'framework');
  }
  const port = s.port('port');
  if (port !== undefined) {
    app.port = port;
    note('port', 'port');
  }
  const health = s.string('health_path');
  if (health !== undefined) {
    if (!/^\/[^\s]*$/.test(health)) s.fail(at('health_path'), `health_path must be a URL path starting with "/", like "/healthz", got ${show(health)}`);
    else {
      app.healthPath = health;
      note('healthPath', 'health_path');
    }
  }

  for (const { value, line } of s.strings('domains') ?? []) {
    const why = hostNameProblem(value);
    const host = value.toLowerCase();
    if (why) s.fail(line, `${JSON.stringify(value)} in domains is not a host name: ${why}`);
    else if (!app.domains.includes(host)) {
      app.domains.push(host);
      domainLines.set(host, line);
    }
  }
  note('domains', 'domains');

  const secrets = new Set<string>();
  for (const { value, line } of s.strings('secrets') ?? []) {
    if (!envName.test(value)) s.fail(line, `secret ${JSON.stringify(value)} must be an environment variable name matching [A-Z_][A-Z0-9_]*${suggestEnvName(value)}`);
    else secrets.add(value);
  }
  app.secrets = [...secrets].sort(byName);
  note('secrets', 'secrets');

  const env: Array<[string, string]> = [];
  for (const { key, value, line } of s.map('env') ?? []) {
    if (!envName.test(key)) s.fail(line, `env name ${JSON.stringify(key)} must match [A-Z_][A-Z0-9_]*${suggestEnvName(key)}`);
    else if (secretLooking.test(key))
      s.fail(line, `env ${key} looks like a secret, and secrets never go in plain config: list it under secrets = ["${key}"] instead (Bulwark generates it at first start and keeps it root-only on the instance)`);
    else if (key === 'PORT') s.fail(line, 'env PORT: set port = … in the app block instead (Bulwark passes PORT to the app)');
    else if (secrets.has(key)) s.fail(line, `${key} is in both env and secrets; keep it in secrets only`);
    else if (typeof value === 'string') env.push([key, value]);
    else if (typeof value === 'number' || typeof value === 'boolean') env.push([key, String(value)]); // as HCL converts them
    else s.fail(line, `env ${key} must be a string, got ${show(value)}`);
  }
  app.env = Object.fromEntries(env.sort(([a], [b]) => byName(a, b)));
  note('env', 'env');

  if (block) app.lines = lines;
  return { app, domainLines };
}

/** " (e.g. NODE_OPTIONS)" for a name that is close to a valid env name. */
function suggestEnvName(name: string): string {
  const fixed = name.toUpperCase().replace(/[^A-Z0-9_]+/g, '_').replace(/^(?=[0-9])/, '_');
  return envName.test(fixed) && fixed !== name ? `, like ${fixed}` : '';
}
