// Per-app Packer template (<app>.pkr.hcl) for the VM targets. Every build boots Bulwark's own
// base disk (built from the locked Debian packages) in QEMU, installs the app the same way, and
// differs only in the disk format and where the disk goes: kept as qcow2, or imported into AWS,
// GCP or DigitalOcean by Packer's import post-processors. So the cloud images match the local
// disk: same base, same bundle, same scripts (DESIGN "Layers").
//
// One build per target, so `packer build -only=<build>` runs exactly one of them and its
// post-processors (each cloud chain is restricted to its build with `only`):
//   qemu.<app>               qcow2 disk, kept
//   qemu.<app>-aws           raw disk → amazon-import (AMI)
//   qemu.<app>-gcp           raw disk named disk.raw → compress (tar.gz) → googlecompute-import
//   qemu.<app>-digitalocean  qcow2 disk → digitalocean-import (custom image; DO takes qcow2)
import type { AppPlan, Plan } from '../plan/types.js';
import { appPaths } from '../names.js';
import { attr, blank, block, comment, obj, ref, renderHcl, tpl, type HclNode, type HclValue } from './packer-hcl.js';
import { dialectSetupCommands, dialectSummary, packerSettingsBlock, type PackerDialect, type VmTarget } from './packer-dialect.js';
import { provisionScriptPaths, renderProvisionScripts, stagedBundleName, stagedSiteBundleName, vmStagingDir } from './provision.js';
import { renderAppUnit } from './systemd.js';

export type { PackerDialect, VmTarget } from './packer-dialect.js';

const cloudTargets = ['aws', 'gcp', 'digitalocean'] as const;
type CloudTarget = (typeof cloudTargets)[number];

/** The VM targets of the plan, in a fixed order; the local qcow2 disk is always there. */
export function vmTargets(plan: Plan): VmTarget[] {
  // No VM target named (the default docker build): render every cloud import, so the
  // template is ready for whichever the user picks with -only. Naming VM targets
  // (--target qemu, --target aws) renders exactly those.
  const namedVm = plan.targets.some((t) => t === 'qemu' || (cloudTargets as readonly string[]).includes(t));
  return ['qemu', ...cloudTargets.filter((t) => !namedVm || plan.targets.includes(t))];
}

/** The source name of a target's build (unique within one app's template). */
export const packerSourceName = (app: string, target: VmTarget) => (target === 'qemu' ? app : `${app}-${target}`);

/** The build name to pass to `packer build -only=…` for one target. */
export const packerBuildName = (app: string, target: VmTarget) => `qemu.${packerSourceName(app, target)}`;

/**
 * Where the VM files sit in the build dir. The templates of all apps share packer/, each app's
 * scripts have their own folder under it, and the units sit in systemd/ beside it; the template
 * refers to the others relative to itself (path.root), so the build dir can move.
 */
export const vmLayout = {
  packerDir: 'packer',
  template: (app: string) => `packer/${packerTemplateFile(app)}`,
  exampleVars: (app: string) => `packer/${packerExampleVarsFile(app)}`,
  unit: (app: string) => `systemd/${appPaths(app).unit}`,
  /** The unit as the template reaches it from packer/. */
  unitFromPacker: (app: string) => `../systemd/${appPaths(app).unit}`,
};

/** The template's file name (in packer/). */
export const packerTemplateFile = (app: string) => `${app}.pkr.hcl`;

/** The example variable file's name (in packer/): copy it, fill it in, pass it with -var-file. */
export const packerExampleVarsFile = (app: string) => `${app}.example.pkrvars.hcl`;

/** Where a build's manifest (artifact ids: AMI per region, image names) is written, under output_dir. */
export const packerManifestFile = (app: string, target: VmTarget) => `${packerSourceName(app, target)}.manifest.json`;

/** The content hash without an algorithm prefix, shortened for names and labels. */
export function shortContentHash(hash: string): string {
  return hash.replace(/^[a-z0-9]+:/i, '').toLowerCase().slice(0, 12);
}

/**
 * Default cloud image name: <app>-<short hash>. GCP wants names that start with a letter, so an
 * app whose name starts with a digit gets a "bulwark-" prefix; 63 characters at most.
 */
export function defaultImageName(app: AppPlan): string {
  return `${imageFamily(app)}-${shortContentHash(app.contentHash)}`;
}

