// The data disk of a VM (DESIGN "Well-known places"): everything per-instance lives on it, so a
// newer system disk booted with the old data disk takes all of it over. One early-boot service,
// bulwark-data.service, runs /usr/lib/bulwark/data-disk, which:
//   1. finds the disk labelled bulwark-data, or formats the one blank disk (first boot);
//   2. checks and mounts it at /var/lib/bulwark (nosuid,nodev,noexec: nothing runs from it);
//   3. lays out its folders: apps/<app> (bind-mounted at /var/lib/<app>, owned by the app's fixed
//      uid), secrets/ (root-only), ssh/ (host keys), caddy/ (certificates, ACME account);
//   4. generates each app's missing secrets into secrets/<app>.env (0600 root).
// With no data disk attached the same folders are made on the system disk, so the image still
// boots and serves (its data then goes with the system disk). Mounting from a script rather than
// fstab means no device timeout at boot when there is no data disk.
import { CADDY_STORAGE, DATA_LABEL, DATA_MOUNT, HOST_APPS_DIR, SECRETS_DIR, SSH_HOST_KEY_DIR, type TreeFile } from '../vm/host-spec.js';

export const DATA_UNIT = 'bulwark-data.service';
export const DATA_SCRIPT = '/usr/lib/bulwark/data-disk';

export function renderDataDiskScript(): string {
  return `#!/bin/sh
# ${DATA_SCRIPT}: written by Bulwark, run by ${DATA_UNIT} at every boot, before local-fs.target.
# Finds (or, on first boot, formats) the data disk, mounts it at ${DATA_MOUNT}, and lays out the
# per-instance data on it. Safe to re-run. See the header of src/render/data-disk.ts.
set -eu
MNT=${DATA_MOUNT}
LABEL=${DATA_LABEL}
say() { echo "bulwark-data: $*"; }

# Every disk the kernel found so far has its udev links (by-label) once this returns.
udevadm settle --timeout=30 || true

dev=$(blkid -L "$LABEL" 2>/dev/null || true)
if [ -z "$dev" ]; then
  # First boot with a new data disk: format it, but only a disk that is certainly blank (no
  # partition table, no file system or other signature, writable, not the system disk), and
  # only when exactly one is: anything else is left alone.
  rootdev=$(findmnt -no SOURCE /)
  rootdisk=$(lsblk -no PKNAME "$rootdev" | head -n 1)
  blank=""
  for sys in /sys/block/*; do
    d=\${sys##*/}
    case "$d" in loop*|ram*|zram*|sr*|fd*|dm-*|md*) continue ;; esac
    [ "$d" = "$rootdisk" ] && continue
    [ "$(cat "$sys/ro")" = 0 ] || continue
    [ "$(cat "$sys/removable")" = 0 ] || continue
    [ "$(cat "$sys/size")" -gt 0 ] || continue
    ls "$sys" | grep -q "^$d" && continue # has partitions
    [ -z "$(wipefs --noheadings --output TYPE "/dev/$d" 2>/dev/null)" ] || continue
    blank="$blank $d"
  done
  set -- $blank
  if [ $# -eq 1 ]; then
    say "formatting the blank disk /dev/$1 as the data disk ($LABEL)"
    mkfs.ext4 -q -L "$LABEL" -m 0 -E lazy_itable_init=1,lazy_journal_init=1 "/dev/$1"
    udevadm settle --timeout=30 || true
    dev=/dev/$1
  elif [ $# -eq 0 ]; then
    say "no data disk attached: per-instance data stays on the system disk"
  else
    say "several blank disks ($*): none formatted; label the data disk with: mkfs.ext4 -L $LABEL /dev/<disk>"
  fi
fi

mkdir -p "$MNT"
if [ -n "$dev" ] && ! mountpoint -q "$MNT"; then
  # -p repairs what is safe to repair unattended; exit 1 means "errors corrected".
  rc=0
  fsck.ext4 -p "$dev" || rc=$?
  [ "$rc" -le 1 ] || { say "fsck of $dev failed (exit $rc): not mounting it; repair it by hand"; exit 1; }
  mount -t ext4 -o nosuid,nodev,noexec "$dev" "$MNT"
  say "mounted $dev at $MNT"
fi

chmod 0755 "$MNT"
install -d -m 0755 -o 0 -g 0 "$MNT/apps"
install -d -m 0700 -o 0 -g 0 ${SECRETS_DIR} ${SSH_HOST_KEY_DIR}
# Caddy's uid comes from its package and may differ between images: chown on every boot.
if getent passwd caddy >/dev/null; then
  install -d -m 0700 ${CADDY_STORAGE}
  chown -R caddy:caddy ${CADDY_STORAGE}
fi

for f in ${HOST_APPS_DIR}/*.env; do
  [ -e "$f" ] || continue
  NAME="" APP_UID="" SECRETS=""
  . "$f"
  [ -n "$NAME" ] && [ -n "$APP_UID" ] || { say "$f: NAME or APP_UID missing, skipped"; continue; }
  # The app's fixed uid is the same in every image, so its data keeps its owner.
  install -d -m 0700 -o "$APP_UID" -g "$APP_UID" "$MNT/apps/$NAME"
  mkdir -p "/var/lib/$NAME"
  mountpoint -q "/var/lib/$NAME" || mount --bind "$MNT/apps/$NAME" "/var/lib/$NAME"
  env="${SECRETS_DIR}/$NAME.env"
  ( umask 077; touch "$env" )
  for s in $SECRETS; do
    grep -q "^$s=" "$env" && continue
    printf '%s=%s\\n' "$s" "$(head -c 48 /dev/urandom | base64 -w 0 | tr '+/' '-_' | tr -d '=')" >>"$env"
    say "generated $s for $NAME"
  done
  chown 0:0 "$env"
  chmod 0600 "$env"
done
`;
}

export function renderDataDiskUnit(): string {
  return `# /etc/systemd/system/${DATA_UNIT}: written by Bulwark. Mounts the data disk (formatting it on
# first boot) and lays out the per-instance data before anything that uses it starts. Early
# (no default dependencies): the bind mounts of /var/lib/<app> belong to local-fs.target.
[Unit]
Description=Bulwark data disk (per-instance data at ${DATA_MOUNT})
DefaultDependencies=no
Wants=systemd-udev-trigger.service
After=systemd-udev-trigger.service systemd-remount-fs.service local-fs-pre.target
Before=local-fs.target shutdown.target ssh.service caddy.service
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh ${DATA_SCRIPT}

[Install]
WantedBy=local-fs.target
`;
}

export function renderDataDiskFiles(): TreeFile[] {
  return [
    { path: DATA_SCRIPT.slice(1), mode: 0o755, content: renderDataDiskScript() },
    { path: `etc/systemd/system/${DATA_UNIT}`, mode: 0o644, content: renderDataDiskUnit() },
    { path: `${HOST_APPS_DIR.slice(1)}/README`, mode: 0o644, content: `One <app>.env per app (NAME, APP_UID, SECRETS), written by provision/<app>/30-app-unit.sh and read by ${DATA_SCRIPT} at boot.\n` },
  ];
}
