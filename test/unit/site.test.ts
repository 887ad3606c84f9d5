// load: bulwark.hcl → Site (fixtures under test/fixtures/site, and small sites written to a temp
// folder for the errors), the outline's positions, and applying a site app to a detected AppSpec.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import hcl from 'hcl2-parser';
import { loadSite, shownPath } from '../../src/site/load.js';
import { applySiteOverrides } from '../../src/site/apply.js';
import { outlineHcl } from '../../src/site/hcl-outline.js';
import { appKeys, siteKeys } from '../../src/site/validate.js';
import { siteFrameworks, siteTargets, type SiteApp } from '../../src/site/types.js';
import { detectApp, detectors } from '../../src/detect/index.js';
import { BulwarkError } from '../../src/types.js';
import { fixture, repoRoot } from '../helpers.js';

const made: string[] = [];

/** A site in a temp folder: bulwark.hcl plus app folders (each a static app) and a plain file. */
function site(text: string, folders = ['shop', 'blog']): string {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-site-'));
  made.push(dir);
  for (const f of folders) {
    mkdirSync(join(dir, f));
    writeFileSync(join(dir, f, 'index.html'), '<!doctype html>\n');
  }
  writeFileSync(join(dir, 'notes.txt'), 'not a folder\n');
  writeFileSync(join(dir, 'bulwark.hcl'), text);
  return dir;
}

/** The one-line usage error loadSite throws, with the file's shown path replaced by "bulwark.hcl". */
async function failure(dir: string): Promise<string> {
  try {
    await loadSite(dir);
  } catch (e) {
    assert.instance(e, BulwarkError);
    assert.is((e as BulwarkError).exitCode, 2);
    const msg = (e as BulwarkError).message;
    assert.ok(!msg.includes('\n'), `one line: ${msg}`);
    const shown = shownPath(join(dir, 'bulwark.hcl'));
    assert.ok(msg.startsWith(shown), `names the file: ${msg}`);
    return 'bulwark.hcl' + msg.slice(shown.length);
  }
  throw new Error(`expected loadSite(${dir}) to fail`);
}

const fails = async (text: string, expected: string, folders?: string[]) => assert.is(await failure(site(text, folders)), expected);

test('a valid two-app site', async () => {
  const dir = fixture('site', 'two-apps');
  const s = await loadSite(dir);
  assert.equal(s, {
    file: join(dir, 'bulwark.hcl'),
    projectDir: dir,
    suite: 'bookworm',
    mirror: 'http://deb.debian.org/debian', // trailing slash dropped
    securityMirror: 'http://deb.debian.org/debian-security',
    targets: ['docker', 'qemu'], // deduplicated, in order
    apps: [
      {
        name: 'shop',
        path: join(dir, 'shop'),
        framework: 'static',
        port: 8080,
        healthPath: '/healthz',
        domains: ['shop.example.com', 'www.shop.example.com'], // lowercased
        env: { DEBUG: 'false', NODE_OPTIONS: '--max-old-space-size=256', WORKERS: '4' }, // sorted; numbers and bools as strings
        secrets: ['API_TOKEN', 'STRIPE_KEY'], // deduplicated, sorted
        lines: { block: 7, path: 8, framework: 9, port: 10, healthPath: 11, domains: 12, env: 16, secrets: 21 },
      },
      {
        name: 'blog',
        path: join(dir, 'blog'), // default ./<name>
        domains: ['blog.example.com'],
        env: {},
        secrets: [],
        lines: { block: 24, domains: 25 },
      },
    ],
  });
});

test('one app without a path is the folder of bulwark.hcl', async () => {
  const dir = fixture('site', 'single');
  const s = await loadSite(dir);
  assert.equal(s.apps, [{ name: 'landing', path: dir, port: 9000, domains: [], env: {}, secrets: [], lines: { block: 1, port: 2 } }]);
  assert.is(s.suite, undefined);
  assert.is(s.targets, undefined);
});

test('no bulwark.hcl: one app in the folder, its name left to detect', async () => {
  const dir = fixture('site', 'none');
  assert.equal(await loadSite(dir), { file: null, projectDir: dir, apps: [{ name: '', path: dir, domains: [], env: {}, secrets: [] }] });
});

