#!/usr/bin/env node
// bulwark <command> [path]: dispatch to src/cli/<command>.ts; one-line errors with exit codes (DESIGN "CLI").
import { BulwarkError } from '../types.js';
import { cancelAll } from '../build/proc.js';
import { bulwarkVersion } from '../version.js';

export interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  detect: async () => (await import('./detect.js')).command,
  plan: async () => (await import('./plan.js')).command,
  generate: async () => (await import('./generate.js')).command,
  build: async () => (await import('./build.js')).command,
  audit: async () => (await import('./audit.js')).command,
  outdated: async () => (await import('./outdated.js')).command,
  lock: async () => (await import('./lock.js')).command,
  rebuild: async () => (await import('./rebuild.js')).command,
};

const usage = async () => {
  const lines = [`bulwark ${bulwarkVersion}: turn a web app into a hardened Docker image and VM images`, '', 'Usage: bulwark <command> [path] [options]', '', 'Commands:'];
  for (const [name, load] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
  lines.push('', 'Run `bulwark <command> --help` for its options. Exit codes: 0 ok, 1 failed/findings, 2 usage or config error, 3 environment error.');
  return lines.join('\n');
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await usage()) + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(bulwarkVersion + '\n');
    return 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`bulwark: unknown command '${name}'; run \`bulwark --help\` for the list\n`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help.trimEnd() + '\n');
    return 0;
  }
  return cmd.run(rest);
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`bulwark: ${sig === 'SIGINT' ? 'interrupted' : 'terminated'}; cleaning up what this run started\n`);
    cancelAll().finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (e: unknown) => {
    await cancelAll();
    // A cancelled run fails its pending steps; report the cancellation, not their errors.
    if (stopping) return;
    if (e instanceof BulwarkError) {
      process.stderr.write(`bulwark: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    process.stderr.write(`bulwark: internal error: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  },
);
