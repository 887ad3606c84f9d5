import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { commonHelp, commonOptions, loadProject, packerDialect, reportLock } from './project.js';
import { build } from '../build/index.js';
import { makeLogger } from './progress.js';

export const command: Command = {
  summary: 'build the hardened Docker image (and render the VM templates)',
  help: `Usage: bulwark build [dir] [options]

Detects the app in dir (default .), renders .bulwark/build/ and builds the image
bulwark/<app>:<content-hash> (+ :latest) from the Debian packages pinned in bulwark.lock
(created on the first build: commit it), with the app on top.
Outputs are recorded in .bulwark/artifacts.json; logs in .bulwark/logs/.

Options:
${commonHelp}
  --frozen-lock             fail (exit 2) instead of creating or changing bulwark.lock (for CI)
  --no-cache                rebuild every layer; only the sha256-checked .deb store is reused
  --build-ca FILE           extra CA certificate(s) trusted during the build only
                            (the host's CA store is always trusted during the build;
                            neither lands in the image)

Proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are passed to the build only.
Exit codes: 0 built; 1 the build failed; 2 usage or app error; 3 missing tool, dockerd down, mirror unreachable.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('build', args, { ...commonOptions, 'build-ca': { type: 'string' }, 'frozen-lock': { type: 'boolean' }, 'no-cache': { type: 'boolean' } });
    const log = makeLogger();
    const ctx = await loadProject(positionals[0], values, { frozen: values['frozen-lock'], write: true, log });
    reportLock(ctx, log);
    const r = await build(ctx, { packerDialect: await packerDialect(), buildCa: values['build-ca'], noCache: values['no-cache'], log });
    if (values.json) process.stdout.write(JSON.stringify({ schemaVersion: 1, artifacts: r.artifacts }, null, 2) + '\n');
    else
      for (const d of r.docker) {
        const a = d.artifact;
        process.stdout.write(`built ${d.tag} (${d.imageId.slice(7, 19)}) in ${d.seconds.toFixed(1)} s\n`);
        process.stdout.write(`  layers: ${summarizeLayers(d.layers)}\n`);
        process.stdout.write(`  run:    docker compose -f ${a.runConfig} up -d   → http://127.0.0.1:${a.port}${a.healthPath === '/' ? '/' : ''}\n`);
        process.stdout.write(`  or:     docker run -d -p 127.0.0.1:${a.port}:${a.port} -v ${a.stateVolume}:/var/lib/${a.app} ${d.tag}\n`);
      }
    return 0;
  },
};

/** "userland 9 (cached), runtime-node 17 (1 new), app-deps (cached), app (new)" */
export function summarizeLayers(layers: Array<{ name: string; cached: boolean }>): string {
  const groups = new Map<string, { n: number; fresh: number }>();
  for (const l of layers) {
    const g = l.name.split('/')[0]!;
    const cur = groups.get(g) ?? { n: 0, fresh: 0 };
    cur.n++;
    if (!l.cached) cur.fresh++;
    groups.set(g, cur);
  }
  return [...groups.entries()]
    .map(([g, { n, fresh }]) => `${g}${n > 1 ? ` ${n}` : ''} (${fresh === 0 ? 'cached' : fresh === n ? 'new' : `${fresh} new`})`)
    .join(', ');
}