test('error fixtures: bad port, syntax, empty file', async () => {
  assert.is(await failure(fixture('site', 'bad-port')), 'bulwark.hcl:7: app "shop": port must be an integer 1-65535, got "abc"');
  assert.is(await failure(fixture('site', 'syntax')), 'bulwark.hcl:5: syntax error: the list "[" is never closed: add ] before the "}" on line 6');
  assert.is(await failure(fixture('site', 'empty')), 'bulwark.hcl: no app block: add one, like app "shop" { path = "./shop" }');
  // Messages name the file by its path from the working folder, when it is inside it.
  assert.is(shownPath('/srv/site/bulwark.hcl', '/srv'), 'site/bulwark.hcl');
  assert.is(shownPath('/srv/site/bulwark.hcl', '/srv/site'), 'bulwark.hcl');
  assert.is(shownPath('/srv/site/bulwark.hcl', '/home/me'), '/srv/site/bulwark.hcl');
});

test('syntax errors, with the line the outline finds', async () => {
  await fails('suite = "trixie\n', 'bulwark.hcl:1: syntax error: unterminated string: a quoted string ends on the line it starts (use a heredoc <<EOT for several lines)');
  await fails('suite = "trixie" targets = ["docker"]\n', 'bulwark.hcl:1: syntax error: expected a new line after the value of suite, found targets: put each setting on its own line');
  await fails('\napp "shop" {\n  port 3000\n}\n', 'bulwark.hcl:3: syntax error: expected "=" after port, found the number 3000 (write port = value)');
  await fails('app "shop" {\n  port = 3000\n\napp "blog" {\n}\n', 'bulwark.hcl:1: syntax error: block app "shop" is never closed: add } on a line of its own');
  await fails("app 'shop' {\n}\n", 'bulwark.hcl:1: syntax error: strings are written in double quotes ("…"), not single quotes');
  await fails('app "shop" {\n  port = 3000 }\n', 'bulwark.hcl:2: syntax error: expected a new line after the value of port: put the closing } on a line of its own');
  await fails('app "shop" {\n  env = {\n    A = "1" B = "2"\n  }\n}\n', 'bulwark.hcl:3: syntax error: expected "," or a new line between the entries of the map, found B');
  await fails('app "shop" {\n  port = 1\n  port = 2\n}\n', 'bulwark.hcl:3: syntax error: port is set twice (first on line 2)');
  await fails('app "shop" {\n  health_path = <<EOT\n/x\n', 'bulwark.hcl:2: syntax error: unterminated heredoc <<EOT: add a line holding only EOT');
  await fails('app "shop" {\n  port = 0x50\n}\n', 'bulwark.hcl:2: syntax error: invalid number 0x50: HCL numbers are decimal, like 3000');
});

test('unknown settings, with the closest valid one', async () => {
  await fails('suite = "trixie"\ntaget = ["docker"]\napp "shop" {\n}\n', 'bulwark.hcl:2: unknown setting "taget"; did you mean "targets"? (bulwark.hcl takes suite, mirror, security_mirror, targets, acme_directory, acme_email and app blocks)');
  await fails('port = 3000\napp "shop" {\n}\n', 'bulwark.hcl:1: unknown setting "port": port belongs in an app block, like app "shop" { port = 3000 }');
  await fails('source "x" {\n}\napp "shop" {\n}\n', 'bulwark.hcl:1: unknown block "source" (bulwark.hcl takes suite, mirror, security_mirror, targets, acme_directory, acme_email and app blocks)');
  await fails('app "shop" {\n  port = 3000\n  helth_path = "/up"\n}\n', 'bulwark.hcl:3: app "shop": unknown setting "helth_path"; did you mean "health_path"? (an app block takes path, framework, port, health_path, domains, env, secrets)');
  await fails('app "shop" {\n  healthPath = "/up"\n}\n', 'bulwark.hcl:2: app "shop": unknown setting "healthPath"; did you mean "health_path"? (an app block takes path, framework, port, health_path, domains, env, secrets)');
  await fails('app "shop" {\n  suite = "bookworm"\n}\n', 'bulwark.hcl:2: app "shop": unknown setting "suite": suite is set for the whole site, at the top of bulwark.hcl, outside the app blocks');
});

