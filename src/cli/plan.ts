import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { commonHelp, commonOptions, loadProject } from './project.js';
import { partCached, planParts } from '../build/layers.js';
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
    const { plan, apps, lock } = await loadProject(positionals[0], values, { write: false });
    const lockState = !lock.resolved ? 'up to date' : !lock.previous ? 'none yet: the first build writes it' : `would change (${lock.changes.length} packages)`;
    const rows = apps.map((a) => ({
      app: a.plan.spec.name,
      layers: a.resolved.map((r) => {
        const parts = planParts([r], plan.sourceDateEpoch).filter((p) => p.layer === r.def.name);
        return { layer: r.def.name, hash: r.hash, packages: r.packages.length, parts: parts.length, cachedParts: parts.filter(partCached).length };
      }),
    }));
    if (values.json) {
      process.stdout.write(JSON.stringify({ ...plan, lock: lockState, layerStatus: rows }, null, 2) + '\n');
      return 0;
    }
    const lines = [`plan for ${plan.projectDir} (Debian ${plan.suite}, targets: ${plan.targets.join(', ')}; bulwark.lock: ${lockState})`];
    for (const [i, a] of apps.entries()) {
      lines.push('', `app ${a.plan.spec.name} (${a.plan.spec.framework.value}, uid ${a.plan.uid}) → ${imageTag(a.plan)}`);
      lines.push(`  ${'layer'.padEnd(16)} ${'hash'.padEnd(14)} ${'packages'.padStart(8)}  image layers`);
      for (const l of rows[i]!.layers)
        lines.push(`  ${l.layer.padEnd(16)} ${l.hash.slice(0, 12).padEnd(14)} ${String(l.packages).padStart(8)}  ${l.cachedParts === l.parts ? `${l.parts} cached` : `${l.parts - l.cachedParts} of ${l.parts} will build`}`);
      lines.push(`  ${'app'.padEnd(16)} ${a.plan.appHash.slice(0, 12).padEnd(14)} ${''.padStart(8)}  built unless its inputs are unchanged`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
