// bulwark detect [dir]: show what Bulwark reads from an app folder, with the file:line behind each value.
import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { usageError } from '../types.js';
import type { Suite } from '../plan/types.js';
import { detectApp } from '../detect/index.js';
import { resolveProjectDir } from './project.js';
import { formatDetect } from '../detect/explain.js';
import { suiteRuntimes } from '../detect/runtimes.js';

const suites = Object.keys(suiteRuntimes) as Suite[];

export const command: Command = {
  summary: 'show what Bulwark detects in an app folder (framework, runtime, port, data, secrets)',
  help: `Usage: bulwark detect [dir] [--json] [--suite trixie|bookworm]

Read an app folder (default: the current folder) and report what Bulwark will build:
framework (express, django, flask, node, python, static), runtime and requested version,
package manager, install/build/start commands, port and how it is passed, health path,
static folders, writable data (SQLite files, gitignored data folders, MEDIA_ROOT) and
secrets the app reads from its environment. Every value names the file:line it came from.
Nothing is run: detection only reads files.

Options:
  --json            print the AppSpec as one JSON object on stdout
  --suite NAME      Debian suite whose runtimes the app must fit (default trixie:
                    ${suites.map((s) => `${s} Node ${suiteRuntimes[s].node}, Python ${suiteRuntimes[s].python}`).join('; ')})
  -h, --help        show this help

Exit codes: 0 detected; 2 not an app, ambiguous, or a configuration error (the message
names the file to fix, e.g. package.json:12).

Examples:
  bulwark detect examples/express-app
  bulwark detect . --json | jq .port.value
  bulwark detect --suite bookworm
`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('detect', args, {
      json: { type: 'boolean' },
      suite: { type: 'string' },
    });
    if (positionals.length > 1) throw usageError(`detect: expected one folder, got ${positionals.length} (${positionals.join(' ')}); see \`bulwark detect --help\``);
    const suite = values.suite ?? 'trixie';
    if (!suites.includes(suite as Suite)) throw usageError(`detect: unknown suite "${suite}"; use ${suites.join(' or ')}`);
    const dir = resolveProjectDir(positionals[0]);
    const spec = await detectApp(dir, { suite: suite as Suite });
    process.stdout.write(values.json ? JSON.stringify(spec, null, 2) + '\n' : formatDetect(spec));
    return 0;
  },
};
