// bulwark audit <image-or-app-dir>: SECURITY-CHECKS A1–A15 on a built image and its compose file;
// --disk: B and D offline on a VM disk image; --vm: B, D (and C) live on a VM on this machine.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from './main.js';
import { parseCommandArgs, useColor } from './args.js';
import { auditDisk, auditImage, auditVm, resolveAuditTarget } from '../audit/index.js';
import { formatReport } from '../audit/format.js';
import type { AuditReport } from '../audit/types.js';
import { usageError } from '../types.js';

const help = `bulwark audit [IMAGE | APP-DIR] [options]
bulwark audit --disk FILE [--units a.service,...] [options]
bulwark audit --vm 127.0.0.1:PORT --key FILE [--https-port N --http-port N] [options]

Check what Bulwark built against SECURITY-CHECKS.md: a Docker image and the compose file that
runs it (section A, A1–A15), without running the image: its filesystem is read from
\`docker save\`; a VM disk image offline (B host, D systemd units); or a VM running on this
machine, over SSH (B, D) and HTTPS (C, TLS proxy and headers).

  APP-DIR    an app folder built by \`bulwark build\`: audits each docker-image in its
             .bulwark/artifacts.json with the compose.yaml recorded there, and checks
             bulwark.lock (default: the current folder); each qcow2 disk listed there is
             audited offline as with --disk
  IMAGE      an image ID or reference known to the local Docker daemon

Options:
  --run-config FILE   compose file to check (A7–A14 and the run half of A15);
                      without one, and for a plain IMAGE, those checks are skipped
  --disk FILE         a VM disk image (qcow2 or raw): B1–B15 and D1–D10 on its root file
                      system, copied out with debugfs into /var/tmp (no mount; removed
                      afterwards). Needs root (so file owners are kept) and e2fsprogs,
                      fdisk, qemu-utils; systemd-analyze ≥ 250 for D1, nft for B11's nft -c
  --units LIST        units for D1–D10, comma-separated (default: each *.service in
                      /etc/systemd/system with an /etc/bulwark/apps/<name>.env, and
                      caddy.service)
  --vm HOST:PORT      a running VM's forwarded SSH port; HOST must be 127.0.0.1, localhost
                      or ::1 (auditing a remote machine is not supported yet). Live B1–B15
                      (sysctl, sshd -T, nft list ruleset, …) and D1–D10 (systemd-analyze
                      security), as root; any host key is accepted on loopback
  --key FILE          the private key for --vm (OpenSSH or PEM format)
  --https-port N      with --vm: probe the TLS proxy on 127.0.0.1:N (C1–C10)
  --http-port N       with --https-port: the plain-HTTP port, for the redirect (C4)
  --servername NAME   SNI and Host for the probes (default localhost)
  --ca FILE           CA certificate(s) the proxy's chain must verify against (the internal
                      CA's root.crt for a VM without a domain); default: the system's CAs
  --health-path PATH  also fetch this path for the header checks (default /healthz)
  --level fail|warn   what makes the exit code 1: failed checks (default), or
                      warnings as well
  --json              print the report as one JSON object on stdout:
                      {target, image, runConfig?, results: [{id, title, status, evidence}],
                      score, passed, failed}; several targets print {reports: [...]}
  -h, --help          show this help

Output: a table (id, status, check, evidence) and "audit TARGET: N passed, N failed,
N warnings, score S". The score is the percentage of checks run that pass, a warning
counting half.

Not checked yet: B14 needs the suite's -security index (a warning when the mirror cannot
be reached); B15 runs Lynis only on a live VM that has it installed; C probes only
127.0.0.1.

Exit codes: 0 no check failed at the chosen level; 1 a check failed; 2 usage error, no
such image, or a folder without .bulwark/artifacts.json; 3 Docker is not running, a tool
is missing, --disk without root, or the VM's sshd cannot be reached.

Examples:
  bulwark audit examples/express
  bulwark audit bulwark/myapp:1a2b3c --run-config .bulwark/build/myapp/compose.yaml
  bulwark audit sha256:0123abcd… --json --level warn
  sudo bulwark audit --disk .bulwark/build/vm/disk.qcow2
  bulwark audit --vm 127.0.0.1:2222 --key ~/.ssh/bulwark_admin --https-port 8443 \\
      --http-port 8080 --ca .bulwark/build/vm/root.crt
`;

