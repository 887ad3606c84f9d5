// Unit tests for the data disk's early-boot script and unit (src/render/data-disk.ts). The VM
// integration tests boot them; these check what a boot would only show as a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { DATA_SCRIPT, DATA_UNIT, renderDataDiskFiles, renderDataDiskScript, renderDataDiskUnit } from '../../src/render/data-disk.js';
import { CADDY_STORAGE, DATA_LABEL, DATA_MOUNT, SECRETS_DIR, SSH_HOST_KEY_DIR } from '../../src/vm/host-spec.js';

test('data-disk script: valid POSIX sh (dash -n), formats only one certainly blank disk', () => {
  const script = renderDataDiskScript();
  const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(script, new RegExp(`LABEL=${DATA_LABEL}`));
  // Never the system disk, never a disk with partitions or any signature, and only when exactly one is blank.
  assert.match(script, /\[ "\$d" = "\$rootdisk" \] && continue/);
  assert.match(script, /has partitions/);
  assert.match(script, /wipefs --noheadings --output TYPE/);
  assert.match(script, /if \[ \$# -eq 1 \]; then\n.*\n\s+mkfs\.ext4 -q -L "\$LABEL"/);
  assert.match(script, /several blank disks/);
  // Mounted without exec, suid or devices; fsck first, and a failed fsck does not mount.
  assert.match(script, /mount -t ext4 -o nosuid,nodev,noexec "\$dev" "\$MNT"/);
  assert.match(script, /fsck\.ext4 -p/);
  for (const dir of [SECRETS_DIR, SSH_HOST_KEY_DIR]) assert.ok(script.includes(`install -d -m 0700 -o 0 -g 0 ${SECRETS_DIR} ${SSH_HOST_KEY_DIR}`), dir);
  assert.ok(script.includes(`chown -R caddy:caddy ${CADDY_STORAGE}`));
  // Secrets: generated once, root-only.
  assert.match(script, /grep -q "\^\$s=" "\$env" && continue/);
  assert.match(script, /chmod 0600 "\$env"/);
  assert.match(script, /mount --bind "\$MNT\/apps\/\$NAME" "\/var\/lib\/\$NAME"/);
});

test('data-disk unit: early, before local-fs, ssh and caddy; enabled from local-fs.target', () => {
  const u = renderDataDiskUnit();
  assert.match(u, /DefaultDependencies=no/);
  assert.match(u, /Before=local-fs\.target shutdown\.target ssh\.service caddy\.service/);
  assert.match(u, /Type=oneshot\nRemainAfterExit=yes/);
  assert.match(u, new RegExp(`ExecStart=/bin/sh ${DATA_SCRIPT}`));
  assert.match(u, /WantedBy=local-fs\.target/);
  assert.match(u, new RegExp(DATA_MOUNT));
  const files = renderDataDiskFiles();
  assert.equal(files.map((f) => [f.path, f.mode.toString(8)]), [
    [DATA_SCRIPT.slice(1), '755'],
    [`etc/systemd/system/${DATA_UNIT}`, '644'],
    ['etc/bulwark/apps/README', '644'],
  ]);
});

test.run();
