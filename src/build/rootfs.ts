// Unpack .debs into a staging directory without running maintainer scripts (as apko and
// distroless do), then do by hand the few things those scripts would have done, and strip
// what a runtime image should not carry: docs, man pages, locales, setuid bits.
import { mkdir, readdir, readFile, rm, symlink, writeFile, chmod, lstat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.js';

/** Debian's merged-/usr symlinks; created in every staging dir so old-style paths land in /usr. */
export const MERGED_USR = [
  ['bin', 'usr/bin'],
  ['sbin', 'usr/sbin'],
  ['lib', 'usr/lib'],
  ['lib64', 'usr/lib64'],
] as const;

export async function prepareStaging(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [link, target] of MERGED_USR) {
    await mkdir(join(dir, target), { recursive: true });
    if (!existsSync(join(dir, link))) await symlink(target, join(dir, link));
  }
}

export async function extractDeb(deb: string, dir: string): Promise<void> {
  // dpkg-deb streams the data tar; tar keeps the merged-/usr symlinks instead of replacing them.
  await run('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x --keep-directory-symlink --same-permissions --same-owner -C "$2"', 'x', deb, dir], {
    timeoutMs: 300_000,
    missingHint: 'apt-get install dpkg tar',
  });
}

const STRIP = ['usr/share/man', 'usr/share/info', 'usr/share/lintian', 'usr/share/linda', 'usr/share/bug', 'usr/share/menu', 'usr/share/bash-completion'];

/** Remove docs (keeping copyright files), man pages, locales beyond C, and every setuid/setgid bit. */
export async function stripRootfs(dir: string): Promise<void> {
  for (const p of STRIP) await rm(join(dir, p), { recursive: true, force: true });
  const docs = join(dir, 'usr/share/doc');
  if (existsSync(docs))
    for (const pkg of await readdir(docs)) {
      const pd = join(docs, pkg);
      if (!(await lstat(pd)).isDirectory()) continue;
      for (const f of await readdir(pd)) if (f !== 'copyright') await rm(join(pd, f), { recursive: true, force: true });
    }
  const locale = join(dir, 'usr/share/locale');
  if (existsSync(locale)) for (const l of await readdir(locale)) if (l !== 'locale.alias') await rm(join(locale, l), { recursive: true, force: true });
  await run('find', [dir, '-xdev', '-type', 'f', '-perm', '/6000', '-exec', 'chmod', 'ug-s', '{}', '+'], { timeoutMs: 120_000 });
  // Nothing world-writable but /tmp (the app writes only to its state volume): Debian's
  // 1777 /var/lock and /var/tmp are for a full system, not for a runtime image.
  await run('find', [dir, '-xdev', '-perm', '-0002', '!', '-type', 'l', '!', '-path', join(dir, 'tmp'), '-exec', 'chmod', 'o-w', '{}', '+'], { timeoutMs: 120_000 });
  // Normalise ownership: base layers are root-owned; the app layer re-owns its state dir.
  await run('chown', ['-hR', '0:0', dir], { timeoutMs: 120_000 });
}

/** What ca-certificates' maintainer script does: one PEM bundle, plus OpenSSL's default paths. */
export async function writeCaBundle(dir: string, from = dir): Promise<void> {
  const src = join(from, 'usr/share/ca-certificates');
  if (!existsSync(src)) return;
  const certs: string[] = [];
  const walk = async (d: string) => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.name.endsWith('.crt')) certs.push((await readFile(join(d, e.name), 'utf8')).trim() + '\n');
    }
  };
  await walk(src);
  await mkdir(join(dir, 'etc/ssl/certs'), { recursive: true });
  await writeFile(join(dir, 'etc/ssl/certs/ca-certificates.crt'), certs.join(''));
  await mkdir(join(dir, 'usr/lib/ssl'), { recursive: true });
  for (const [l, t] of [
    ['usr/lib/ssl/certs', '/etc/ssl/certs'],
    ['usr/lib/ssl/cert.pem', '/etc/ssl/certs/ca-certificates.crt'],
  ] as const)
    if (!existsSync(join(dir, l))) await symlink(t, join(dir, l));
}

/** /etc/passwd and /etc/group: root, nobody, and the app's own account (no login, no shell). */
export function renderAccounts(app?: { name: string; uid: number }): { passwd: string; group: string } {
  const users = [`root:x:0:0:root:/root:/usr/sbin/nologin`, `nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin`];
  const groups = [`root:x:0:`, `nogroup:x:65534:`];
  if (app) {
    users.splice(1, 0, `${app.name}:x:${app.uid}:${app.uid}:${app.name}:/var/lib/${app.name}:/usr/sbin/nologin`);
    groups.splice(1, 0, `${app.name}:x:${app.uid}:`);
  }
  return { passwd: users.join('\n') + '\n', group: groups.join('\n') + '\n' };
}

export async function writeUserlandEtc(dir: string): Promise<void> {
  const { passwd, group } = renderAccounts();
  await mkdir(join(dir, 'etc'), { recursive: true });
  await writeFile(join(dir, 'etc/passwd'), passwd);
  await writeFile(join(dir, 'etc/group'), group);
  await writeFile(join(dir, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  await writeFile(join(dir, 'etc/timezone'), 'Etc/UTC\n');
  if (!existsSync(join(dir, 'etc/localtime'))) await symlink('/usr/share/zoneinfo/Etc/UTC', join(dir, 'etc/localtime'));
  for (const d of ['tmp']) {
    await mkdir(join(dir, d), { recursive: true });
    await chmod(join(dir, d), 0o1777);
  }
  for (const d of ['root', 'var/lib', 'run', 'proc', 'sys', 'dev']) await mkdir(join(dir, d), { recursive: true });
  await chmod(join(dir, 'root'), 0o700);
}