test('wrong types', async () => {
  await fails('suite = 12\napp "shop" {\n}\n', 'bulwark.hcl:1: suite must be a string, like suite = "trixie", got 12');
  await fails('app "shop" {\n  domains = "shop.example.com"\n}\n', 'bulwark.hcl:2: app "shop": domains must be a list of strings, like domains = ["shop.example.com"], got "shop.example.com"');
  await fails('app "shop" {\n  secrets = [\n    "A",\n    1,\n  ]\n}\n', 'bulwark.hcl:4: app "shop": secrets must be a list of strings, like secrets = ["API_TOKEN"], got 1 in it');
  await fails('app "shop" {\n  env = ["A=1"]\n}\n', 'bulwark.hcl:2: app "shop": env must be a map, like env = { NAME = "value" }, got a list');
  await fails('app "shop" {\n  env {\n    A = "1"\n  }\n}\n', 'bulwark.hcl:2: app "shop": env is a setting, not a block: write env = { NAME = "value" }');
  await fails('app "shop" {\n  env = { A = ["x"] }\n}\n', 'bulwark.hcl:2: app "shop": env A must be a string, got a list');
  await fails('app "shop" {\n  port = 70000\n}\n', 'bulwark.hcl:2: app "shop": port must be an integer 1-65535, got 70000');
  await fails('app "shop" {\n  port = 80.5\n}\n', 'bulwark.hcl:2: app "shop": port must be an integer 1-65535, got 80.5');
  await fails('app "shop" {\n  health_path = "healthz"\n}\n', 'bulwark.hcl:2: app "shop": health_path must be a URL path starting with "/", like "/healthz", got "healthz"');
  await fails('mirror = "ftp://deb.debian.org/debian"\napp "shop" {\n}\n', 'bulwark.hcl:1: mirror must be an http:// or https:// URL, like mirror = "http://deb.debian.org/debian", got "ftp://deb.debian.org/debian"');
  await fails('app "shop" {\n  framework = "expres"\n}\n', 'bulwark.hcl:2: app "shop": unknown framework "expres"; did you mean "express"? (choose express, django, flask, static, node or python)');
  // A quoted number is a number, as HCL converts it.
  assert.is((await loadSite(site('app "shop" {\n  port = "8080"\n}\n'))).apps[0]!.port, 8080);
});

test('ACME settings for VM images: an https directory and an e-mail address', async () => {
  const ok = await loadSite(site('acme_directory = "https://acme.example/dir/"\nacme_email = "ops@example.com"\napp "shop" {\n  domains = ["shop.example.com"]\n}\n'));
  assert.is(ok.acmeDirectory, 'https://acme.example/dir');
  assert.is(ok.acmeEmail, 'ops@example.com');
  await fails('acme_directory = "http://acme.example/dir"\napp "shop" {\n}\n', 'bulwark.hcl:1: acme_directory must be an https:// URL (ACME runs over HTTPS), like acme_directory = "https://acme-v02.api.letsencrypt.org/directory"');
  await fails('acme_email = "ops"\napp "shop" {\n}\n', 'bulwark.hcl:1: acme_email must be an e-mail address, like acme_email = "ops@example.com"');
});

test('expressions are not evaluated', async () => {
  await fails('app "shop" {\n  port = var.port\n}\n', 'bulwark.hcl:2: app "shop": port: var.port is an expression; bulwark.hcl does not evaluate variables, functions or interpolation, so write the value itself');
  await fails('app "shop" {\n  domains = [\n    "shop.example.com",\n    "www.${var.domain}",\n  ]\n}\n', 'bulwark.hcl:4: app "shop": domains: "www.${var.domain}" is an expression; bulwark.hcl does not evaluate variables, functions or interpolation, so write the value itself');
  // $${ is HCL's escape for a literal ${: a value, not an expression.
  const s = await loadSite(site('app "shop" {\n  env = { GREETING = "$${name}" }\n}\n'));
  assert.equal(s.apps[0]!.env, { GREETING: '${name}' });
});

