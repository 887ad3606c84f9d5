// bulwark audit <image-or-app-dir>: SECURITY-CHECKS A1–A15 on a built image and its compose file.
import { existsSync } from 'node:fs';
import type { Command } from './main.js';
import { parseCommandArgs, useColor } from './args.js';
import { auditImage, resolveAuditTarget } from '../audit/index.js';
import { formatReport } from '../audit/format.js';
import type { AuditReport } from '../audit/types.js';
import { usageError } from '../types.js';

const help = `bulwark audit [IMAGE | APP-DIR] [options]

Check a Docker image, and the compose file that runs it, against SECURITY-CHECKS.md
section A (A1–A15), without running the image: its filesystem is read from \`docker save\`.

  APP-DIR    an app folder built by \`bulwark build\`: audits each docker-image in its
             .bulwark/artifacts.json with the compose.yaml recorded there, and checks
             bulwark.lock (default: the current folder)
  IMAGE      an image ID or reference known to the local Docker daemon

Options:
  --run-config FILE   compose file to check (A7–A14 and the run half of A15);
                      without one, and for a plain IMAGE, those checks are skipped
  --level fail|warn   what makes the exit code 1: failed checks (default), or
                      warnings as well
  --json              print the report as one JSON object on stdout:
                      {target, image, runConfig?, results: [{id, title, status, evidence}],
                      score, passed, failed}; a folder with several apps prints
                      {reports: [...]}, one report per app
  -h, --help          show this help

Output: a table (id, status, check, evidence) and "audit TARGET: N passed, N failed,
N warnings, score S". The score is the percentage of checks run that pass, a warning
counting half.

Exit codes: 0 no check failed at the chosen level; 1 a check failed; 2 usage error, no
such image, or a folder without .bulwark/artifacts.json; 3 Docker is not running.

Examples:
  bulwark audit examples/express
  bulwark audit bulwark/myapp:1a2b3c --run-config .bulwark/build/myapp/compose.yaml
  bulwark audit sha256:0123abcd… --json --level warn
`;

export const command: Command = {
  summary: 'check an image and its run config against the security checks (A1–A15)',
  help,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs('audit', args, {
      'run-config': { type: 'string' },
      json: { type: 'boolean' },
      level: { type: 'string' },
    });
    const level = values.level ?? 'fail';
    if (level !== 'fail' && level !== 'warn') throw usageError(`audit: --level must be fail or warn, not "${level}"`);
    if (positionals.length > 1) throw usageError(`audit: one image or app folder at a time (got ${positionals.length}); see \`bulwark audit --help\``);
    const runConfigFlag = values['run-config'];
    if (runConfigFlag !== undefined && !existsSync(runConfigFlag)) throw usageError(`audit: run config ${runConfigFlag} not found`);
    const arg = positionals[0] ?? '.';

    const targets = await resolveAuditTarget(arg);
    if (runConfigFlag && targets.length > 1) throw usageError(`audit: ${arg} holds ${targets.length} images; --run-config applies to one (audit an image by ID instead)`);
    const reports: AuditReport[] = [];
    for (const t of targets) {
      let runConfig = runConfigFlag ?? t.runConfig;
      if (!runConfigFlag && runConfig && !existsSync(runConfig)) {
        process.stderr.write(`bulwark audit: ${runConfig} (from artifacts.json) is gone: run-config checks skipped\n`);
        runConfig = undefined;
      }
      if (process.stderr.isTTY) process.stderr.write(`bulwark audit: reading ${t.image} …\n`);
      reports.push(await auditImage({ image: t.image, runConfig, appDir: t.appDir, artifact: t.artifact, target: t.target }));
    }

    if (values.json) process.stdout.write(JSON.stringify(reports.length === 1 ? reports[0] : { reports }, null, 2) + '\n');
    else {
      const color = useColor();
      process.stdout.write(reports.map((r) => formatReport(r, { color, width: process.stdout.columns })).join('\n'));
    }
    const failing = (r: AuditReport) => r.results.some((c) => c.status === 'fail' || (level === 'warn' && c.status === 'warn'));
    return reports.some(failing) ? 1 : 0;
  },
};
