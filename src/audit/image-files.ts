// Read an image's filesystem without running it (no shell needed, nothing executes):
// `docker save` to a temp file, then walk the layer tars bottom first, applying whiteouts,
// to get the merged file list plus every version a later layer hid (SECURITY-CHECKS A3/A4
// say "in any layer": a deleted file still ships in the image).
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import { docker } from '../build/docker.js';
import { onCancel } from '../build/proc.js';
import { workError } from '../types.js';
import type { FileType, ImageFile, ImageFs } from './types.js';

/** What one layer tar says: a file version, or a whiteout hiding lower layers. */
export type LayerEntry =
  | { kind: 'file'; file: Omit<ImageFile, 'layer'> }
  /** `.wh.<name>`: <name> and everything under it in lower layers is gone. */
  | { kind: 'whiteout'; path: string }
  /** `.wh..wh..opq`: the directory's lower-layer contents are hidden (the dir itself stays). */
  | { kind: 'opaque'; dir: string };

/** Files whose contents checks read; small so a huge image cannot blow up memory. */
const MAX_CONTENT = 64 * 1024;
const ACCOUNT_FILES = new Set(['/etc/passwd', '/etc/group', '/etc/shadow']);
export function wantContent(path: string, size: number): boolean {
  if (size > MAX_CONTENT) return false;
  const base = posix.basename(path);
  return ACCOUNT_FILES.has(path) || /\.(pem|key)$/i.test(base) || base === '.npmrc' || base === '.pypirc';
}

/** "./usr/bin/" → "/usr/bin"; "./" → "/". */
export function normalizePath(name: string): string {
  const p = posix.normalize('/' + name.replace(/^\.?\/+/, ''));
  return p.length > 1 ? p.replace(/\/+$/, '') : '/';
}

const typeOf = (t: Header['type'] | null | undefined): FileType =>
  t === 'file' || t === 'contiguous-file' || t == null ? 'file' : t === 'directory' ? 'directory' : t === 'symlink' ? 'symlink' : t === 'link' ? 'link' : 'other';

/** Parse one layer tar (uncompressed, or gzip when `gzip`) into its entries. */
export async function readLayerTar(input: Readable, gzip = false): Promise<LayerEntry[]> {
  const ex = tar.extract();
  const piping = gzip ? pipeline(input, createGunzip(), ex) : pipeline(input, ex);
  piping.catch(() => {}); // the same error surfaces through the iterator below
  const out: LayerEntry[] = [];
  for await (const entry of ex) {
    const h = entry.header;
    const path = normalizePath(h.name);
    const base = posix.basename(path);
    if (base.startsWith('.wh.')) {
      const dir = posix.dirname(path);
      out.push(base === '.wh..wh..opq' ? { kind: 'opaque', dir } : { kind: 'whiteout', path: posix.join(dir, base.slice(4)) });
      entry.resume();
      continue;
    }
    const type = typeOf(h.type);
    const size = h.size ?? 0;
    const file: Omit<ImageFile, 'layer'> = { path, type, mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0, size };
    if (h.linkname) file.linkname = type === 'link' ? normalizePath(h.linkname) : h.linkname;
    if (type === 'file' && wantContent(path, size)) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      file.content = Buffer.concat(chunks).toString('utf8');
    } else entry.resume();
    out.push({ kind: 'file', file });
  }
  await piping;
  return out;
}

