// Deterministic layer tars: sorted names, one mtime (SOURCE_DATE_EPOCH), numeric owners,
// no atime/ctime, so the same inputs give the same diff_id on any machine.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, stat } from 'node:fs/promises';
import { run } from './proc.js';

export interface LayerFile {
  path: string; // the uncompressed tar
  diffId: string; // sha256:<hex> of the tar
  size: number;
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => createReadStream(path).on('data', (d) => h.update(d)).on('end', resolve).on('error', reject));
  return h.digest('hex');
}

/** Tar the contents of `dir` (relative entries) into `out`. `exclude` are tar --exclude patterns. */
export async function writeLayerTar(dir: string, out: string, epoch: number, exclude: string[] = []): Promise<LayerFile> {
  // The tar's '.' entry becomes the image's '/': never let a 0700 temp dir leak into it.
  await chmod(dir, 0o755);
  await run('tar', [
    '--sort=name',
    '--format=pax',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    `--mtime=@${epoch}`,
    '--numeric-owner',
    '--no-acls',
    '--no-xattrs',
    '--no-selinux',
    ...exclude.map((e) => `--exclude=${e}`),
    '-C',
    dir,
    '-cf',
    out,
    '.',
  ], { timeoutMs: 600_000 });
  return { path: out, diffId: `sha256:${await sha256File(out)}`, size: (await stat(out)).size };
}
