import type { Command } from './main.js';
import { parseCommandArgs } from './args.js';
import { commonHelp, commonOptions, loadProject, packerDialect, reportLock } from './project.js';
import { build } from '../build/index.js';
import { makeLogger } from './progress.js';
import { existsSync } from 'node:fs';
import { usageError } from '../types.js';
import { adminPublicKey } from '../build/vm-target.js';

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

VM disk (--target qemu; needs root: the base disk is installed by mmdebstrap):
  --admin-key FILE.pub      the operator's OpenSSH public key, let in as root (key only);
                            default: a key Bulwark makes in .bulwark/ssh/admin_ed25519
  --acme-directory URL      ACME directory for apps with domains (default Let's Encrypt)
  --acme-email ADDRESS      contact address for the ACME account
  --acme-ca-root FILE       trust this CA for the ACME directory's HTTPS (a private or test server)
  --disk-size MIB           size of the system disk (default 3072)
  Writes .bulwark/vm/<name>/<name>.qcow2 and .raw (what the clouds import), SHA256SUMS, and,
  for an app without a domain, bulwark-root-ca.crt: the CA that verifies its HTTPS.

Proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are passed to the build only.
Exit codes: 0 built; 1 the build failed; 2 usage or app error; 3 missing tool, dockerd down, mirror unreachable.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs('build', args, { ...commonOptions, 'build-ca': { type: 'string' }, 'frozen-lock': { type: 'boolean' }, 'no-cache': { type: 'boolean' }, 'admin-key': { type: 'string' }, 'acme-directory': { type: 'string' }, 'acme-email': { type: 'string' }, 'acme-ca-root': { type: 'string' }, 'disk-size': { type: 'string' } });
    const diskMiB = values['disk-size'] === undefined ? undefined : Number(values['disk-size']);
    if (diskMiB !== undefined && (!Number.isInteger(diskMiB) || diskMiB < 1024)) throw usageError(`--disk-size ${values['disk-size']}: give a whole number of MiB, at least 1024`);
    if (values['acme-ca-root'] && !existsSync(values['acme-ca-root'])) throw usageError(`--acme-ca-root ${values['acme-ca-root']}: no such file`);
    // Checked before anything is built: a bad key would otherwise fail after the images.
    if (values['admin-key']) await adminPublicKey('.', values['admin-key']);
    const log = makeLogger();
    const ctx = await loadProject(positionals[0], values, { frozen: values['frozen-lock'], write: true, log });
    reportLock(ctx, log);
    const vm = { adminKey: values['admin-key'], acmeDirectory: values['acme-directory'], acmeEmail: values['acme-email'], acmeCaRoot: values['acme-ca-root'], diskMiB };
    const r = await build(ctx, { packerDialect: await packerDialect(), buildCa: values['build-ca'], noCache: values['no-cache'], vm, log });
    if (values.json) process.stdout.write(JSON.stringify({ schemaVersion: 1, artifacts: r.artifacts }, null, 2) + '\n');
    else
      for (const d of r.docker) {
        const a = d.artifact;
        process.stdout.write(`built ${d.tag} (${d.imageId.slice(7, 19)}) in ${d.seconds.toFixed(1)} s\n`);
        process.stdout.write(`  layers: ${summarizeLayers(d.layers)}\n`);
        process.stdout.write(`  run:    docker compose -f ${a.runConfig} up -d   → http://127.0.0.1:${a.port}${a.healthPath === '/' ? '/' : ''}\n`);
        process.stdout.write(`  or:     docker run -d -p 127.0.0.1:${a.port}:${a.port} -v ${a.stateVolume}:/var/lib/${a.app} ${d.tag}\n`);
      }
    if (!values.json && r.vm) {
      const d = r.vm.disk;
      process.stdout.write(`built VM disk ${d.qcow2} (${d.cached ? 'unchanged' : `${d.seconds.toFixed(1)} s`}; ${d.packages} Debian packages, kernel ${d.kernel})\n`);
      process.stdout.write(`  raw:    ${d.raw} (for cloud imports)\n`);
      if (d.caCert) process.stdout.write(`  CA:     ${d.caCert} (verifies https://localhost on this VM)\n`);
      if (r.vm.adminKey) process.stdout.write(`  ssh:    ssh -i ${r.vm.adminKey} root@<vm>\n`);
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
