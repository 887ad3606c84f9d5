import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { commonOptions, loadProject } from './project.js';
import { formatChanges, lockPath } from '../lock/lockfile.js';
import { usageError } from '../types.js';
import { makeLogger } from './progress.js';

export const command: Command = {
  summary: 'pin every Debian package of every layer in bulwark.lock',
  help: `Usage: bulwark lock [dir] [--update [--security-only]] [--json]

Resolves every package of every layer the app(s) stand on, with dependencies, against the
Debian archive (InRelease checked with Debian's keyring, then Packages), and records in
bulwark.lock: the suite, each package's version, sha256 and size, runtime versions, and
each app's dependency lockfile hash. Inputs only; build outputs go to .bulwark/artifacts.json.

Without --update, existing pins are kept and only what is missing is resolved.

Options:
  --update          refresh every pin to the newest version in the suite, -updates and -security
  --security-only   with --update: take only newer versions from <suite>-security
  --suite, --mirror, --security-mirror   as for build (a snapshot mirror keeps old pins fetchable)
  --json            print {"lock": path, "changes": [...]} on stdout

Exit codes: 0 ok; 2 usage or app error; 3 mirror unreachable.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('lock', args, { ...commonOptions, update: { type: 'boolean' }, 'security-only': { type: 'boolean' } });
    if (values['security-only'] && !values.update) throw usageError('--security-only goes with --update: bulwark lock --update --security-only');
    const ctx = await loadProject(positionals[0], values, {
      update: values.update ? (values['security-only'] ? 'security' : 'all') : 'none',
      write: true,
      log: makeLogger(),
    });
    const path = lockPath(ctx.plan.projectDir);
    if (values.json) {
      process.stdout.write(JSON.stringify({ lock: path, written: ctx.lock.written, changes: ctx.lock.changes }, null, 2) + '\n');
      return 0;
    }
    const n = Object.keys(ctx.lock.lock.packages).length;
    if (!ctx.lock.previous) process.stdout.write(`wrote ${path}: ${n} packages pinned\n`);
    else if (ctx.lock.written) process.stdout.write(`updated ${path}:\n${formatChanges(ctx.lock.changes)}\n`);
    else process.stdout.write(`${path} is up to date (${n} packages pinned)\n`);
    return 0;
  },
};
