// load (DESIGN "The pipeline", 2): the optional bulwark.hcl → Site.
//
// bulwark.hcl is HCL (like Packer's), holding literal values only: no variables, functions or
// interpolation. bulwark.schema.json describes the same, for editors.
//
//   suite           = "trixie"                                 # or "bookworm"; default trixie
//   mirror          = "http://deb.debian.org/debian"           # Debian mirror
//   security_mirror = "http://deb.debian.org/debian-security"  # Debian security mirror
//   targets         = ["docker", "qemu"]                       # docker, qemu, aws, gcp, digitalocean; default docker
//
//   app "shop" {                     # the name: [a-z0-9-], names the image, unit, user and paths
//     path        = "./shop"         # relative to bulwark.hcl; default "./<name>", or "." for a site of one app
//     framework   = "express"        # settles detection: express django flask static node python
//     port        = 3000             # the port the app listens on
//     health_path = "/healthz"       # answered with 2xx when the app is up
//     domains     = ["shop.example.com"]                    # host names the proxy serves it on
//     env         = { NODE_OPTIONS = "--max-old-space-size=256" }  # plain settings, never secrets
//     secrets     = ["STRIPE_KEY"]   # generated at first start, like detected secrets
//   }
//
// Secure by default: an env name that looks like a secret (PASS, SECRET, KEY, TOKEN) is refused;
// it belongs in `secrets`, which never holds values. Every error is one line naming the file and,
// wherever the outline knows it, the line (hcl2-parser gives no positions; see hcl-outline.ts).
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { usageError } from '../types.js';
import { outlineHcl } from './hcl-outline.js';
import type { Site } from './types.js';
import { SiteInvalid, validateSite } from './validate.js';

export const siteFileName = 'bulwark.hcl';

/** The file as a message shows it: relative to the working folder when it is inside it. */
export function shownPath(file: string, cwd = process.cwd()): string {
  const r = relative(cwd, file);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : file;
}

const kindOf = (p: string): 'dir' | 'file' | 'missing' => {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
};

/**
 * hcl2-parser (GopherJS) returns [json, error]; the error comes back as an empty object, with no
 * message and no position, and some inputs make it panic (an exception). Both mean: not valid.
 */
async function parseWithHcl2(text: string): Promise<Record<string, unknown> | null> {
  const { default: hcl } = await import('hcl2-parser'); // 3.8 MB of JS: loaded only when there is a bulwark.hcl
  try {
    const [value, error] = hcl.parseToObject(text) as [unknown, unknown];
    return error === null && typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The Site for a project folder: from <dir>/bulwark.hcl, or one app in dir when there is none. */
export async function loadSite(dir: string): Promise<Site> {
  const file = join(dir, siteFileName);
  const kind = kindOf(file);
  if (kind === 'missing') return { file: null, projectDir: dir, apps: [{ name: '', path: dir, domains: [], env: {}, secrets: [] }] };
  const shown = shownPath(file);
  if (kind === 'dir') throw usageError(`${shown} is a folder; bulwark.hcl must be a file`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw usageError(`${shown}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return validateSite({ file, shown, text, doc: await parseWithHcl2(text), outline: outlineHcl(text), kindOf });
  } catch (e) {
    if (!(e instanceof SiteInvalid)) throw e;
    const { line, message } = e.problem;
    throw usageError(`${shown}${line ? `:${line}` : ''}: ${message}`);
  }
}
