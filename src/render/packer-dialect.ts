// The one place that knows how Packer versions differ (DESIGN "Generated files are the product too").
//
// 'packer-1.6': Debian's packer 1.6.6. Builders and post-processors are compiled in (qemu,
//   amazon-import, googlecompute-import, digitalocean-import, compress, manifest); it rejects
//   `required_plugins` and has no `packer init`, no `locals`/`data` blocks, no templatefile().
// 'current': Packer 1.7 and later. Plugins are separate binaries that `packer init` installs
//   from the `required_plugins` block; without that block 1.10+ knows no qemu builder at all.
// Everything else in the rendered template is the HCL2 subset both accept, so the dialect
// changes the `packer {}` block and the run instructions, nothing more.
import { block, obj, attr, type HclNode } from './packer-hcl.js';

export type PackerDialect = 'packer-1.6' | 'current';

export const packerDialects: readonly PackerDialect[] = ['packer-1.6', 'current'];

/** The VM targets a template can build; 'qemu' is the local qcow2 disk. */
export type VmTarget = 'qemu' | 'aws' | 'gcp' | 'digitalocean';

interface Plugin {
  name: string;
  source: string;
  version: string;
}

/** Plugins each target needs under current Packer (compress, manifest, file, shell are built in). */
const pluginsFor: Record<VmTarget, Plugin> = {
  qemu: { name: 'qemu', source: 'github.com/hashicorp/qemu', version: '~> 1' },
  aws: { name: 'amazon', source: 'github.com/hashicorp/amazon', version: '~> 1' },
  gcp: { name: 'googlecompute', source: 'github.com/hashicorp/googlecompute', version: '~> 1' },
  digitalocean: { name: 'digitalocean', source: 'github.com/digitalocean/digitalocean', version: '~> 1' },
};

/** First Packer release with `required_plugins`; older ones get the 1.6 dialect. */
const FIRST_CURRENT = [1, 7, 0] as const;

/** The `packer {}` settings block for the dialect; none for 1.6 (it rejects required_plugins). */
export function packerSettingsBlock(dialect: PackerDialect, targets: readonly VmTarget[]): HclNode[] {
  if (dialect === 'packer-1.6') return [];
  const plugins = [...new Set(['qemu' as VmTarget, ...targets])].map((t) => pluginsFor[t]).sort((a, b) => a.name.localeCompare(b.name));
  return [
    block('packer', [], [
      attr('required_version', '>= 1.7.0'),
      block('required_plugins', [], plugins.map((p) => attr(p.name, obj([['source', p.source], ['version', p.version]])))),
    ]),
  ];
}

/** One line saying which Packer the file is for. */
export function dialectSummary(dialect: PackerDialect): string {
  return dialect === 'packer-1.6'
    ? "Packer 1.6 dialect: Debian's packer 1.6.6, with every builder and post-processor built in."
    : 'Current Packer dialect (1.7 and later): plugins come from the required_plugins block below.';
}

/** Commands to run before `packer build`, if any. */
export function dialectSetupCommands(dialect: PackerDialect, templateFile: string): string[] {
  return dialect === 'current' ? [`packer init ${templateFile}`] : [];
}

/**
 * The dialect for a Packer binary, from the output of `packer version` ("Packer v1.6.6",
 * "Packer v1.11.2 …"). Unknown output means a current Packer: that is what people install.
 */
export function dialectForVersion(versionOutput: string): PackerDialect {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(versionOutput);
  if (!m) return 'current';
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  for (let i = 0; i < 3; i++) {
    if (v[i]! !== FIRST_CURRENT[i]) return v[i]! < FIRST_CURRENT[i] ? 'packer-1.6' : 'current';
  }
  return 'current';
}