test('app blocks: names, duplicates, labels, none', async () => {
  await fails('app "shop" {\n}\n\napp "blog" {\n}\napp "shop" {\n  port = 1\n}\n', 'bulwark.hcl:6: app "shop" is defined twice (first on line 1); give each app its own name');
  await fails('app "My_Shop" {\n  path = "./shop"\n}\n', 'bulwark.hcl:1: app "My_Shop": app names are lowercase letters, digits and dashes (a name names the image, the unit, the user and the paths); use app "my-shop"');
  await fails('app "" {\n}\n', 'bulwark.hcl:1: app "": an app needs a name, like app "shop" { … }');
  await fails('suite = "trixie"\napp {\n}\n', 'bulwark.hcl:2: an app block needs a name, like app "shop" { … }');
  await fails('app "shop" "v2" {\n}\n', 'bulwark.hcl:1: app "shop" "v2": an app block takes one name, like app "shop" { … }');
  // Mixed label counts make hcl2-parser fail (or panic) without a message; the outline finds the block.
  await fails('app "shop" {\n}\napp {\n}\n', 'bulwark.hcl:3: app: an app block takes one name, like app "shop" { … }');
  await fails('app {\n}\napp "shop" {\n}\n', 'bulwark.hcl:1: app: an app block takes one name, like app "shop" { … }');
  await fails('app = { shop = {} }\n', 'bulwark.hcl:1: app is a block, not a setting: write app "shop" { … }');
  await fails('suite = "trixie"\n', 'bulwark.hcl: no app block: add one, like app "shop" { path = "./shop" }');
  await fails('# nothing yet\n', 'bulwark.hcl: no app block: add one, like app "shop" { path = "./shop" }');
});

test('paths', async () => {
  const dir = site('app "shop" {\n  path = "./shp"\n}\n');
  assert.is(await failure(dir), `bulwark.hcl:2: app "shop": path "./shp" does not exist (looked for ${join(dir, 'shp')})`);
  await fails('app "shop" {\n  path = "notes.txt"\n}\n', 'bulwark.hcl:2: app "shop": path "notes.txt" is a file; give the app\'s folder');
  await fails('app "shop" {\n}\napp "api" {\n}\n', 'bulwark.hcl:3: app "api": no folder ./api next to bulwark.hcl; set path = "…" to the app\'s folder');
  const two = await loadSite(site('app "shop" {\n}\napp "web" {\n  path = "blog"\n}\n'));
  assert.equal(two.apps.map((a) => a.path), [join(two.projectDir, 'shop'), join(two.projectDir, 'blog')]);
});

test('suite and targets', async () => {
  await fails('suite = "buster"\napp "shop" {\n}\n', 'bulwark.hcl:1: unknown suite "buster" (choose trixie or bookworm)');
  await fails('targets = [\n  "docker",\n  "qemu2",\n]\napp "shop" {\n}\n', 'bulwark.hcl:3: unknown target "qemu2" in targets; did you mean "qemu"? (choose docker, qemu, aws, gcp or digitalocean)');
  await fails('targets = []\napp "shop" {\n}\n', 'bulwark.hcl:1: targets is empty; list at least one of docker, qemu, aws, gcp or digitalocean, or leave it out for docker');
});

test('domains', async () => {
  await fails('app "shop" {\n  domains = ["shop_example.com"]\n}\n', 'bulwark.hcl:2: app "shop": "shop_example.com" in domains is not a host name: a host name is letters, digits and dashes in dot-separated parts, like shop.example.com');
  await fails('app "shop" {\n  domains = [\n    "ok.example.com",\n    "https://shop.example.com/",\n  ]\n}\n', 'bulwark.hcl:4: app "shop": "https://shop.example.com/" in domains is not a host name: write the host name only: shop.example.com');
  await fails('app "shop" {\n  domains = ["shop.example.com:8443"]\n}\n', 'bulwark.hcl:2: app "shop": "shop.example.com:8443" in domains is not a host name: write the host name without a port (the proxy serves 80 and 443)');
  await fails('app "shop" {\n  domains = ["10.0.0.1"]\n}\n', 'bulwark.hcl:2: app "shop": "10.0.0.1" in domains is not a host name: that is an IP address; domains are host names');
  await fails('app "shop" {\n  domains = ["bücher.example"]\n}\n', 'bulwark.hcl:2: app "shop": "bücher.example" in domains is not a host name: write international names in their xn-- form: xn--bcher-kva.example');
  await fails(
    'app "shop" {\n  domains = ["example.com"]\n}\napp "blog" {\n  domains = [\n    "blog.example.com",\n    "Example.com",\n  ]\n}\n',
    'bulwark.hcl:7: app "blog": domain example.com is already served by app "shop"; a host name belongs to one app',
  );
});

