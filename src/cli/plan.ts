import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { commonHelp, commonOptions, loadProject } from './project.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from '../build/cache.js';
import { imageTag } from '../build/docker-target.js';

export const command: Command = {
  summary: 'show the layer graph and jobs, and which layers are cached',
  help: `Usage: bulwark plan [dir] [options]

Prints the plan: each app, the layers it stands on with their content hashes and whether
each is already built (cached), the image tag, and the targets. Decides nothing at run time.

Options:
${commonHelp}`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('plan', args, commonOptions);
    const { plan, apps } = await loadProject(positionals[0], values);
    const cachedLayers = new Set(existsSync(join(cacheDir(), 'layers')) ? readdirSync(join(cacheDir(), 'layers')) : []);
    const isCached = (name: string, hash: string) => cachedLayers.has(`${name}-${hash.slice(0, 24)}-${plan.sourceDateEpoch}.tar`);
    if (values.json) {
      const out = { ...plan, layerStatus: Object.fromEntries(apps.flatMap((a) => a.resolved.map((r) => [r.hash, { layer: r.def.name, cached: isCached(r.def.name, r.hash), packages: r.packages.map((p) => `${p.name}=${p.version}`) }]))) };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    const lines = [`plan for ${plan.projectDir} (Debian ${plan.suite}, targets: ${plan.targets.join(', ')})`];
    for (const a of apps) {
      lines.push('', `app ${a.plan.spec.name} (${a.plan.spec.framework.value}, uid ${a.plan.uid}) → ${imageTag(a.plan)}`);
      lines.push(`  ${'layer'.padEnd(16)} ${'hash'.padEnd(14)} ${'packages'.padStart(8)}  status`);
      for (const r of a.resolved)
        lines.push(`  ${r.def.name.padEnd(16)} ${r.hash.slice(0, 12).padEnd(14)} ${String(r.packages.length).padStart(8)}  ${isCached(r.def.name, r.hash) ? 'cached' : 'will build'}`);
      lines.push(`  ${'app'.padEnd(16)} ${a.plan.contentHash.slice(0, 12).padEnd(14)} ${''.padStart(8)}  will build`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
