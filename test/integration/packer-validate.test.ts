// Integration: the rendered templates pass `packer validate` with the installed Packer (Debian's
// 1.6.6 in CI), and broken copies fail it, so the test would catch a regression. No build runs:
// validate reads the template and prepares every builder and post-processor, offline.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, type RunResult } from '../../src/build/proc.js';
import { dialectForVersion, type PackerDialect } from '../../src/render/packer-dialect.js';
import { packerBuildName, packerExampleVarsFile, packerTemplateFile, renderPackerFiles } from '../../src/render/packer.js';
import { withTimeout } from '../helpers.js';
import { samplePlan } from '../unit/sample-plan.js';

const plan = samplePlan();
const hint = 'install Debian\'s packer (scripts/setup does)';

/** The dialect of the installed packer, or null (with a note) when it needs `packer init` and the network. */
async function installedDialect(): Promise<PackerDialect | null> {
  const v = await run('packer', ['version'], { timeoutMs: 30_000, missingHint: hint });
  const dialect = dialectForVersion(v.stdout);
  if (dialect !== 'packer-1.6') {
    console.log(`  (skipped: ${v.stdout.split('\n')[0]} needs plugins from the network; this test runs Debian's packer 1.6)`);
    return null;
  }
  return dialect;
}

const required = (dir: string) => [
  `base_disk            = "${join(dir, 'base.qcow2')}"`,
  `base_disk_checksum   = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"`,
  `app_bundle           = "${join(dir, 'app-bundle.tar')}"`,
  `site_bundle          = "${join(dir, 'site-bundle.tar')}"`,
  `ssh_private_key_file = "${join(dir, 'build-key')}"`,
  'ssh_public_key       = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderPlaceholderPlaceholderPlaceholder"',
];

/** Placeholder values for every cloud setting; no real credential anywhere. */
const cloud = [
  'aws_region       = "eu-west-1"',
  'aws_s3_bucket    = "placeholder-bucket"',
  'gcp_project_id   = "placeholder-project"',
  'gcp_bucket       = "placeholder-bucket"',
  'do_api_token     = "placeholder-token"',
  'do_spaces_key    = "placeholder-key"',
  'do_spaces_secret = "placeholder-secret"',
  'do_spaces_region = "nyc3"',
  'do_space_name    = "placeholder-space"',
  'do_image_regions = ["nyc3"]',
];

/** Render every app's VM files (build dir layout: packer/, systemd/) plus dummy inputs into a temp dir. */
async function setUp(dialect: PackerDialect, cleanup: (c: () => Promise<unknown>) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-packer-'));
  cleanup(() => rm(dir, { recursive: true, force: true }));
  for (const app of plan.apps) {
    for (const [rel, text] of Object.entries(renderPackerFiles(plan, app, dialect))) {
      const f = join(dir, rel);
      await mkdir(dirname(f), { recursive: true });
      await writeFile(f, text);
    }
  }
  await writeFile(join(dir, 'base.qcow2'), '');
  await writeFile(join(dir, 'app-bundle.tar'), '');
  await writeFile(join(dir, 'site-bundle.tar'), '');
  // Packer parses the key while validating; any well-formed private key will do.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  await writeFile(join(dir, 'build-key'), privateKey, { mode: 0o600 });
  await writeFile(join(dir, 'placeholders.pkrvars.hcl'), [...required(dir), ...cloud, ''].join('\n'));
  await writeFile(join(dir, 'required.pkrvars.hcl'), [...required(dir), ''].join('\n'));
  return dir;
}

