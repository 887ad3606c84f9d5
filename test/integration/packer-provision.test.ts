// Integration: the provisioning scripts do what they say when run natively, twice (idempotent).
// They run in a private mount namespace over a throwaway copy of /etc (so useradd changes
// nothing on this machine), with the code, state and unit paths pointed into a temp dir by the
// environment variables the scripts document. 90-cleanup.sh is not run here: it deletes this
// machine's SSH host keys by design; the unit tests check its text.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../../src/build/proc.js';
import { renderProvisionScripts } from '../../src/render/provision.js';
import { renderAppUnit } from '../../src/render/systemd.js';
import { withTimeout } from '../helpers.js';
import { samplePlan } from '../unit/sample-plan.js';

const plan = samplePlan();
const app = plan.apps[0]!;
const name = app.spec.name;

/** The shell driver: runs inside `unshare --mount`, prints key=value lines to check. */
const driver = `set -eu
W=$1
S=$W/provision/${name}
# A private /etc: a tmpfs copy bound over it, visible to this mount namespace only.
mkdir -p "$W/etc-copy"
mount -t tmpfs tmpfs "$W/etc-copy"
cp -a /etc/. "$W/etc-copy/"
mount --bind "$W/etc-copy" /etc

sh "$S/10-app-user.sh"
sh "$S/10-app-user.sh"
echo "passwd=$(getent passwd ${name})"
echo "group=$(getent group ${name})"
echo "groups=$(id -G ${name})"

# A bundle (app/ and bulwark/) with things that must not survive: a foreign owner, setuid,
# group/other write.
mkdir -p "$W/src/app/bin" "$W/src/app/lib" "$W/src/bulwark"
echo 'console.log(1)' >"$W/src/app/server.js"
printf '#!/bin/sh\\n' >"$W/src/app/bin/www"
chmod 4777 "$W/src/app/bin/www"
chmod 0777 "$W/src/app/lib"
echo '{}' >"$W/src/bulwark/app.json"
chown -R 1234:1234 "$W/src"
tar -C "$W/src" -czf "$W/bundle.tar" app bulwark

export APP_BUNDLE="$W/bundle.tar" APP_DIR="$W/opt/${name}" BULWARK_DIR="$W/opt/bulwark/${name}" STATE_DIR="$W/var/lib/${name}" SECRETS_DIR="$W/var/lib/bulwark/secrets"
sh "$S/20-app-install.sh"
echo 'old' >"$STATE_DIR/data.txt"
sh "$S/20-app-install.sh"
for p in "$APP_DIR" "$APP_DIR/server.js" "$APP_DIR/bin/www" "$APP_DIR/lib" "$BULWARK_DIR/app.json" "$STATE_DIR" "$STATE_DIR/data.txt" "$SECRETS_DIR"; do
  echo "stat $(stat -c '%u:%g %a' "$p") \${p#$W}"
done
echo "leftovers=$(ls -A "$W/opt" | tr '\\n' ' ')"

# Unit: systemctl replaced by a stub that records its arguments.
mkdir -p "$W/stub"
printf '#!/bin/sh\\necho "$*" >>"%s/systemctl.log"\\n' "$W" >"$W/stub/systemctl"
chmod +x "$W/stub/systemctl"
PATH="$W/stub:$PATH" UNIT_FILE="$W/${name}.service" UNIT_DIR="$W/etc/systemd/system" sh "$S/30-app-unit.sh"
echo "facts=$(tr '\\n' ' ' </etc/bulwark/apps/${name}.env)"
echo "unit=$(stat -c '%u:%g %a' "$W/etc/systemd/system/${name}.service")"
echo "systemctl=$(cat "$W/systemctl.log")"

# An existing user with another uid is refused, not changed.
groupadd --system --gid 34567 clash
useradd --system --uid 23456 --gid 34567 --no-create-home --shell /usr/sbin/nologin clash
if APP_NAME=clash APP_UID=34567 sh "$S/10-app-user.sh" 2>"$W/clash.err"; then echo "clash=accepted"; else echo "clash=refused $(cat "$W/clash.err")"; fi
`;

test(`provision scripts install ${name} natively, twice`, () =>
  withTimeout(120_000, async (cleanup) => {
    const probe = await run('unshare', ['--mount', '--propagation', 'private', 'true'], { allowFail: true, timeoutMs: 10_000 }).catch(() => null);
    if (!probe || probe.code !== 0) {
      console.log('  (skipped: no private mount namespace here (unshare --mount needs root and CAP_SYS_ADMIN))');
      return;
    }
    const w = await mkdtemp(join(tmpdir(), 'bulwark-provision-'));
    cleanup(() => rm(w, { recursive: true, force: true }));
    for (const [rel, text] of Object.entries(renderProvisionScripts(plan, app))) {
      await mkdir(dirname(join(w, rel)), { recursive: true });
      await writeFile(join(w, rel), text);
    }
    await writeFile(join(w, `${name}.service`), renderAppUnit(plan, app));
    await writeFile(join(w, 'driver.sh'), driver);

    const r = await run('unshare', ['--mount', '--propagation', 'private', 'sh', join(w, 'driver.sh'), w], { allowFail: true, timeoutMs: 100_000 });
    assert.is(r.code, 0, `driver failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    const out = r.stdout;
    if (process.env.DEBUG_PROVISION) console.log(out, r.stderr);
    const uid = app.uid;

    assert.match(out, new RegExp(`^passwd=${name}:x:${uid}:${uid}:[^:]*:/nonexistent:/usr/sbin/nologin$`, 'm'));
    assert.match(out, new RegExp(`^group=${name}:x:${uid}:$`, 'm'));
    assert.match(out, new RegExp(`^groups=${uid}$`, 'm'), 'no supplementary groups');

    const stat = (p: string) => new RegExp(`^stat (\\S+) (\\S+) ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').exec(out)?.slice(1);
    assert.equal(stat(`/opt/${name}`), ['0:0', '755']);
    assert.equal(stat(`/opt/${name}/server.js`), ['0:0', '644']);
    assert.equal(stat(`/opt/${name}/bin/www`), ['0:0', '755'], 'setuid and other-write cleared, still executable');
    assert.equal(stat(`/opt/${name}/lib`), ['0:0', '755']);
    assert.equal(stat(`/opt/bulwark/${name}/app.json`), ['0:0', '644'], 'the launcher files beside the code');
    assert.equal(stat(`/var/lib/${name}`), [`${uid}:${uid}`, '700']);
    assert.ok(stat(`/var/lib/${name}/data.txt`), 'state survives a reinstall');
    assert.equal(stat('/var/lib/bulwark/secrets'), ['0:0', '700']);
    assert.match(out, new RegExp(`^leftovers=bulwark ${name} $`, 'm'), 'no temporary folders left beside the code');

    assert.match(out, /^unit=0:0 644$/m);
    assert.match(out, new RegExp(`^facts=.*NAME=${name} APP_UID=${uid} SECRETS="[A-Z_ ]*"`, 'm'), 'the first-boot facts for bulwark-data.service');
    assert.match(out, new RegExp(`^systemctl=enable ${name}\\.service$`, 'm'));
    assert.match(out, /^clash=refused .*user clash has uid 23456, expected 34567/m);
  }),
);

test.run();
