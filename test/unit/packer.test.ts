// Unit tests for the per-app Packer template: golden files for both dialects (UPDATE_GOLDEN=1
// rewrites them), determinism, the dialect difference, build names, and no credentials in output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import hcl from 'hcl2-parser';
import { repoRoot } from '../helpers.js';
import { samplePlan } from './sample-plan.js';
import {
  defaultImageName,
  packerBuildName,
  renderPackerFiles,
  renderPackerTemplate,
  renderPlaceholderVars,
  shortContentHash,
  vmTargets,
} from '../../src/render/packer.js';
import { dialectForVersion, packerDialects, type PackerDialect } from '../../src/render/packer-dialect.js';
import { hclString, renderHcl, tpl, attr, block, obj } from '../../src/render/packer-hcl.js';
import { renderAppUnit } from '../../src/render/systemd.js';

const goldenDir = join(repoRoot, 'test', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

/** Compare with test/golden/<name>, or rewrite it when UPDATE_GOLDEN=1. */
function golden(name: string, actual: string) {
  const file = join(goldenDir, name);
  if (update || !existsSync(file)) {
    if (!update) throw new Error(`missing golden file ${file}: run the tests with UPDATE_GOLDEN=1 to create it`);
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.fixture(actual, readFileSync(file, 'utf8'), `${name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)`);
}

/** hcl2-parser returns [object, error]; the error is null when the text parses. */
function parseHcl(text: string): any {
  const [parsed, err] = hcl.parseToObject(text);
  if (err) throw new Error(`HCL does not parse: ${err}`);
  return parsed;
}

const plan = samplePlan();

for (const app of plan.apps) {
  for (const dialect of packerDialects) {
    test(`golden: ${app.spec.name} template, ${dialect}`, () => {
      golden(`${app.spec.name}.${dialect}.pkr.hcl`, renderPackerTemplate(plan, app, dialect));
    });
  }
  test(`golden: ${app.spec.name} unit and example variables`, () => {
    golden(`${app.spec.name}.service`, renderAppUnit(plan, app));
    golden(`${app.spec.name}.example.pkrvars.hcl`, renderPlaceholderVars(plan, app));
  });
}

test('deterministic: rendering twice gives identical bytes, for every file', () => {
  for (const app of plan.apps) {
    for (const dialect of packerDialects) {
      const a = renderPackerFiles(samplePlan(), app, dialect);
      const b = renderPackerFiles(samplePlan(), structuredClone(app), dialect);
      assert.equal(Object.keys(a), Object.keys(b));
      for (const k of Object.keys(a)) assert.is(a[k], b[k], k);
    }
  }
});

test('dialects: current has required_plugins for exactly the targets, 1.6 has no packer block', () => {
  const app = plan.apps[0]!;
  const current = parseHcl(renderPackerTemplate(plan, app, 'current'));
  const plugins = current.packer[0].required_plugins[0];
  assert.equal(Object.keys(plugins).sort(), ['amazon', 'digitalocean', 'googlecompute', 'qemu']);
  assert.is(plugins.qemu.source, 'github.com/hashicorp/qemu');
  const old = renderPackerTemplate(plan, app, 'packer-1.6');
  assert.not.ok(parseHcl(old).packer, '1.6 rejects required_plugins: no packer block');
  assert.not.match(old, /required_plugins/);

  const qemuOnly = samplePlan({ targets: ['docker', 'qemu'] });
  const slim = parseHcl(renderPackerTemplate(qemuOnly, qemuOnly.apps[0]!, 'current'));
  assert.equal(Object.keys(slim.packer[0].required_plugins[0]), ['qemu']);
});

test('dialects: the two differ only in the header line, the packer block and the init hint', () => {
  const app = plan.apps[0]!;
  const strip = (s: string) =>
    s
      .replace(/^packer \{[\s\S]*?^\}\n\n/m, '')
      .split('\n')
      .filter((l) => !/dialect|packer init/i.test(l))
      .join('\n');
  assert.fixture(strip(renderPackerTemplate(plan, app, 'current')), strip(renderPackerTemplate(plan, app, 'packer-1.6')));
});

test('dialectForVersion: 1.6.6 and older get packer-1.6; 1.7+ and unknown get current', () => {
  assert.is(dialectForVersion('Packer v1.6.6'), 'packer-1.6');
  assert.is(dialectForVersion('1.5.0'), 'packer-1.6');
  assert.is(dialectForVersion('Packer v1.7.0'), 'current');
  assert.is(dialectForVersion('Packer v1.11.2\n\nYour version of Packer is out of date!'), 'current');
  assert.is(dialectForVersion('Packer v2.0.0'), 'current');
  assert.is(dialectForVersion('something else'), 'current');
});

test('builds: one per VM target, each cloud post-processor restricted to its own build', () => {
  const app = plan.apps[0]!;
  const name = app.spec.name;
  assert.equal(vmTargets(plan), ['qemu', 'aws', 'gcp', 'digitalocean']);
  const parsed = parseHcl(renderPackerTemplate(plan, app, 'packer-1.6'));
  const build = parsed.build[0];
  const sources = build.source[`source.qemu.${name}`];
  assert.equal(
    sources.map((s: any) => s.name ?? name),
    [name, `${name}-aws`, `${name}-gcp`, `${name}-digitalocean`],
  );
  assert.equal(sources.map((s: any) => s.format), ['qcow2', 'raw', 'raw', 'qcow2']);
  assert.is(sources[2].vm_name, 'disk.raw', 'googlecompute-import wants disk.raw in the tarball');

  const chains: any[] = build['post-processors'];
  const byType = new Map<string, string[]>();
  for (const chain of chains) {
    for (const [type, bodies] of Object.entries(chain['post-processor'] as Record<string, any[]>)) {
      for (const b of bodies) byType.set(type, [...(byType.get(type) ?? []), ...b.only]);
    }
  }
  assert.equal(byType.get('amazon-import'), [packerBuildName(name, 'aws')]);
  assert.equal(byType.get('googlecompute-import'), [packerBuildName(name, 'gcp')]);
  assert.equal(byType.get('compress'), [packerBuildName(name, 'gcp')]);
  assert.equal(byType.get('digitalocean-import'), [packerBuildName(name, 'digitalocean')]);
  // Every post-processor names its build: nothing runs for a build it was not meant for.
  for (const chain of chains) for (const bodies of Object.values(chain['post-processor'] as Record<string, any[]>)) for (const b of bodies) assert.ok(Array.isArray(b.only) && b.only.length === 1);
  for (const pp of Object.values(build['post-processor'] as Record<string, any[]>)) for (const b of pp) assert.equal(b.only, [packerBuildName(name, 'qemu')]);
});

test('targets: no cloud target, no cloud build, variable or post-processor', () => {
  const p = samplePlan({ targets: ['docker', 'qemu'] });
  const out = renderPackerTemplate(p, p.apps[0]!, 'packer-1.6');
  assert.not.match(out, /amazon-import|googlecompute-import|digitalocean-import|aws_|gcp_|do_/);
  assert.match(out, /source "source\.qemu\.express-hello"/);
});

test('variables: required ones have no default; base_disk_checksum has no "none" default', () => {
  const parsed = parseHcl(renderPackerTemplate(plan, plan.apps[0]!, 'packer-1.6'));
  const vars = parsed.variable as Record<string, any[]>;
  for (const v of ['base_disk', 'base_disk_checksum', 'app_bundle', 'ssh_private_key_file']) {
    assert.ok(vars[v], v);
    assert.not.ok('default' in vars[v]![0], `${v} must be required`);
  }
  assert.is(vars.accelerator![0].default, 'tcg');
  assert.is(vars.image_name![0].default, `express-hello-${shortContentHash(plan.apps[0]!.contentHash)}`);
  for (const v of Object.keys(vars)) assert.ok(vars[v]![0].description, `${v} has a description`);
  assert.equal(Object.keys(vars), Object.keys(vars).slice().sort(), 'variables sorted by name');
});

test('credentials: never in the output; secret variables are sensitive and come from the environment', () => {
  const secrets = {
    DIGITALOCEAN_API_TOKEN: 'dop_v1_SECRET_TOKEN_VALUE',
    DIGITALOCEAN_SPACES_ACCESS_KEY: 'SPACES_KEY_VALUE',
    DIGITALOCEAN_SPACES_SECRET_KEY: 'SPACES_SECRET_VALUE',
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEVALUE',
    AWS_SECRET_ACCESS_KEY: 'AWS_SECRET_VALUE',
    GOOGLE_APPLICATION_CREDENTIALS: '/secret/path/gcp.json',
  };
  const saved = { ...process.env };
  Object.assign(process.env, secrets);
  try {
    for (const app of plan.apps) {
      for (const dialect of packerDialects) {
        for (const [file, text] of Object.entries(renderPackerFiles(plan, app, dialect))) {
          for (const v of Object.values(secrets)) assert.not.ok(text.includes(v), `${file} contains a credential`);
        }
      }
    }
  } finally {
    for (const k of Object.keys(secrets)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const vars = parseHcl(renderPackerTemplate(plan, plan.apps[0]!, 'packer-1.6')).variable as Record<string, any[]>;
  for (const name of ['do_api_token', 'do_spaces_key', 'do_spaces_secret']) {
    assert.is(vars[name]![0].sensitive, true, `${name} sensitive`);
    assert.match(vars[name]![0].default, /^\$\{env\("DIGITALOCEAN_[A-Z_]+"\)\}$/, `${name} comes from the environment`);
  }
  for (const [name, [body]] of Object.entries(vars)) {
    if (/token|secret|password|key$/.test(name) && name !== 'ssh_private_key_file' && name !== 'ssh_public_key') assert.ok(body.sensitive, `${name} should be sensitive`);
  }
});

test('header: says how to run it by hand and which variables are required', () => {
  const out = renderPackerTemplate(plan, plan.apps[0]!, 'current');
  assert.match(out, /^# express-hello\.pkr\.hcl: .*generated by Bulwark v0\.1\.0/);
  assert.match(out, /packer init express-hello\.pkr\.hcl/);
  assert.match(out, /packer build -var-file=express-hello\.pkrvars\.hcl -only=qemu\.express-hello express-hello\.pkr\.hcl/);
  assert.match(out, /Required variables: app_bundle, base_disk, base_disk_checksum, site_bundle, ssh_private_key_file, ssh_public_key\./);
  assert.not.match(renderPackerTemplate(plan, plan.apps[0]!, 'packer-1.6'), /packer init/);
});

test('files: template, example variables, scripts and unit, referenced from the template by path', () => {
  const files = renderPackerFiles(plan, plan.apps[1]!, 'packer-1.6');
  assert.equal(Object.keys(files), [
    'packer/django-notes.example.pkrvars.hcl',
    'packer/django-notes.pkr.hcl',
    'packer/provision/django-notes/10-app-user.sh',
    'packer/provision/django-notes/20-app-install.sh',
    'packer/provision/django-notes/30-app-unit.sh',
    'packer/provision/django-notes/40-site.sh',
    'packer/provision/django-notes/90-cleanup.sh',
    'systemd/django-notes.service',
  ]);
  const template = files['packer/django-notes.pkr.hcl']!;
  for (const f of Object.keys(files).filter((f) => f.startsWith('packer/provision/'))) assert.ok(template.includes(`\${path.root}/${f.slice('packer/'.length)}`), `template refers to ${f}`);
  assert.ok(template.includes('${path.root}/../systemd/django-notes.service'));
  assert.is(files['systemd/django-notes.service'], renderAppUnit(plan, plan.apps[1]!));
});

test('example variables: every template variable except the secrets, and parseable', () => {
  const app = plan.apps[0]!;
  const example = parseHcl(renderPlaceholderVars(plan, app));
  const vars = Object.keys(parseHcl(renderPackerTemplate(plan, app, 'packer-1.6')).variable);
  assert.equal(Object.keys(example).sort(), vars.filter((v) => !['do_api_token', 'do_spaces_key', 'do_spaces_secret'].includes(v)).sort());
  assert.match(example.base_disk_checksum, /^sha256:[0-9a-f]{64}$/);
});

test('image names: short hash, and a letter first for GCP', () => {
  const app = structuredClone(plan.apps[0]!);
  assert.is(shortContentHash('sha256:ABCDEF0123456789'), 'abcdef012345');
  assert.is(defaultImageName(app), 'express-hello-9f86d081884c');
  app.spec.name = '3d-shop';
  assert.is(defaultImageName(app), 'bulwark-3d-shop-9f86d081884c');
  app.spec.name = 'a'.repeat(48);
  assert.ok(defaultImageName(app).length <= 63);
});

test('hcl writer: escaping, interpolation kept, alignment like packer fmt', () => {
  assert.is(hclString('a "b" ${c} %{d} \\'), '"a \\"b\\" $${c} %%{d} \\\\"');
  assert.is(tpl('x "${var.a == "root" ? "" : "y"}" z').expr, '"x \\"${var.a == "root" ? "" : "y"}\\" z"');
  const out = renderHcl([
    block('b', ['l'], [attr('a', 1), attr('long_name', 'x'), attr('list', ['p', 'q']), attr('m', obj([['k', 'v'], ['with-dash', true]])), attr('c', false)]),
  ]);
  assert.fixture(
    out,
    ['b "l" {', '  a         = 1', '  long_name = "x"', '  list      = ["p", "q"]', '  m = {', '    k           = "v"', '    "with-dash" = true', '  }', '  c = false', '}', ''].join('\n'),
  );
});

test.run();