test('env and secrets', async () => {
  await fails('app "shop" {\n  env = {\n    node_options = "--max-old-space-size=256"\n  }\n}\n', 'bulwark.hcl:3: app "shop": env name "node_options" must match [A-Z_][A-Z0-9_]*, like NODE_OPTIONS');
  await fails(
    'app "shop" {\n  env = {\n    NODE_ENV      = "production"\n    STRIPE_SECRET = "sk_live_123"\n  }\n}\n',
    'bulwark.hcl:4: app "shop": env STRIPE_SECRET looks like a secret, and secrets never go in plain config: list it under secrets = ["STRIPE_SECRET"] instead (Bulwark generates it at first start and keeps it root-only on the instance)',
  );
  for (const name of ['DB_PASSWORD', 'API_KEY', 'GITHUB_TOKEN']) assert.match(await failure(site(`app "shop" {\n  env = { ${name} = "x" }\n}\n`)), `env ${name} looks like a secret`);
  await fails('app "shop" {\n  env = { PORT = "8080" }\n}\n', 'bulwark.hcl:2: app "shop": env PORT: set port = … in the app block instead (Bulwark passes PORT to the app)');
  await fails('app "shop" {\n  env = {\n    A = "1"\n    A = "2"\n  }\n}\n', 'bulwark.hcl:4: app "shop": env sets A twice (first on line 3)');
  await fails('app "shop" {\n  secrets = ["DATABASE_URL"]\n  env = { DATABASE_URL = "postgres://db" }\n}\n', 'bulwark.hcl:3: app "shop": DATABASE_URL is in both env and secrets; keep it in secrets only');
  await fails('app "shop" {\n  secrets = ["stripe-key"]\n}\n', 'bulwark.hcl:2: app "shop": secret "stripe-key" must be an environment variable name matching [A-Z_][A-Z0-9_]*, like STRIPE_KEY');
});

test('the first problem by line is the one reported', async () => {
  await fails('app "shop" {\n  port = "abc"\n}\nsuite = "buster"\n', 'bulwark.hcl:2: app "shop": port must be an integer 1-65535, got "abc"');
  await fails('suite = "buster"\napp "shop" {\n  port = "abc"\n}\n', 'bulwark.hcl:1: unknown suite "buster" (choose trixie or bookworm)');
});

test('bulwark.hcl that is a folder', async () => {
  const dir = site('', []);
  rmSync(join(dir, 'bulwark.hcl'));
  mkdirSync(join(dir, 'bulwark.hcl'));
  assert.is(await failure(dir), 'bulwark.hcl is a folder; bulwark.hcl must be a file');
});

test('outline: lines survive heredocs, comments and nesting', () => {
  const text = [
    '/* a comment',
    '   over two lines */',
    'a = <<-EOT',
    '  one',
    '  two',
    '  EOT',
    'b = {',
    '  "x-y" = [1, 2] # comment',
    '  z = "}" // a brace in a string',
    '}',
    'blk "l" {',
    '  c = [',
    '    "p",',
    '',
    '    "q",',
    '  ]',
    '  d = f(1, [for x in y : x])',
    '}',
  ].join('\n');
  const o = outlineHcl(text);
  assert.is(o.error, undefined);
  assert.equal(o.body.attrs.map((a) => [a.name, a.line, a.value.literal]), [['a', 3, true], ['b', 7, true]]);
  assert.equal(o.body.attrs[1]!.value.entries!.map((e) => [e.key, e.line]), [['x-y', 8], ['z', 9]]);
  const blk = o.body.blocks[0]!;
  assert.equal([blk.type, blk.labels, blk.line], ['blk', ['l'], 11]);
  assert.equal(blk.body.attrs.map((a) => [a.name, a.line, a.value.literal]), [['c', 12, true], ['d', 17, false]]);
  assert.equal(blk.body.attrs[0]!.value.items!.map((i) => i.line), [13, 15]);
});

test('outline agrees with hcl2-parser on what is valid', () => {
  const cases = [
    'a = 1.5\nb = -3\nc = 1e3', 'a = "x${var.y}z"', 'a = "%{ if x ~}y%{ endif ~}"', 'a = "${ {a = "}"}.a }"', 'a = x.y[0]\nb = f(1)\nc = a ? b : c',
    'a = [for x in [1,2] : x if x > 1]\nb = {for k, v in m: k => v}', 'a = f(x...)', 'a = f(\n1,\n2\n)', 'a = [1,\n2,\n]', 'a = {b = 1, }', 'app a {}',
    'app "a" { port = 1 }', 'app "a" "b" c {}', 'a = {a: 1}', 'env = { A = "1", "B-C" = 2, (x) = 3 }', 'a = 1\r\nb = 2\r\n', 'h = <<EOT\n$${x}\nEOT\n',
    'a = 0x10', "a = 'x'", 'a = "x\ny"', 'a = [1,2', 'a = {', 'port 3000', 'a = 1\n}', 'a = <<EOT\nxx', 'a = /* x', 'a = "\\q"', 'a = [1,,2]', 'a = ()',
    'app "a" {\nport = 1}', 'app "a" { port = 1 \n path = "x" }', '"x" = 1', 'a = 1 b = 2', 'a.b = 1', 'a = ["x"\n"y"]', 'env = { A = "1" B = 2 }',
    'a = 1\nb = 2\na = 3', 'a = "a" + ', 'app "a" {', 'app "a" {\n  port =\n}', 'a = {,}',
  ];
  for (const c of cases) {
    let valid: boolean;
    try {
      valid = hcl.parseToObject(c)[1] === null;
    } catch {
      valid = false;
    }
    assert.is(outlineHcl(c).error === undefined, valid, JSON.stringify(c));
  }
});

