import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { commonHelp, commonOptions, loadProject, packerDialect } from './project.js';
import { build } from '../build/index.js';
import { makeLogger } from './progress.js';

export const command: Command = {
  summary: 'build the hardened Docker image (and render the VM templates)',
  help: `Usage: bulwark build [dir] [options]

Detects the app in dir (default .), renders .bulwark/build/ and builds the image
bulwark/<app>:<content-hash> (+ :latest) from Debian packages, with the app on top.
Outputs are recorded in .bulwark/artifacts.json; logs in .bulwark/logs/.

Options:
${commonHelp}
  --build-ca FILE           extra CA certificate(s) trusted during the build only
                            (the host's CA store is always trusted during the build;
                            neither lands in the image)

Proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are passed to the build only.
Exit codes: 0 built; 1 the build failed; 2 usage or app error; 3 missing tool, dockerd down, mirror unreachable.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('build', args, { ...commonOptions, 'build-ca': { type: 'string' } });
    const log = makeLogger();
    const ctx = await loadProject(positionals[0], values);
    const r = await build(ctx, { packerDialect: await packerDialect(), buildCa: values['build-ca'], log });
    if (values.json) process.stdout.write(JSON.stringify({ schemaVersion: 1, artifacts: r.artifacts }, null, 2) + '\n');
    else
      for (const d of r.docker) {
        const a = d.artifact;
        process.stdout.write(`built ${d.tag} (${d.imageId.slice(7, 19)}) in ${d.seconds.toFixed(1)} s\n`);
        process.stdout.write(`  layers: ${d.layers.map((l) => `${l.name}${l.cached ? ' (cached)' : ''}`).join(', ')}\n`);
        process.stdout.write(`  run:    docker compose -f ${a.runConfig} up -d   → http://127.0.0.1:${a.port}${a.healthPath === '/' ? '/' : ''}\n`);
        process.stdout.write(`  or:     docker run -d -p 127.0.0.1:${a.port}:${a.port} -v ${a.stateVolume}:/var/lib/${a.app} ${d.tag}\n`);
      }
    return 0;
  },
};
