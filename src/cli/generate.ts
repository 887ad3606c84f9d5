import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { commonHelp, commonOptions, loadProject, packerDialect } from './project.js';
import { generate } from '../build/index.js';
import type { PackerDialect } from '../render/packer-dialect.js';
import { usageError } from '../types.js';

export const command: Command = {
  summary: 'write the build dir: Packer HCL, provisioning scripts, units, compose.yaml',
  help: `Usage: bulwark generate [dir] [options]

Writes .bulwark/build/ atomically (a temp dir renamed into place): per-app Packer HCL for
the VM targets, the shared provisioning scripts, systemd units and compose.yaml.
Same inputs give byte-identical files.

Options:
${commonHelp}
  --packer current|packer-1.6   Packer syntax (default: matches the installed packer)`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('generate', args, { ...commonOptions, packer: { type: 'string' } });
    if (values.packer && values.packer !== 'current' && values.packer !== 'packer-1.6') throw usageError(`--packer ${values.packer}: choose current or packer-1.6`);
    const ctx = await loadProject(positionals[0], values);
    const dir = await generate(ctx, { packerDialect: (values.packer as PackerDialect | undefined) ?? (await packerDialect()) });
    if (values.json) process.stdout.write(JSON.stringify({ buildDir: dir }) + '\n');
    else process.stdout.write(`wrote ${dir}\n`);
    return 0;
  },
};