/** The app's images as a group (GCP image family): the name part of defaultImageName. */
export function imageFamily(app: AppPlan): string {
  const base = /^[a-z]/.test(app.spec.name) ? app.spec.name : `bulwark-${app.spec.name}`;
  return base.slice(0, 50).replace(/-+$/, '');
}

/** Labels every cloud image carries (valid as AWS tags, GCP labels and, joined with ':', DO tags). */
export function imageLabels(plan: Plan, app: AppPlan): Array<[string, string]> {
  return [
    ['bulwark-app', app.spec.name],
    ['bulwark-content-hash', shortContentHash(app.contentHash)],
    ['bulwark-version', plan.bulwarkVersion.toLowerCase().replace(/[^a-z0-9_-]/g, '-')],
  ];
}

interface Variable {
  name: string;
  type: string;
  description: string;
  default?: HclValue;
  sensitive?: boolean;
  /** Only declared when the plan has this target. */
  target?: CloudTarget;
  /** Required before this build can run (listed in the header). */
  requiredFor?: CloudTarget;
  /** Value for the example variable file, when it is not the default. */
  example?: HclValue;
  /** A secret: its default is this environment variable, and it is never written to a file. */
  fromEnv?: string;
}

function variables(app: AppPlan): Variable[] {
  const name = app.spec.name;
  const vars: Variable[] = [
    { name: 'accelerator', type: 'string', default: 'tcg', description: 'QEMU accelerator: tcg works everywhere (slowly); kvm needs /dev/kvm (Bulwark passes kvm when it finds it).' },
    { name: 'app_bundle', type: 'string', example: `/path/to/${name}-bundle.tar`, description: `Path of ${name}'s built bundle: a tar of app/ (what goes into ${appPaths(name).code}) and bulwark/ (its launcher); bulwark build --target qemu writes it to .bulwark/vm/<name>/inputs/.` },
    { name: 'site_bundle', type: 'string', example: '/path/to/site-bundle.tar', description: "Path of the site bundle: the proxy's Caddyfile and unit, the internal CA, /etc/bulwark/release (.bulwark/vm/<name>/inputs/)." },
    { name: 'base_disk', type: 'string', example: '/path/to/bulwark-base.qcow2', description: "Path or URL of Bulwark's base VM disk (qcow2, built from the locked Debian packages)." },
    { name: 'base_disk_checksum', type: 'string', example: `sha256:${'0'.repeat(64)}`, description: 'Checksum of base_disk, as "sha256:<hex>". Required: a disk that is not the one Bulwark built is refused.' },
    { name: 'disk_size', type: 'string', default: '4G', description: 'Size of the built disk (the base disk grows to it; never smaller than the base disk).' },
    { name: 'image_name', type: 'string', default: defaultImageName(app), description: 'Name of the imported cloud images (and of the S3/GCS/Spaces objects uploaded for them).' },
    { name: 'output_dir', type: 'string', default: 'output', description: 'Folder for the built disks, one sub-folder per build, and the build manifests.' },
    { name: 'ssh_private_key_file', type: 'string', example: '/path/to/build-key', description: 'Private half of the build-time SSH key (ssh_public_key).' },
    { name: 'ssh_public_key', type: 'string', example: 'ssh-ed25519 AAAA…', description: "Public half of the build-time key, type and base64 only (no comment, no commas). The base disk lets no key in: QEMU hands this one to systemd as the credential ssh.authorized_keys.root, which writes /root/.ssh/authorized_keys at boot; 90-cleanup.sh removes it." },
    { name: 'ssh_username', type: 'string', default: 'root', description: 'User Packer logs in as: root, or a user with passwordless sudo.' },

    { name: 'aws_import_role', type: 'string', default: 'vmimport', target: 'aws', description: 'IAM service role VM Import uses to read the bucket (AWS calls it vmimport by default).' },
    { name: 'aws_region', type: 'string', default: '', example: 'us-east-1', target: 'aws', requiredFor: 'aws', description: 'AWS region to import the AMI into. Credentials come from the AWS SDK chain (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, instance role).' },
    { name: 'aws_s3_bucket', type: 'string', default: '', example: 'change-me', target: 'aws', requiredFor: 'aws', description: 'S3 bucket (in aws_region) the raw disk is uploaded to for import; the object is deleted afterwards.' },

    { name: 'gcp_account_file', type: 'string', default: '', target: 'gcp', description: 'Path of a service account JSON key file; empty: application default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud).' },
    { name: 'gcp_bucket', type: 'string', default: '', example: 'change-me', target: 'gcp', requiredFor: 'gcp', description: 'GCS bucket the disk tarball is uploaded to for import; the object is deleted afterwards.' },
    { name: 'gcp_project_id', type: 'string', default: '', example: 'change-me', target: 'gcp', requiredFor: 'gcp', description: 'GCP project that gets the image.' },

    { name: 'do_api_token', type: 'string', fromEnv: 'DIGITALOCEAN_API_TOKEN', target: 'digitalocean', requiredFor: 'digitalocean', description: 'DigitalOcean API token; from the environment (DIGITALOCEAN_API_TOKEN), never written here.' },
    { name: 'do_image_regions', type: 'list(string)', default: [], example: ['nyc3'], target: 'digitalocean', requiredFor: 'digitalocean', description: 'DigitalOcean regions to make the image available in, e.g. ["nyc3", "ams3"].' },
    { name: 'do_space_name', type: 'string', default: '', example: 'change-me', target: 'digitalocean', requiredFor: 'digitalocean', description: 'Spaces bucket the disk is uploaded to for import; the object is deleted afterwards.' },
    { name: 'do_spaces_key', type: 'string', fromEnv: 'DIGITALOCEAN_SPACES_ACCESS_KEY', target: 'digitalocean', requiredFor: 'digitalocean', description: 'Spaces access key; from the environment (DIGITALOCEAN_SPACES_ACCESS_KEY), never written here.' },
    { name: 'do_spaces_region', type: 'string', default: '', example: 'nyc3', target: 'digitalocean', requiredFor: 'digitalocean', description: 'Region of the Spaces bucket, e.g. nyc3.' },
    { name: 'do_spaces_secret', type: 'string', fromEnv: 'DIGITALOCEAN_SPACES_SECRET_KEY', target: 'digitalocean', requiredFor: 'digitalocean', description: 'Spaces secret key; from the environment (DIGITALOCEAN_SPACES_SECRET_KEY), never written here.' },
  ];
  for (const v of vars) {
    if (v.fromEnv) {
      v.default = ref(`env("${v.fromEnv}")`);
      v.sensitive = true;
    }
  }
  return vars.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Runs as root: directly when Packer logs in as root, through sudo otherwise. */
const asRoot = (cmd: string) => tpl(`\${var.ssh_username == "root" ? "" : "sudo -n "}${cmd}`);
/** Shell scripts run with sh explicitly: /tmp may be noexec in a hardened base. */
const rootExecute = asRoot(`env {{ .Vars }} /bin/sh -eu '{{ .Path }}'`);

function variableBlock(v: Variable): HclNode {
  const body: HclNode[] = [attr('type', ref(v.type)), attr('description', v.description)];
  if (v.default !== undefined) body.push(attr('default', v.default));
  if (v.sensitive) body.push(attr('sensitive', true));
  return block('variable', [v.name], body);
}

function sourceBlock(app: AppPlan): HclNode {
  return block('source', ['qemu', app.spec.name], [
    comment("Boots Bulwark's base disk (checksum required) and grows it to disk_size."),
    attr('disk_image', true),
    attr('iso_url', ref('var.base_disk')),
    attr('iso_checksum', ref('var.base_disk_checksum')),
    attr('disk_size', ref('var.disk_size')),
    attr('disk_interface', 'virtio'),
    attr('disk_discard', 'unmap'),
    attr('net_device', 'virtio-net'),
    attr('accelerator', ref('var.accelerator')),
    attr('memory', 1024),
    attr('headless', true),
    comment("SSH reaches the build VM on 127.0.0.1 only (Packer's default forward listens on every address)."),
    attr('qemuargs', [
      ['-netdev', 'user,id=user.0,hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22'],
      ['-smbios', tpl('type=11,value=io.systemd.credential:ssh.authorized_keys.root=${var.ssh_public_key}')],
    ]),
    blank,
    comment('The build-time key; 90-cleanup.sh removes its authorisation before shutdown.'),
    attr('communicator', 'ssh'),
    attr('ssh_username', ref('var.ssh_username')),
    attr('ssh_private_key_file', ref('var.ssh_private_key_file')),
    attr('ssh_timeout', '20m'),
    attr('shutdown_command', asRoot('systemctl poweroff')),
  ]);
}

/** The build-level source for one target: format, file name and folder of its disk. */
function buildSource(app: AppPlan, target: VmTarget): HclNode {
  const name = app.spec.name;
  const src = packerSourceName(name, target);
  const disk: Record<VmTarget, { format: string; vmName: string; why: string }> = {
    qemu: { format: 'qcow2', vmName: `${name}.qcow2`, why: `The local disk: ${packerBuildName(name, target)}` },
    aws: { format: 'raw', vmName: `${name}.raw`, why: 'For AWS: a raw disk (amazon-import picks the file by its .raw extension)' },
    gcp: { format: 'raw', vmName: 'disk.raw', why: 'For GCP: a raw disk that must be named disk.raw inside the uploaded tar.gz' },
    digitalocean: { format: 'qcow2', vmName: `${name}.qcow2`, why: 'For DigitalOcean: qcow2 (accepted by DO, smaller to upload than raw)' },
  };
  const d = disk[target];
  const body: HclNode[] = [comment(d.why)];
  if (target !== 'qemu') body.push(attr('name', src));
  body.push(attr('format', d.format));
  if (d.format === 'qcow2') body.push(attr('disk_compression', true));
  body.push(attr('vm_name', d.vmName), attr('output_directory', tpl(`\${var.output_dir}/${src}`)));
  return block('source', [`source.qemu.${name}`], body);
}

function provisioners(app: AppPlan): HclNode[] {
  const name = app.spec.name;
  const scripts = provisionScriptPaths(name);
  return [
    comment(`Stage the bundles and the unit where provision/${name}/*.sh look for them (${vmStagingDir}).`),
    block('provisioner', ['shell'], [
      attr('execute_command', "/bin/sh -eu '{{ .Path }}'"),
      attr('inline', [`mkdir -p -m 0700 ${vmStagingDir}`]),
    ]),
    block('provisioner', ['file'], [
      attr('source', ref('var.app_bundle')),
      attr('destination', `${vmStagingDir}/${stagedBundleName}`),
    ]),
    block('provisioner', ['file'], [
      attr('source', ref('var.site_bundle')),
      attr('destination', `${vmStagingDir}/${stagedSiteBundleName}`),
    ]),
    block('provisioner', ['file'], [
      attr('source', tpl(`\${path.root}/${vmLayout.unitFromPacker(name)}`)),
      attr('destination', `${vmStagingDir}/${appPaths(name).unit}`),
    ]),
    blank,
    comment('The same scripts install the app on any Debian machine by hand; see their headers.'),
    block('provisioner', ['shell'], [
      attr('execute_command', rootExecute),
      attr('environment_vars', [`BULWARK_STAGING=${vmStagingDir}`, tpl('BUILD_SSH_USER=${var.ssh_username}')]),
      attr('scripts', scripts.map((s) => tpl(`\${path.root}/${s}`))),
    ]),
  ];
}

function postProcessors(plan: Plan, app: AppPlan, targets: VmTarget[]): HclNode[] {
  const name = app.spec.name;
  const labels = imageLabels(plan, app);
  const description = `${name} (Bulwark v${plan.bulwarkVersion}, content ${shortContentHash(app.contentHash)})`;
  const manifest = (t: VmTarget) =>
    block('post-processor', ['manifest'], [
      attr('only', [packerBuildName(name, t)]),
      attr('output', tpl(`\${var.output_dir}/${packerManifestFile(name, t)}`)),
    ]);
  const out: HclNode[] = [
    comment(`Each build ends with a manifest (artifact ids, e.g. region:ami-…) in output_dir.`),
    manifest('qemu'),
  ];
  for (const t of targets) {
    const only = attr('only', [packerBuildName(name, t)]);
    if (t === 'aws') {
      out.push(
        blank,
        comment('AWS: upload the raw disk to S3, import it as an AMI, delete the upload.'),
        block('post-processors', [], [
          block('post-processor', ['amazon-import'], [
            only,
            attr('region', ref('var.aws_region')),
            attr('s3_bucket_name', ref('var.aws_s3_bucket')),
            attr('s3_key_name', tpl('bulwark/${var.image_name}.raw')),
            attr('role_name', ref('var.aws_import_role')),
            attr('format', 'raw'),
            attr('ami_name', ref('var.image_name')),
            attr('ami_description', description),
            attr('tags', obj([['Name', ref('var.image_name')], ...labels])),
          ]),
          manifest(t),
        ]),
      );
    } else if (t === 'gcp') {
      out.push(
        blank,
        comment('GCP: pack disk.raw into a tar.gz, upload it to GCS, import it as an image, delete the upload.'),
        block('post-processors', [], [
          block('post-processor', ['compress'], [only, attr('output', tpl(`\${var.output_dir}/${packerSourceName(name, t)}/${name}.tar.gz`))]),
          block('post-processor', ['googlecompute-import'], [
            only,
            attr('project_id', ref('var.gcp_project_id')),
            attr('account_file', ref('var.gcp_account_file')),
            attr('bucket', ref('var.gcp_bucket')),
            attr('gcs_object_name', tpl('bulwark/${var.image_name}.tar.gz')),
            attr('image_name', ref('var.image_name')),
            attr('image_family', imageFamily(app)),
            attr('image_description', description),
            attr('image_labels', obj(labels)),
          ]),
          manifest(t),
        ]),
      );
    } else if (t === 'digitalocean') {
      out.push(
        blank,
        comment('DigitalOcean: upload the qcow2 disk to Spaces, import it as a custom image, delete the upload.'),
        block('post-processors', [], [
          block('post-processor', ['digitalocean-import'], [
            only,
            attr('api_token', ref('var.do_api_token')),
            attr('spaces_key', ref('var.do_spaces_key')),
            attr('spaces_secret', ref('var.do_spaces_secret')),
            attr('spaces_region', ref('var.do_spaces_region')),
            attr('space_name', ref('var.do_space_name')),
            attr('space_object_name', tpl('bulwark/${var.image_name}.qcow2')),
            attr('image_name', ref('var.image_name')),
            attr('image_description', description),
            attr('image_distribution', 'Debian'),
            attr('image_regions', ref('var.do_image_regions')),
            attr('image_tags', ['bulwark', ...labels.map(([k, v]) => `${k}:${v}`)]),
          ]),
          manifest(t),
        ]),
      );
    }
  }
  return out;
}

function headerComment(plan: Plan, app: AppPlan, dialect: PackerDialect, targets: VmTarget[], vars: Variable[]): HclNode {
  const name = app.spec.name;
  const file = packerTemplateFile(name);
  const builds = targets.map((t) => [packerBuildName(name, t), {
    qemu: `qcow2 disk in <output_dir>/${packerSourceName(name, t)}/`,
    aws: 'raw disk imported as an AMI (amazon-import)',
    gcp: 'raw disk imported as a GCE image (compress + googlecompute-import)',
    digitalocean: 'qcow2 disk imported as a DigitalOcean custom image',
  }[t]] as const);
  const width = Math.max(...builds.map(([b]) => b.length));
  const required = vars.filter((v) => v.default === undefined).map((v) => v.name);
  const perTarget = targets
    .filter((t): t is CloudTarget => t !== 'qemu')
    .map((t) => `  ${packerBuildName(name, t)}: ${vars.filter((v) => v.requiredFor === t && !v.fromEnv).map((v) => v.name).join(', ')}`);
  const secrets = vars.filter((v) => v.fromEnv).map((v) => `  ${v.fromEnv} (${v.name})`);
  const vf = packerExampleVarsFile(name);
  const myVars = `${name}.pkrvars.hcl`;
  const lines = [
    `${file}: the VM images of the app "${name}", generated by Bulwark v${plan.bulwarkVersion}.`,
    dialectSummary(dialect),
    `App content hash: ${app.contentHash}`,
    'The same plan renders the same file. Edit it freely; `bulwark generate` rewrites it.',
    '',
    `Every build boots Bulwark's base disk in QEMU, runs provision/${name}/*.sh (user, code,`,
    'unit, site, cleanup) and shuts down; the builds differ only in the disk format and where it goes:',
    ...builds.map(([b, what]) => `  ${b.padEnd(width)}  ${what}`),
    '',
    `Run by hand, from this folder: after \`bulwark build --target qemu\`, use the variable file it wrote`,
    `(.bulwark/vm/<name>/${myVars}: base disk, bundles, key); or copy ${vf} to ${myVars},`,
    'fill it in, then:',
    ...dialectSetupCommands(dialect, file).map((c) => `  ${c}`),
    `  packer validate -var-file=${myVars} ${file}`,
    `  packer build -var-file=${myVars} -only=${packerBuildName(name, 'qemu')} ${file}`,
    '',
    `Required variables: ${required.join(', ')}.`,
    ...(perTarget.length ? ['Also required by the cloud builds:', ...perTarget] : []),
    ...(secrets.length ? ['Secrets, only from the environment (or PKR_VAR_<name>), never from a file:', ...secrets] : []),
  ];
  return comment(lines.join('\n'));
}

/**
 * `<app>.example.pkrvars.hcl`: every variable of the template with a placeholder or its default,
 * grouped by build. Secrets are left out on purpose: they come from the environment.
 */
export function renderPlaceholderVars(plan: Plan, app: AppPlan): string {
  const name = app.spec.name;
  const targets = vmTargets(plan);
  const vars = variables(app).filter((v) => v.target === undefined || targets.includes(v.target));
  const line = (v: Variable): HclNode => attr(v.name, v.example ?? v.default!);
  const nodes: HclNode[] = [
    comment(
      [
        `${packerExampleVarsFile(name)}: the variables of ${packerTemplateFile(name)}, with placeholders.`,
        `Generated by Bulwark v${plan.bulwarkVersion}. Copy it, fill in the paths and names, and pass the copy`,
        `to packer with -var-file=. Secrets are not written here: they come from the environment.`,
      ].join('\n'),
    ),
    blank,
    comment('Required by every build.'),
    ...vars.filter((v) => v.default === undefined).map(line),
    blank,
    comment('Optional: these are the defaults.'),
    ...vars.filter((v) => v.default !== undefined && !v.target).map(line),
  ];
  const credentials: Record<CloudTarget, string> = {
    aws: 'Credentials: the AWS SDK chain (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).',
    gcp: 'Credentials: gcp_account_file, or application default credentials (GOOGLE_APPLICATION_CREDENTIALS).',
    digitalocean: 'Secrets from the environment: DIGITALOCEAN_API_TOKEN, DIGITALOCEAN_SPACES_ACCESS_KEY, DIGITALOCEAN_SPACES_SECRET_KEY.',
  };
  for (const t of targets) {
    if (t === 'qemu') continue;
    nodes.push(blank, comment(`${packerBuildName(name, t)}. ${credentials[t]}`), ...vars.filter((v) => v.target === t && !v.sensitive).map(line));
  }
  return renderHcl(nodes);
}

/** The per-app Packer template, `<app>.pkr.hcl`. Pure: same plan, same bytes. */
export function renderPackerTemplate(plan: Plan, app: AppPlan, dialect: PackerDialect): string {
  const targets = vmTargets(plan);
  const vars = variables(app).filter((v) => v.target === undefined || targets.includes(v.target));
  const nodes: HclNode[] = [headerComment(plan, app, dialect, targets, vars), blank];
  const settings = packerSettingsBlock(dialect, targets);
  if (settings.length) nodes.push(...settings, blank);
  for (const v of vars) nodes.push(variableBlock(v), blank);
  nodes.push(sourceBlock(app), blank);
  const buildBody: HclNode[] = [];
  targets.forEach((t, i) => {
    if (i > 0) buildBody.push(blank);
    buildBody.push(buildSource(app, t));
  });
  buildBody.push(blank, ...provisioners(app), blank, ...postProcessors(plan, app, targets));
  nodes.push(block('build', [], buildBody));
  return renderHcl(nodes);
}

/**
 * Every VM file of one app, by path relative to the build dir (vmLayout): the template, its
 * example variables, the provisioning scripts and the unit. Written together, since the
 * template refers to the others by path.
 */
export function renderPackerFiles(plan: Plan, app: AppPlan, dialect: PackerDialect): Record<string, string> {
  const name = app.spec.name;
  const files: Record<string, string> = {
    [vmLayout.template(name)]: renderPackerTemplate(plan, app, dialect),
    [vmLayout.exampleVars(name)]: renderPlaceholderVars(plan, app),
    ...Object.fromEntries(Object.entries(renderProvisionScripts(plan, app)).map(([f, c]) => [`${vmLayout.packerDir}/${f}`, c])),
    [vmLayout.unit(name)]: renderAppUnit(plan, app),
  };
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
}