/** Apply layers bottom first. Pure, so whiteout handling is unit-tested without Docker. */
export function mergeLayers(layers: LayerEntry[][]): ImageFs {
  const view = new Map<string, ImageFile>();
  const shadowed: ImageFile[] = [];
  const removeUnder = (root: string, keepRoot: boolean) => {
    const prefix = root === '/' ? '/' : root + '/';
    for (const [p, f] of view) {
      if ((p === root && !keepRoot) || (p !== root && p.startsWith(prefix))) {
        if (f.type !== 'directory') shadowed.push(f);
        view.delete(p);
      }
    }
  };
  layers.forEach((entries, layer) => {
    // Whiteouts hide lower layers only, so apply them before this layer's own entries.
    for (const e of entries) {
      if (e.kind === 'whiteout') removeUnder(e.path, false);
      else if (e.kind === 'opaque') removeUnder(e.dir, true);
    }
    for (const e of entries) {
      if (e.kind !== 'file') continue;
      const prev = view.get(e.file.path);
      if (prev) {
        // A file replacing a directory hides the whole lower subtree.
        if (prev.type === 'directory' && e.file.type !== 'directory') removeUnder(prev.path, false);
        // Directories are re-listed by every layer that touches their children: not a new version.
        else if (prev.type !== 'directory') shadowed.push(prev);
      }
      view.set(e.file.path, { ...e.file, layer });
    }
  });
  const files = [...view.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, shadowed, layers: layers.length };
}

type Sniffed = 'tar' | 'gzip' | 'other';
function sniff(head: Buffer): Sniffed {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  // An empty layer is 1024 zero bytes: a valid tar with no entries.
  if (head.length >= 512 && head.subarray(0, 512).every((b) => b === 0)) return 'tar';
  return 'other';
}

/**
 * Read a `docker save` archive (the classic layout with <id>/layer.tar, or the OCI layout with
 * blobs/sha256/…): manifest.json names the layers bottom first, but it comes last in the archive,
 * so every member that looks like a tar is parsed as it streams past and ordered afterwards.
 */
export async function readSavedImage(archive: string): Promise<ImageFs> {
  const outer = tar.extract();
  const piping = pipeline(createReadStream(archive), outer);
  piping.catch(() => {});
  const parsed = new Map<string, LayerEntry[]>();
  const failed = new Map<string, string>();
  const small = new Map<string, Buffer>();
  for await (const entry of outer) {
    const name = normalizePath(entry.header.name).slice(1);
    if (typeOf(entry.header.type) !== 'file') {
      entry.resume();
      continue;
    }
    const it = entry[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headLen = 0;
    let ended = false;
    while (headLen < 512) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value as Buffer);
      headLen += (r.value as Buffer).length;
    }
    const first = Buffer.concat(head);
    const kind = sniff(first);
    const rest = async function* () {
      yield first;
      while (!ended) {
        const r = await it.next();
        if (r.done) ended = true;
        else yield r.value as Buffer;
      }
    };
    if (kind === 'other') {
      // manifest.json, config and OCI index blobs: small JSON we may need.
      const chunks: Buffer[] = [];
      let len = 0;
      for await (const c of rest()) {
        if ((len += c.length) <= 4 << 20) chunks.push(c);
      }
      if (len <= 4 << 20) small.set(name, Buffer.concat(chunks));
      continue;
    }
    try {
      parsed.set(name, await readLayerTar(Readable.from(rest()), kind === 'gzip'));
    } catch (e) {
      failed.set(name, (e as Error).message);
    }
    while (!ended) if ((await it.next()).done) ended = true; // drain what a failed parse left
  }
  await piping;
  const manifestRaw = small.get('manifest.json');
  if (!manifestRaw) throw workError(`${archive}: no manifest.json: not a docker save archive`);
  const layerNames: unknown = JSON.parse(manifestRaw.toString('utf8'))?.[0]?.Layers;
  if (!Array.isArray(layerNames)) throw workError(`${archive}: manifest.json lists no layers`);
  const layers = layerNames.map((l: string) => {
    const key = normalizePath(l).slice(1);
    const entries = parsed.get(key);
    if (entries) return entries;
    throw workError(`${archive}: cannot read layer ${l}${failed.has(key) ? `: ${failed.get(key)}` : ''}`);
  });
  return mergeLayers(layers);
}

/** `docker save` the image to a temp dir, read it, and remove the temp dir whatever happens. */
export async function readImageFs(imageId: string): Promise<ImageFs> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-audit-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const forget = onCancel(cleanup);
  try {
    const archive = join(dir, 'image.tar');
    await docker(['save', '-o', archive, imageId]);
    return await readSavedImage(archive);
  } finally {
    forget();
    await cleanup();
  }
}
