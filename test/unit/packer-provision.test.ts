// Unit tests for the provisioning scripts: POSIX sh that parses, strict mode, the app's fixed
// uid, paths overridable by environment, and the cleanup that B5 relies on. (They run for real
// in test/integration/packer-provision.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { run } from '../../src/build/proc.js';
import { provisionScriptPaths, renderProvisionScripts, shQuote } from '../../src/render/provision.js';
import { samplePlan } from './sample-plan.js';

const plan = samplePlan();

for (const app of plan.apps) {
  const name = app.spec.name;
  const scripts = renderProvisionScripts(plan, app);

  test(`${name}: four scripts in run order, each strict POSIX sh that parses`, async () => {
    assert.equal(Object.keys(scripts), provisionScriptPaths(name));
    assert.equal(Object.keys(scripts), Object.keys(scripts).slice().sort(), 'file-name order is run order');
    for (const [path, text] of Object.entries(scripts)) {
      assert.ok(path.startsWith(`provision/${name}/`), path);
      assert.ok(text.startsWith('#!/bin/sh\n'), `${path}: POSIX sh`);
      assert.match(text, /^set -eu$/m, `${path}: strict mode`);
      assert.not.match(text, /\[\[|\bfunction\b|<<<|\$\{[A-Za-z_]+\/|\bsource\b|\blocal\b/, `${path}: no bashisms`);
      assert.ok(text.endsWith('\n'));
      // dash is Debian's /bin/sh: -n parses without running.
      const r = await run('sh', ['-n'], { input: text, allowFail: true, timeoutMs: 10_000 });
      assert.is(r.code, 0, `${path}: ${r.stderr}`);
    }
  });

  test(`${name}: user with the fixed uid, no shell, no home`, () => {
    const s = scripts[`provision/${name}/10-app-user.sh`]!;
    assert.match(s, new RegExp(`^APP_UID=\\$\\{APP_UID:-${app.uid}\\}$`, 'm'));
    assert.match(s, new RegExp(`^APP_NAME=\\$\\{APP_NAME:-${name}\\}$`, 'm'));
    assert.match(s, /--shell \/usr\/sbin\/nologin/);
    assert.match(s, /--no-create-home/);
    assert.not.match(s, /--groups|-G /, 'no supplementary groups');
  });

  test(`${name}: code root-owned read-only, state 0700 for the app, paths from the environment`, () => {
    const s = scripts[`provision/${name}/20-app-install.sh`]!;
    for (const v of ['APP_BUNDLE', 'APP_DIR', 'STATE_DIR', 'SECRETS_DIR']) assert.match(s, new RegExp(`^${v}=\\$\\{${v}:-`, 'm'), v);
    assert.match(s, /^chown -R 0:0 "\$new"$/m);
    assert.match(s, /^chmod -R u=rwX,go=rX "\$new"$/m);
    assert.match(s, /^install -d -m 0700 -o "\$APP_UID" -g "\$APP_UID" "\$STATE_DIR"$/m);
    assert.match(s, /^install -d -m 0700 -o 0 -g 0 "\$SECRETS_DIR"$/m);
  });

  test(`${name}: unit installed and enabled, not started`, () => {
    const s = scripts[`provision/${name}/30-app-unit.sh`]!;
    assert.match(s, new RegExp(`^systemctl enable ${name}\\.service$`, 'm'));
    assert.not.match(s, /systemctl (start|restart)|--now/);
  });

  test(`${name}: cleanup removes the build key, host keys, machine-id, apt lists`, () => {
    const s = scripts[`provision/${name}/90-cleanup.sh`]!;
    assert.match(s, /\.ssh\/authorized_keys/);
    assert.match(s, /rm -f \/etc\/ssh\/ssh_host_\*_key \/etc\/ssh\/ssh_host_\*_key\.pub/);
    assert.match(s, /: >\/etc\/machine-id/, 'emptied, not deleted');
    assert.match(s, /apt-get clean/);
    assert.match(s, /rm -rf \/var\/lib\/apt\/lists\/\*/);
  });
}

test('shQuote', () => {
  assert.is(shQuote('plain-name_1.0'), 'plain-name_1.0');
  assert.is(shQuote("it's"), `'it'\\''s'`);
  assert.is(shQuote('a b'), "'a b'");
});

test.run();