export const command: Command = {
  summary: 'check an image, a VM disk or a running VM against the security checks (A–D)',
  help,
  async run(args: string[]): Promise<number> {
    const { values, positionals } = parseCommandArgs('audit', args, {
      'run-config': { type: 'string' },
      json: { type: 'boolean' },
      level: { type: 'string' },
      disk: { type: 'string' },
      units: { type: 'string' },
      vm: { type: 'string' },
      key: { type: 'string' },
      'https-port': { type: 'string' },
      'http-port': { type: 'string' },
      servername: { type: 'string' },
      ca: { type: 'string' },
      'health-path': { type: 'string' },
    });
    const level = values.level ?? 'fail';
    if (level !== 'fail' && level !== 'warn') throw usageError(`audit: --level must be fail or warn, not "${level}"`);
    if (positionals.length > 1) throw usageError(`audit: one image or app folder at a time (got ${positionals.length}); see \`bulwark audit --help\``);
    const units = values.units?.split(',').map((u) => u.trim()).filter(Boolean).map((u) => (u.includes('.') ? u : `${u}.service`));
    const progress = (line: string) => process.stderr.isTTY && process.stderr.write(`bulwark audit: ${line}\n`);
    const reports: AuditReport[] = [];

    if (values.disk !== undefined || values.vm !== undefined) {
      if (values.disk !== undefined && values.vm !== undefined) throw usageError('audit: --disk and --vm audit different things: give one');
      if (positionals.length || values['run-config']) throw usageError('audit: --disk/--vm take no IMAGE, APP-DIR or --run-config');
      if (values.disk !== undefined) {
        if (!existsSync(values.disk)) throw usageError(`audit: no such disk image ${values.disk}`);
        reports.push(await auditDisk({ disk: values.disk, units, log: progress }));
      } else {
        const m = /^(\[[^\]]+\]|[^:]+|::1):(\d+)$/.exec(values.vm!);
        if (!m) throw usageError(`audit: --vm wants HOST:PORT (127.0.0.1:2222), not "${values.vm}"`);
        if (!values.key) throw usageError('audit: --vm needs --key FILE (the private key that logs in as root)');
        const readArg = (flag: string, file: string) => {
          try {
            return readFileSync(file);
          } catch (e) {
            throw usageError(`audit: ${flag} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
          }
        };
        const port = (flag: string, v: string | undefined) => {
          if (v === undefined) return undefined;
          if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw usageError(`audit: ${flag} wants a port number, not "${v}"`);
          return Number(v);
        };
        const sshPort = port('--vm', m[2]);
        const httpsPort = port('--https-port', values['https-port']);
        const httpPort = port('--http-port', values['http-port']);
        if (httpPort !== undefined && httpsPort === undefined) throw usageError('audit: --http-port needs --https-port');
        progress(`connecting to ${values.vm} …`);
        reports.push(
          await auditVm({
            host: m[1]!.replace(/^\[|\]$/g, ''),
            port: sshPort!,
            privateKey: readArg('--key', values.key),
            units,
            httpsPort,
            httpPort,
            servername: values.servername,
            ca: values.ca !== undefined ? readArg('--ca', values.ca) : undefined,
            healthPath: values['health-path'],
          }),
        );
      }
    } else {
      const runConfigFlag = values['run-config'];
      if (runConfigFlag !== undefined && !existsSync(runConfigFlag)) throw usageError(`audit: run config ${runConfigFlag} not found`);
      const arg = positionals[0] ?? '.';

      const targets = await resolveAuditTarget(arg);
      const images = targets.filter((t) => !t.disk);
      if (runConfigFlag && images.length > 1) throw usageError(`audit: ${arg} holds ${images.length} images; --run-config applies to one (audit an image by ID instead)`);
      for (const t of targets) {
        if (t.disk) {
          reports.push(await auditDisk({ disk: t.disk, units, target: t.target, image: t.image, host: { securityMirror: t.appDir ? lockSecurityMirror(t.appDir) : undefined }, log: progress }));
          continue;
        }
        let runConfig = runConfigFlag ?? t.runConfig;
        if (!runConfigFlag && runConfig && !existsSync(runConfig)) {
          process.stderr.write(`bulwark audit: ${runConfig} (from artifacts.json) is gone: run-config checks skipped\n`);
          runConfig = undefined;
        }
        if (process.stderr.isTTY) process.stderr.write(`bulwark audit: reading ${t.image} …\n`);
        reports.push(await auditImage({ image: t.image, runConfig, appDir: t.appDir, artifact: t.artifact, target: t.target }));
      }
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

/** The -security mirror the app's lock names (B14 reads the index the image was built from). */
function lockSecurityMirror(appDir: string): string | undefined {
  try {
    const lock = JSON.parse(readFileSync(join(appDir, 'bulwark.lock'), 'utf8')) as { securityMirror?: unknown };
    return typeof lock.securityMirror === 'string' ? lock.securityMirror : undefined;
  } catch {
    return undefined;
  }
}
