// The npm packages an app ships, read from its dependency lockfile: package-lock.json
// (lockfileVersion 1–3) or yarn.lock (Yarn 4 "berry", and classic Yarn 1 for bookworm).
// Production only by default, matching the image (`npm ci --omit=dev`, `yarnpkg … --production`).
import { parse as parseYaml } from 'yaml';
import type { SbomInput } from './types.js';

export type NpmComponent = SbomInput['npm'][number];

interface LockEntry {
  name?: unknown;
  version?: unknown;
  integrity?: unknown;
  resolved?: unknown;
  dev?: unknown;
  link?: unknown;
  dependencies?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "node_modules/a/node_modules/@s/b" → "@s/b". */
const nameFromPath = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

function sortUnique(list: NpmComponent[]): NpmComponent[] {
  const seen = new Map<string, NpmComponent>();
  for (const c of list) {
    const key = `${c.name}@${c.version}`;
    const had = seen.get(key);
    // The same name@version at several paths is one component; it is production if any copy is.
    if (!had) seen.set(key, c);
    else if (had.dev && !c.dev) seen.set(key, c);
  }
  return [...seen.values()].sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : a.version > b.version ? 1 : 0) : a.name < b.name ? -1 : 1));
}

function component(name: string, e: LockEntry, dev: boolean): NpmComponent {
  const c: NpmComponent = { name, version: String(e.version) };
  if (typeof e.integrity === 'string') c.integrity = e.integrity;
  if (typeof e.resolved === 'string') c.resolved = e.resolved;
  if (dev) c.dev = true;
  return c;
}

/**
 * Installed packages of a package-lock.json: lockfileVersion 2/3 `packages` (the root "" and
 * workspace folders skipped, links skipped), or lockfileVersion 1 nested `dependencies`.
 * dev:true entries are left out unless `includeDev`, and are then flagged `dev`.
 */
export function npmComponentsFromLock(packageLockJson: unknown, opts: { includeDev?: boolean } = {}): NpmComponent[] {
  if (!isObject(packageLockJson)) return [];
  const out: NpmComponent[] = [];
  const keep = (e: LockEntry) => typeof e.version === 'string' && e.version !== '' && (opts.includeDev || e.dev !== true);
  if (isObject(packageLockJson.packages)) {
    for (const [path, raw] of Object.entries(packageLockJson.packages)) {
      if (!path.includes('node_modules/') || !isObject(raw)) continue;
      const e = raw as LockEntry;
      if (e.link === true || !keep(e)) continue;
      // An alias ("node_modules/foo": {"name": "bar"}) installs the real package bar.
      const name = typeof e.name === 'string' && e.name ? e.name : nameFromPath(path);
      out.push(component(name, e, e.dev === true));
    }
    return sortUnique(out);
  }
  const walk = (deps: unknown) => {
    if (!isObject(deps)) return;
    for (const [name, raw] of Object.entries(deps)) {
      if (!isObject(raw)) continue;
      const e = raw as LockEntry;
      if (keep(e) && !String(e.version).startsWith('file:')) out.push(component(name, e, e.dev === true));
      walk(e.dependencies);
    }
  };
  walk(packageLockJson.dependencies);
  return sortUnique(out);
}

/** "@scope/name@npm:1.2.3" → ["@scope/name", "npm:1.2.3"]. */
function splitDescriptor(d: string): [string, string] {
  const at = d.indexOf('@', d.startsWith('@') ? 1 : 0);
  return at < 0 ? [d, ''] : [d.slice(0, at), d.slice(at + 1)];
}

/**
 * Packages of a Yarn 4 (berry) yarn.lock. Only `npm:` resolutions are npm packages; workspaces
 * (the app itself), patches (the npm entry they patch is listed too) and links are skipped.
 * Berry's `checksum` hashes Yarn's cache zip, not the npm tarball, so it is not an integrity.
 * yarn.lock does not say which packages are dev-only.
 */
export function yarnComponentsFromBerryLock(text: string): NpmComponent[] {
  const doc: unknown = parseYaml(text);
  if (!isObject(doc)) return [];
  const out: NpmComponent[] = [];
  for (const [key, raw] of Object.entries(doc)) {
    if (key === '__metadata' || !isObject(raw)) continue;
    const resolution = typeof raw.resolution === 'string' ? raw.resolution : '';
    const [name, ref] = splitDescriptor(resolution);
    if (!ref.startsWith('npm:')) continue;
    const version = typeof raw.version === 'string' ? raw.version : ref.slice(4);
    out.push({ name, version });
  }
  return sortUnique(out);
}

/** Packages of a classic Yarn 1 yarn.lock (Debian bookworm's yarnpkg). */
export function yarnComponentsFromClassicLock(text: string): NpmComponent[] {
  const out: NpmComponent[] = [];
  let cur: { name: string; fields: Record<string, string> } | null = null;
  const flush = () => {
    if (cur?.fields['version']) {
      const c: NpmComponent = { name: cur.name, version: cur.fields['version'] };
      if (cur.fields['integrity']) c.integrity = cur.fields['integrity'];
      if (cur.fields['resolved']) c.resolved = cur.fields['resolved'];
      out.push(c);
    }
    cur = null;
  };
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      flush();
      // `"@s/a@^1", "@s/a@^1.2":` or `a@^1:`: the name is the first descriptor's.
      const first = line.replace(/:\s*$/, '').split(',')[0]!.trim().replace(/^"|"$/g, '');
      const [name, range] = splitDescriptor(first);
      // file:, link: and workspace descriptors are the app's own code.
      cur = /^(file|link|portal|workspace):/.test(range) ? { name: '', fields: {} } : { name, fields: {} };
      continue;
    }
    const m = line.match(/^ {2}(\w+)\s+"?([^"]*)"?\s*$/);
    if (m && cur && cur.name) cur.fields[m[1]!] = m[2]!;
  }
  flush();
  return sortUnique(out);
}

/** Either yarn.lock flavour, by its header. */
export function yarnComponentsFromLock(text: string): NpmComponent[] {
  return /^# yarn lockfile v1/m.test(text.slice(0, 500)) ? yarnComponentsFromClassicLock(text) : yarnComponentsFromBerryLock(text);
}
