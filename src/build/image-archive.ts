// Writes a `docker save`-format archive (manifest.json, config, layer tars) and loads it.
// Bulwark assembles images itself: the image ID is the sha256 of a config we write
// deterministically, so the same layers and config give the same ID on every machine.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import tarStream from 'tar-stream';
import { run } from './proc.js';
import { workError } from '../types.js';

export interface ImageLayer {
  name: string; // for history: userland, runtime-node, app-deps, app
  path: string;
  diffId: string;
  createdBy: string;
}

export interface ImageConfig {
  User: string;
  Env: string[];
  Entrypoint: string[];
  Cmd: string[];
  WorkingDir: string;
  ExposedPorts: Record<string, object>;
  Volumes: Record<string, object>;
  Labels: Record<string, string>;
  Healthcheck: { Test: string[]; Interval: number; Timeout: number; StartPeriod: number; Retries: number };
  StopSignal: string;
}

const sortKeys = (o: Record<string, any>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** The image config JSON (bytes are hashed into the image ID: key order and values are fixed). */
export function renderImageConfig(cfg: ImageConfig, layers: ImageLayer[], epoch: number): string {
  const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  return JSON.stringify({
    architecture: 'amd64',
    config: {
      ...cfg,
      ExposedPorts: sortKeys(cfg.ExposedPorts),
      Labels: sortKeys(cfg.Labels),
      Volumes: sortKeys(cfg.Volumes),
    },
    created,
    history: layers.map((l) => ({ created, created_by: l.createdBy, comment: `bulwark layer ${l.name}` })),
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  });
}

export const imageIdOf = (configJson: string) => `sha256:${createHash('sha256').update(configJson).digest('hex')}`;

/** Docker's chain IDs: each layer identified together with every layer under it. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length ? `sha256:${createHash('sha256').update(`${out[out.length - 1]} ${d}`).digest('hex')}` : d);
  return out;
}

let known: Promise<Set<string>> | null = null;

/** Chain IDs dockerd already holds (read once per process, then kept up to date by loadImage). */
function knownChains(): Promise<Set<string>> {
  known ??= readKnownChains();
  return known;
}

async function readKnownChains(): Promise<Set<string>> {
  const ids = (await run('docker', ['image', 'ls', '-q', '--no-trunc'], { allowFail: true, timeoutMs: 60_000 })).stdout.split('\n').filter(Boolean);
  const known = new Set<string>();
  if (!ids.length) return known;
  const r = await run('docker', ['image', 'inspect', '-f', '{{json .RootFS.Layers}}', ...new Set(ids)], { allowFail: true, timeoutMs: 60_000 });
  for (const line of r.stdout.split('\n').filter(Boolean)) for (const c of chainIds(JSON.parse(line) ?? [])) known.add(c);
  return known;
}

/**
 * Stream the archive into `docker load`; returns the image ID. Layers whose chain dockerd
 * already has are left out of the archive (docker load reads only the layers it lacks), so
 * a rebuild that changes one layer streams one layer.
 */
export async function loadImage(configJson: string, layers: ImageLayer[], tags: string[]): Promise<string> {
  const chains = await knownChains();
  let id: string;
  try {
    id = await loadImageOnce(configJson, layers, tags, chains);
  } catch {
    // A layer removed since it was seen (docker rmi, prune): send everything.
    known = null;
    id = await loadImageOnce(configJson, layers, tags, new Set());
  }
  for (const c of chainIds(layers.map((l) => l.diffId))) chains.add(c);
  return id;
}

async function loadImageOnce(configJson: string, layers: ImageLayer[], tags: string[], known: Set<string>): Promise<string> {
  const id = imageIdOf(configJson);
  const hex = id.slice(7);
  const chains = chainIds(layers.map((l) => l.diffId));
  const pack = tarStream.pack();
  const feed = (async () => {
    const seen = new Set<string>();
    for (const [i, l] of layers.entries()) {
      const dir = l.diffId.slice(7);
      if (seen.has(dir) || known.has(chains[i]!)) continue;
      seen.add(dir);
      const size = (await stat(l.path)).size;
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: `${dir}/layer.tar`, size, mtime: new Date(0) }, (err) => (err ? reject(err) : resolve()));
        createReadStream(l.path).on('error', reject).pipe(entry);
      });
    }
    pack.entry({ name: `${hex}.json`, mtime: new Date(0) }, configJson);
    const manifest = [{ Config: `${hex}.json`, RepoTags: tags, Layers: layers.map((l) => `${l.diffId.slice(7)}/layer.tar`) }];
    pack.entry({ name: 'manifest.json', mtime: new Date(0) }, JSON.stringify(manifest));
    pack.finalize();
  })();
  const previous = await previousIds(tags);
  const [res] = await Promise.all([run('docker', ['load'], { inputStream: pack as unknown as NodeJS.ReadableStream, timeoutMs: 900_000, allowFail: true }), feed]);
  if (res.code !== 0) throw workError(`docker load failed: ${res.stderr.trim().split('\n').pop()}`);
  // A rebuild moves the tags to the new image: remove the old one if that left it untagged
  // and unused (docker refuses while a container uses it, which is what we want).
  for (const old of previous) if (old !== id) await removeIfUntagged(old);
  return id;
}

async function previousIds(tags: string[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const t of tags) {
    const r = await run('docker', ['image', 'inspect', '-f', '{{.Id}}', t], { allowFail: true, timeoutMs: 30_000 });
    if (r.code === 0) ids.add(r.stdout.trim());
  }
  return [...ids];
}

async function removeIfUntagged(id: string): Promise<void> {
  const r = await run('docker', ['image', 'inspect', '-f', '{{len .RepoTags}}', id], { allowFail: true, timeoutMs: 30_000 });
  if (r.code === 0 && r.stdout.trim() === '0') await run('docker', ['rmi', id], { allowFail: true, timeoutMs: 60_000 });
}
