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

/** Stream the archive into `docker load`; returns the image ID. */
export async function loadImage(configJson: string, layers: ImageLayer[], tags: string[]): Promise<string> {
  const id = imageIdOf(configJson);
  const hex = id.slice(7);
  const pack = tarStream.pack();
  const feed = (async () => {
    const seen = new Set<string>();
    for (const l of layers) {
      const dir = l.diffId.slice(7);
      if (seen.has(dir)) continue;
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
