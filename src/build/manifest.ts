// .bulwark/artifacts.json: the outputs of builds (image IDs, disk checksums, cloud ids).
// The lock holds inputs only; this file holds what came out of them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Artifact, ArtifactManifest } from '../types.js';
import { writeFileAtomic } from './atomic.js';

export const manifestPath = (projectDir: string) => join(projectDir, '.bulwark', 'artifacts.json');

export function readManifest(projectDir: string): ArtifactManifest {
  const p = manifestPath(projectDir);
  if (!existsSync(p)) return { schemaVersion: 1, artifacts: [] };
  return JSON.parse(readFileSync(p, 'utf8'));
}

/** Replace the entries for the same app/target/kind, keep the rest. */
export async function recordArtifacts(projectDir: string, fresh: Artifact[]): Promise<ArtifactManifest> {
  const key = (a: Artifact) => `${a.app}\0${a.target}\0${a.kind}`;
  const keep = readManifest(projectDir).artifacts.filter((a) => !fresh.some((f) => key(f) === key(a)));
  const m: ArtifactManifest = { schemaVersion: 1, artifacts: [...keep, ...fresh].sort((a, b) => (key(a) < key(b) ? -1 : 1)) };
  await writeFileAtomic(manifestPath(projectDir), JSON.stringify(m, null, 2) + '\n');
  return m;
}
