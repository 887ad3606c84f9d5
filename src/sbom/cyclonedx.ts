// SECURITY-CHECKS E1: a CycloneDX 1.5 JSON SBOM per app image, covering its Debian packages
// (with source packages), npm and Python dependencies. Pure and deterministic: the same input
// gives the same bytes (serial number derived from the content, timestamp from the input).
import { createHash } from 'node:crypto';
import { debPurl, npmPurl, pypiPurl } from './purl.js';
import type { SbomInput } from './types.js';

export type { SbomInput } from './types.js';
export { npmComponentsFromLock, yarnComponentsFromBerryLock } from './lockfiles.js';

interface Property {
  name: string;
  value: string;
}
interface Hash {
  alg: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
  content: string;
}
interface Component {
  'bom-ref': string;
  type: 'library' | 'application' | 'container';
  name: string;
  version: string;
  purl?: string;
  hashes?: Hash[];
  externalReferences?: Array<{ type: 'distribution'; url: string }>;
  properties?: Property[];
}

const props = (p: Record<string, string | undefined>): Property[] | undefined => {
  const out = Object.keys(p)
    .filter((k) => p[k] !== undefined && p[k] !== '')
    .sort()
    .map((name) => ({ name, value: p[name]! }));
  return out.length ? out : undefined;
};

const SRI_ALGS: Record<string, Hash['alg']> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
const DIGEST_BYTES: Record<Hash['alg'], number> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/** npm `integrity` (Subresource Integrity, "sha512-<base64> …") as CycloneDX hex hashes. */
export function hashesFromIntegrity(integrity: string | undefined): Hash[] {
  const out: Hash[] = [];
  for (const part of (integrity ?? '').trim().split(/\s+/)) {
    const m = part.match(/^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/=]+)(?:\?.*)?$/);
    if (!m) continue;
    const alg = SRI_ALGS[m[1]!]!;
    const digest = Buffer.from(m[2]!, 'base64');
    if (digest.length !== DIGEST_BYTES[alg]) continue; // a damaged integrity is no hash at all
    const content = digest.toString('hex');
    if (!out.some((h) => h.alg === alg && h.content === content)) out.push({ alg, content });
  }
  return out.sort((a, b) => (a.alg < b.alg ? -1 : a.alg > b.alg ? 1 : 0));
}

function debianComponent(p: SbomInput['debian'][number]): Component {
  const purl = debPurl(p);
  return {
    'bom-ref': purl,
    type: 'library',
    name: p.name,
    version: p.version,
    purl,
    hashes: /^[0-9a-f]{64}$/.test(p.sha256) ? [{ alg: 'SHA-256', content: p.sha256 }] : undefined,
    properties: props({
      'bulwark:layer': p.layer,
      'bulwark:suite': p.suite,
      'debian:source': p.source,
      'debian:source-version': p.sourceVersion,
    }),
  };
}

function npmComponent(p: SbomInput['npm'][number]): Component {
  const purl = npmPurl(p);
  const hashes = hashesFromIntegrity(p.integrity);
  return {
    'bom-ref': purl,
    type: 'library',
    name: p.name,
    version: p.version,
    purl,
    hashes: hashes.length ? hashes : undefined,
    externalReferences: p.resolved && /^https?:\/\//.test(p.resolved) ? [{ type: 'distribution', url: p.resolved }] : undefined,
    properties: props({ 'bulwark:scope': p.dev ? 'dev' : undefined }),
  };
}

function pythonComponent(p: SbomInput['python'][number]): Component {
  const purl = pypiPurl(p);
  return {
    'bom-ref': purl,
    type: 'library',
    name: p.name,
    version: p.version,
    purl,
    properties: props({ 'bulwark:debian-package': p.debianPackage }),
  };
}

/** Drop undefined fields so JSON.stringify output does not depend on how objects were built. */
function clean<T extends object>(c: T): T {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as T;
}

/** sha256 of the content as an RFC 4122 name-based UUID (version 5 bits, variant 10). */
export function contentUuid(content: string): string {
  const b = createHash('sha256').update(content).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function renderCycloneDx(input: SbomInput): string {
  if (Number.isNaN(Date.parse(input.created))) throw new Error(`renderCycloneDx: created "${input.created}" is not an ISO date`);
  const byRef = new Map<string, Component>();
  const add = (c: Component) => {
    // One component per purl: the same package reached twice (two paths in node_modules) is one.
    // Keep the copy that says most (then the smallest JSON), so input order never shows.
    const mine = clean(c);
    const had = byRef.get(c['bom-ref']);
    const rank = (x: Component) => [-Object.keys(x).length, JSON.stringify(x)] as const;
    if (!had) return void byRef.set(c['bom-ref'], mine);
    const [a, b] = [rank(mine), rank(had)];
    if (a[0] < b[0] || (a[0] === b[0] && a[1] < b[1])) byRef.set(c['bom-ref'], mine);
  };
  input.debian.forEach((p) => add(debianComponent(p)));
  input.npm.forEach((p) => add(npmComponent(p)));
  input.python.forEach((p) => add(pythonComponent(p)));
  const components = [...byRef.values()].sort((a, b) => (a['bom-ref'] < b['bom-ref'] ? -1 : a['bom-ref'] > b['bom-ref'] ? 1 : 0));

  const image = `bulwark/${input.app}`;
  const body = {
    $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: '',
    version: 1,
    metadata: {
      timestamp: new Date(input.created).toISOString().replace(/\.000Z$/, 'Z'),
      tools: { components: [{ type: 'application', name: 'bulwark', version: input.bulwarkVersion }] },
      component: { 'bom-ref': `${image}@${input.version}`, type: 'container', name: image, version: input.version },
      properties: props({ 'bulwark:app': input.app }),
    },
    components,
  };
  // The serial number names this content: hash everything else, then fill it in.
  body.serialNumber = `urn:uuid:${contentUuid(JSON.stringify(body))}`;
  return JSON.stringify(body, null, 2) + '\n';
}