test('applySiteOverrides: name, port, health path, secrets, with bulwark.hcl as evidence', async () => {
  const s = await loadSite(fixture('site', 'two-apps'));
  const shop = s.apps[0]!;
  const spec = await detectApp(shop.path, { framework: shop.framework });
  const before = JSON.stringify(spec);
  const out = applySiteOverrides(spec, shop, s.file);
  assert.is(JSON.stringify(spec), before, 'the detected spec is not changed');
  assert.is(out.name, 'shop');
  assert.equal(out.port, { value: 8080, evidence: [{ file: '../bulwark.hcl', line: 10, note: 'set in bulwark.hcl' }] });
  assert.equal(out.healthPath, { value: '/healthz', evidence: [{ file: '../bulwark.hcl', line: 11, note: 'set in bulwark.hcl' }] });
  assert.equal(out.framework.evidence[0], { file: '../bulwark.hcl', line: 9, note: 'set in bulwark.hcl' });
  assert.equal(out.secrets, [
    ...spec.secrets,
    { env: 'API_TOKEN', evidence: [{ file: '../bulwark.hcl', line: 21, note: 'listed in bulwark.hcl' }] },
    { env: 'STRIPE_KEY', evidence: [{ file: '../bulwark.hcl', line: 21, note: 'listed in bulwark.hcl' }] },
  ]);
  for (const k of ['dir', 'runtime', 'install', 'build', 'staticDirs', 'writable'] as const) assert.equal(out[k], spec[k], k);
});

test('applySiteOverrides: no bulwark.hcl changes nothing; gunicorn --bind follows the port', async () => {
  const none = await loadSite(fixture('site', 'none'));
  const spec = await detectApp(none.apps[0]!.path);
  assert.equal(applySiteOverrides(spec, none.apps[0]!, none.file), spec);

  const flaskDir = fixture('detect', 'flask');
  const flask = await detectApp(flaskDir);
  assert.is(flask.start.value.portVia, 'gunicorn-bind');
  const app: SiteApp = { name: 'notes', path: flaskDir, port: 5001, domains: [], env: {}, secrets: ['SESSION_KEY_B64', 'SMTP_PASSWORD'], lines: { block: 1, port: 3, secrets: 4 } };
  const out = applySiteOverrides(flask, app, join(flaskDir, 'bulwark.hcl'));
  assert.is(out.name, 'notes');
  assert.equal(out.port, { value: 5001, evidence: [{ file: 'bulwark.hcl', line: 3, note: 'set in bulwark.hcl' }] });
  const bind = out.start.value.argv[out.start.value.argv.indexOf('--bind') + 1];
  assert.is(bind, '0.0.0.0:5001');
  // A secret detect already found keeps its evidence; only the new one is added.
  assert.equal(out.secrets.map((x) => x.env), ['SESSION_KEY_B64', 'SMTP_PASSWORD']);
  assert.equal(out.secrets[0], flask.secrets[0]);
});

test('the schema and the code name the same settings', () => {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'bulwark.schema.json'), 'utf8'));
  assert.is(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(Object.keys(schema.properties).sort(), [...siteKeys].sort());
  assert.equal(Object.keys(schema.$defs.app.properties).sort(), [...appKeys].sort());
  assert.equal(schema.properties.targets.items.enum, [...siteTargets]);
  assert.equal(schema.$defs.app.properties.framework.enum, [...siteFrameworks]);
  assert.equal([...siteFrameworks].sort(), detectors.map((d) => d.framework).sort());
});

test.after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test.run();