const validate = (cwd: string, args: string[]): Promise<RunResult> =>
  run('packer', ['validate', ...args], { cwd, allowFail: true, timeoutMs: 60_000, env: { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1' } });

const explain = (r: RunResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

test('packer validate accepts every rendered template (all targets, placeholders)', () =>
  withTimeout(180_000, async (cleanup) => {
    const dialect = await installedDialect();
    if (!dialect) return;
    const dir = await setUp(dialect, cleanup);
    for (const app of plan.apps) {
      const cwd = join(dir, 'packer');
      const r = await validate(cwd, ['-var-file=../placeholders.pkrvars.hcl', packerTemplateFile(app.spec.name)]);
      assert.is(r.code, 0, `${app.spec.name}: ${explain(r)}`);
    }
    // Canonical layout: what `packer fmt` would write, for templates and example variables alike.
    const fmt = await run('packer', ['fmt', '-check', '-diff', '.'], { cwd: join(dir, 'packer'), allowFail: true, timeoutMs: 30_000 });
    assert.is(fmt.code, 0, `packer fmt would change the files: ${explain(fmt)}`);
  }),
);

test('the example variable file validates once its paths point at real files and secrets are in the environment', () =>
  withTimeout(120_000, async (cleanup) => {
    const dialect = await installedDialect();
    if (!dialect) return;
    const dir = await setUp(dialect, cleanup);
    const r = await run(
      'packer',
      ['validate', `-var-file=${packerExampleVarsFile('express-hello')}`, `-var=base_disk=${join(dir, 'base.qcow2')}`, `-var=app_bundle=${join(dir, 'app-bundle.tar')}`, `-var=site_bundle=${join(dir, 'site-bundle.tar')}`, `-var=ssh_private_key_file=${join(dir, 'build-key')}`, packerTemplateFile('express-hello')],
      {
        cwd: join(dir, 'packer'),
        allowFail: true,
        timeoutMs: 60_000,
        env: { ...process.env, CHECKPOINT_DISABLE: '1', DIGITALOCEAN_API_TOKEN: 'placeholder-token', DIGITALOCEAN_SPACES_ACCESS_KEY: 'placeholder-key', DIGITALOCEAN_SPACES_SECRET_KEY: 'placeholder-secret' },
      },
    );
    assert.is(r.code, 0, explain(r));
  }),
);

test('packer validate from another folder: the template finds its scripts through path.root', () =>
  withTimeout(120_000, async (cleanup) => {
    const dialect = await installedDialect();
    if (!dialect) return;
    const dir = await setUp(dialect, cleanup);
    const r = await validate(tmpdir(), [`-var-file=${join(dir, 'placeholders.pkrvars.hcl')}`, join(dir, 'packer', 'express-hello.pkr.hcl')]);
    assert.is(r.code, 0, explain(r));
  }),
);

test('the local disk build needs no cloud settings; a cloud build does', () =>
  withTimeout(120_000, async (cleanup) => {
    const dialect = await installedDialect();
    if (!dialect) return;
    const dir = await setUp(dialect, cleanup);
    const cwd = join(dir, 'packer');
    const local = await validate(cwd, ['-var-file=../required.pkrvars.hcl', `-only=${packerBuildName('express-hello', 'qemu')}`, 'express-hello.pkr.hcl']);
    assert.is(local.code, 0, explain(local));
    const aws = await validate(cwd, ['-var-file=../required.pkrvars.hcl', `-only=${packerBuildName('express-hello', 'aws')}`, 'express-hello.pkr.hcl']);
    assert.is.not(aws.code, 0, 'amazon-import without a bucket must not validate');
    assert.match(aws.stdout + aws.stderr, /s3_bucket_name/);
  }),
);

test('broken copies fail validation (so this test catches regressions)', () =>
  withTimeout(180_000, async (cleanup) => {
    const dialect = await installedDialect();
    if (!dialect) return;
    const dir = await setUp(dialect, cleanup);
    const cwd = join(dir, 'packer');
    const file = join(cwd, 'express-hello.pkr.hcl');
    const good = await readFile(file, 'utf8');
    const breakages: Array<[string, (s: string) => string]> = [
      ['an attribute the post-processor does not know', (s) => s.replace('s3_bucket_name', 's3_bucket')],
      ['an HCL syntax error', (s) => s.replace(/\n\}\n$/, '\n')],
      ['a disk format the qemu builder cannot write', (s) => s.replace('format           = "raw"', 'format           = "vmdk"')],
    ];
    for (const [what, breakIt] of breakages) {
      const broken = breakIt(good);
      assert.is.not(broken, good, `breakage "${what}" changed nothing`);
      await writeFile(join(cwd, 'broken.pkr.hcl'), broken);
      const r = await validate(cwd, ['-var-file=../placeholders.pkrvars.hcl', 'broken.pkr.hcl']);
      assert.is.not(r.code, 0, `validate accepted ${what}`);
    }
    await unlink(join(cwd, 'broken.pkr.hcl'));

    // A provisioning script missing from the folder.
    await rm(join(cwd, 'provision', 'express-hello', '30-app-unit.sh'));
    const missing = await validate(cwd, ['-var-file=../placeholders.pkrvars.hcl', 'express-hello.pkr.hcl']);
    assert.is.not(missing.code, 0, 'validate accepted a missing provisioning script');
    assert.match(missing.stdout + missing.stderr, /30-app-unit\.sh/);

    // A required variable left out.
    const noChecksum = (await readFile(join(dir, 'placeholders.pkrvars.hcl'), 'utf8')).replace(/^base_disk_checksum.*\n/m, '');
    await writeFile(join(dir, 'no-checksum.pkrvars.hcl'), noChecksum);
    await writeFile(file, good);
    await writeFile(join(cwd, 'provision', 'express-hello', '30-app-unit.sh'), '#!/bin/sh\n');
    const r = await validate(cwd, ['-var-file=../no-checksum.pkrvars.hcl', 'express-hello.pkr.hcl']);
    assert.is.not(r.code, 0, 'validate accepted a template without base_disk_checksum');
  }),
);

test.run();
