// The app's own layers, staged as directories: a copy of its source (no node_modules, no VCS,
// no writable data), Bulwark's launcher files, its account, and its state directory.
import { chmod, chown, copyFile, lstat, mkdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppPlan } from '../plan/types.js';
import { listSourceFiles } from '../plan/source-hash.js';
import { appPaths } from '../names.js';
import { renderAccounts } from './rootfs.js';
import { renderLaunchConfig, NODE_HEALTH, NODE_LAUNCHER, NODE_STATIC_SERVER, PYTHON_HEALTH, PYTHON_LAUNCHER, renderDjangoSettings } from '../render/launcher.js';

export const writableSkip = (app: AppPlan) => new Set(app.spec.writable.map((w) => w.path.replace(/\/$/, '')));

/** Copy the app's source files into `dest` (mode bits kept, owner root). */
export async function copySource(app: AppPlan, dest: string): Promise<void> {
  for (const rel of listSourceFiles(app.spec.dir, writableSkip(app))) {
    const from = join(app.spec.dir, rel);
    const to = join(dest, rel);
    await mkdir(dirname(to), { recursive: true });
    const st = await lstat(from);
    if (st.isSymbolicLink()) await symlink(await readlink(from), to);
    else {
      await copyFile(from, to);
      await chmod(to, st.mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

/** The files Bulwark adds at /opt/bulwark, by runtime. */
export function bulwarkFiles(app: AppPlan): Record<string, string> {
  const files: Record<string, string> = { 'app.json': renderLaunchConfig(app) };
  if (app.spec.runtime.value === 'python') {
    files['launch.py'] = PYTHON_LAUNCHER;
    files['health.py'] = PYTHON_HEALTH;
    if (app.spec.django) files['bulwark_settings.py'] = renderDjangoSettings(app);
  } else {
    files['launch.mjs'] = NODE_LAUNCHER;
    files['health.mjs'] = NODE_HEALTH;
    if (app.spec.framework.value === 'static') files['static-server.mjs'] = NODE_STATIC_SERVER;
  }
  return files;
}

/**
 * Finish the app layer's root: /opt/bulwark, /etc/passwd with the app's account,
 * /var/lib/<app> owned by the app (0700), and writable paths pointed at the state volume
 * so an app that writes next to its code still works under a read-only root.
 */
export async function finishAppRoot(app: AppPlan, root: string): Promise<void> {
  const paths = appPaths(app.spec.name);
  const code = join(root, paths.code.slice(1));
  for (const w of app.spec.writable) {
    const rel = w.path.replace(/\/$/, '');
    const at = join(code, rel);
    await rm(at, { recursive: true, force: true });
    await mkdir(dirname(at), { recursive: true });
    await symlink(`${paths.state}/${rel}`, at);
  }
  const bw = join(root, 'opt/bulwark');
  await mkdir(bw, { recursive: true });
  for (const [name, content] of Object.entries(bulwarkFiles(app))) await writeFile(join(bw, name), content, { mode: 0o644 });
  const { passwd, group } = renderAccounts({ name: app.spec.name, uid: app.uid });
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/passwd'), passwd, { mode: 0o644 });
  await writeFile(join(root, 'etc/group'), group, { mode: 0o644 });
  const state = join(root, paths.state.slice(1));
  await mkdir(state, { recursive: true });
  await chmod(state, 0o700);
  await chown(state, app.uid, app.uid);
}
