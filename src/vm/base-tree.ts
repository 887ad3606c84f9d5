// What turns a plain Debian tree (mmdebstrap, minbase + the host layer's packages) into Bulwark's
// base system: files, rendered here as plain data, and one POSIX sh script for the few steps that
// need the installed packages (systemctl enable, grub-mkimage). Pure: the same input gives the
// same files, so their hash is part of the base disk's cache key. The build keeps a copy of all
// of it next to the disk, readable and runnable by hand.
import { shQuote } from '../render/provision.js';
import { GRUB_BOOT_IMAGE, GRUB_CORE_CONFIG, GRUB_CORE_IMAGE, GRUB_CORE_MODULES, GRUB_DIR, renderGrubConfig, renderGrubCoreConfig } from './grub.js';

import { SSH_HOST_KEY_DIR, type TreeFile } from './host-spec.js';
import { DATA_UNIT, renderDataDiskFiles } from '../render/data-disk.js';
import { METADATA_KEYS_UNIT, renderMetadataKeysFiles } from '../render/metadata-keys.js';
export type { TreeFile } from './host-spec.js';

export interface BaseTreeInput {
  /** File-system UUID of the root partition (fstab, GRUB, kernel command line). */
  rootUuid: string;
  hostname: string;
}

/** The first-boot unit that makes this machine's SSH host keys (none are in the image). */
export const HOST_KEYS_UNIT = 'bulwark-ssh-host-keys.service';
export const NETWORK_FILE = 'etc/systemd/network/80-bulwark-dhcp.network';
export const SSHD_DROP_IN = 'etc/ssh/sshd_config.d/10-bulwark.conf';
/** Keys the image lets in, per user: root-owned, outside any home directory (the site bundle writes root's). */
export const AUTHORIZED_KEYS_DIR = 'etc/ssh/authorized_keys';

/**
 * Disk drivers the initramfs carries: virtio (QEMU, DigitalOcean, GCP), NVMe (AWS Nitro, GCP),
 * Xen block (older AWS instance types), SATA/IDE (emulated disks), and ext4. Listing them, instead
 * of Debian's MODULES=most, makes the initramfs about a third of the size, which GRUB loads and
 * the kernel unpacks noticeably faster (seconds under emulation).
 */
export const INITRAMFS_MODULES = ['ahci', 'ata_piix', 'crc32c_generic', 'ext4', 'nvme', 'sd_mod', 'virtio_blk', 'virtio_pci', 'virtio_scsi', 'xen_blkfront'];

/** OpenSSH public key line: type, base64 body, optional comment; one line, no options. */
export function checkAuthorizedKey(key: string): string {
  const line = key.trim();
  if (line.includes('\n') || !/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,2}( [^\n]*)?$/.test(line))
    throw new Error(`not an OpenSSH public key line: ${line.slice(0, 40)}…`);
  return line;
}

/** apt preferences holding the locked versions during the install; removed by customize.sh. */
export const PINS_FILE = 'etc/apt/preferences.d/90-bulwark-lock';

/**
 * The versions bulwark.lock pins, as apt pins above any other priority, so apt installs exactly
 * them. Only for the install: left in the image it would hold back security upgrades.
 */
export function renderPinsFile(pins: Array<{ name: string; version: string }>): TreeFile {
  const body = pins.map((p) => `Package: ${p.name}\nPin: version ${p.version}\nPin-Priority: 1001\n`).join('\n');
  return { path: PINS_FILE, mode: 0o644, content: `# Written by Bulwark for the install only (bulwark.lock); customize.sh removes it.\n\n${body}` };
}

/** Files in place before any package is installed: they shape the initramfs the kernel package builds. */
export function renderSetupFiles(): TreeFile[] {
  return [
    {
      path: 'etc/initramfs-tools/conf.d/bulwark.conf',
      mode: 0o644,
      content: [
        '# Written by Bulwark: an initramfs with the disk drivers listed in hooks/bulwark-disk-drivers',
        '# (not every driver, as MODULES=most gives), and fsck for the ext4 root.',
        'MODULES=list',
        'FSTYPE=ext4',
        '',
      ].join('\n'),
    },
    {
      path: 'etc/initramfs-tools/hooks/bulwark-disk-drivers',
      mode: 0o755,
      content: [
        '#!/bin/sh',
        '# Written by Bulwark: the disk drivers of the machines this image boots on: virtio (QEMU,',
        '# DigitalOcean, GCP), NVMe (AWS Nitro, GCP), Xen block (older AWS), SATA/IDE, and ext4.',
        'case "$1" in prereqs) exit 0 ;; esac',
        '. /usr/share/initramfs-tools/hook-functions',
        `for m in ${INITRAMFS_MODULES.join(' ')}; do`,
        '\tmanual_add_modules "$m"',
        'done',
        '',
      ].join('\n'),
    },
  ];
}

/** sshd settings of SECURITY-CHECKS B3 and B4; first value wins, and Debian's sshd_config includes this first. */
export function renderSshdDropIn(): string {
  return [
    `# /${SSHD_DROP_IN}: written by Bulwark (SECURITY-CHECKS B3, B4). Values here win over`,
    '# /etc/ssh/sshd_config, which includes this directory before its own settings.',
    '',
    '# Keys only. root logs in with a key from /etc/ssh/authorized_keys/root (the operator\'s key,',
    '# installed with the site) or ~/.ssh/authorized_keys (written at boot from the systemd',
    '# credential ssh.authorized_keys.root: QEMU -smbios type=11, as Packer\'s build passes its',
    '# key): the image has no sudo or other setuid way to become root, so root is the admin account.',
    'PermitRootLogin prohibit-password',
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitEmptyPasswords no',
    `AuthorizedKeysFile /${AUTHORIZED_KEYS_DIR}/%u .ssh/authorized_keys`,
    '',
    '# No forwarding of any kind, no environment from the client.',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'PermitTunnel no',
    'GatewayPorts no',
    'PermitUserEnvironment no',
    '',
    `# The host keys ${HOST_KEYS_UNIT} makes at first boot.`,
    ...HOST_KEY_TYPES.map((t) => `HostKey ${hostKeyPath(t)}`),
    '',
    'MaxAuthTries 2',
    'LoginGraceTime 30',
    'ClientAliveInterval 300',
    'ClientAliveCountMax 3',
    'LogLevel VERBOSE',
    'UseDNS no',
    'DebianBanner no',
    '',
    '# Modern algorithms only (Mozilla OpenSSH guidelines). Diffie-Hellman group exchange is left',
    '# out, so /etc/ssh/moduli (a conffile: editing it would stop unattended-upgrades from upgrading',
    '# openssh-server) is never used.',
    'KexAlgorithms mlkem768x25519-sha256,sntrup761x25519-sha512,curve25519-sha256',
    'Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr',
    'MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com',
    '',
  ].join('\n');
}

/** Host key types each machine makes at first boot (RSA is left out: generating it is the slow part). */
export const HOST_KEY_TYPES = ['ed25519', 'ecdsa'] as const;
/** On the data disk, so a machine keeps its SSH identity when it boots a newer image. */
export const hostKeyPath = (type: string) => `${SSH_HOST_KEY_DIR}/ssh_host_${type}_key`;

/** The unit that makes SSH host keys whenever one is missing (first boot, or a data disk without them). */
export function renderHostKeysUnit(): string {
  return [
    `# /etc/systemd/system/${HOST_KEYS_UNIT}: written by Bulwark. The image ships no SSH host keys`,
    "# (SECURITY-CHECKS B5): each machine makes its own, on its data disk, before sshd first starts. Debian's",
    '# sshd-keygen.service only runs on a "first boot" (machine-id missing or "uninitialized"), which',
    '# a machine booted from an image with an empty machine-id is not.',
    '[Unit]',
    'Description=Generate the SSH host keys of this machine',
    ...HOST_KEY_TYPES.map((t) => `ConditionPathExists=|!${hostKeyPath(t)}`),
    `# The keys live on the data disk (${SSH_HOST_KEY_DIR}), which ${DATA_UNIT} mounts.`,
    `Requires=${DATA_UNIT}`,
    `After=${DATA_UNIT}`,
    'Before=ssh.service ssh.socket',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    ...HOST_KEY_TYPES.map((t) => `ExecStart=/bin/sh -c '[ -e ${hostKeyPath(t)} ] || exec /usr/bin/ssh-keygen -q -t ${t} -N "" -C "" -f ${hostKeyPath(t)}'`),
    '',
    '[Install]',
    'WantedBy=ssh.service ssh.socket',
    '',
  ].join('\n');
}

/** Files copied over the installed packages. */
export function renderConfigFiles(input: BaseTreeInput): TreeFile[] {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(input.hostname)) throw new Error(`hostname ${input.hostname}: use a-z, 0-9 and -`);
  return [
    { path: 'etc/hostname', mode: 0o644, content: `${input.hostname}\n` },
    {
      path: 'etc/hosts',
      mode: 0o644,
      content: ['127.0.0.1\tlocalhost', `127.0.1.1\t${input.hostname}`, '::1\t\tlocalhost ip6-localhost ip6-loopback', 'ff02::1\t\tip6-allnodes', 'ff02::2\t\tip6-allrouters', ''].join('\n'),
    },
    {
      path: 'etc/fstab',
      mode: 0o644,
      content: [
        '# /etc/fstab: written by Bulwark. The root file system by UUID: device names differ between',
        '# QEMU (vda), AWS (nvme0n1, xvda) and the rest.',
        '# <file system>\t<mount point>\t<type>\t<options>\t<dump>\t<pass>',
        `UUID=${input.rootUuid}\t/\text4\tdefaults,errors=remount-ro\t0\t1`,
        '',
      ].join('\n'),
    },
    {
      path: NETWORK_FILE,
      mode: 0o644,
      content: [
        `# /${NETWORK_FILE}: written by Bulwark. DHCP on the machine's Ethernet NIC`,
        '# (virtio-net on QEMU, DigitalOcean and GCP; ENA on AWS), by systemd-networkd.',
        '[Match]',
        'Type=ether',
        'Name=en* eth*',
        '',
        '[Network]',
        'DHCP=yes',
        '',
      ].join('\n'),
    },
    { path: `etc/systemd/system/${HOST_KEYS_UNIT}`, mode: 0o644, content: renderHostKeysUnit() },
    ...renderDataDiskFiles(),
    ...renderMetadataKeysFiles(),
    { path: SSHD_DROP_IN, mode: 0o600, content: renderSshdDropIn() },
    { path: `${GRUB_DIR.slice(1)}/grub.cfg`, mode: 0o644, content: renderGrubConfig(input.rootUuid) },
    { path: GRUB_CORE_CONFIG.slice(1), mode: 0o644, content: renderGrubCoreConfig(input.rootUuid) },
  ];
}

/**
 * The steps that need the installed system, as one script: `sh customize.sh ROOT` (mmdebstrap
 * runs it as a customize hook, with /proc and /dev set up inside ROOT).
 */
export function renderCustomizeScript(enableUnits: string[] = []): string {
  return [
    '#!/bin/sh',
    '# customize.sh ROOT: the steps of Bulwark\'s base system that need its packages installed.',
    '# Run by mmdebstrap (--customize-hook) after the configuration files are copied in. Written by',
    '# Bulwark; safe to re-run on the same tree.',
    'set -eu',
    'R=${1:?usage: customize.sh ROOT}',
    '[ -d "$R/etc" ] || { echo "customize.sh: $R is not a system tree" >&2; exit 1; }',
    '',
    '# Per-instance identity is made at first boot, never shipped (SECURITY-CHECKS B5): SSH host keys',
    `# (${HOST_KEYS_UNIT}), the machine-id (empty: systemd makes and saves one at boot), seeds.`,
    'rm -f "$R"/etc/ssh/ssh_host_*_key "$R"/etc/ssh/ssh_host_*_key.pub',
    '# sshd_config root-only (SECURITY-CHECKS B6; Debian ships it 0644).',
    'chmod 0600 "$R/etc/ssh/sshd_config"',
    ': >"$R/etc/machine-id"',
    'if [ -e "$R/var/lib/dbus/machine-id" ] && [ ! -L "$R/var/lib/dbus/machine-id" ]; then',
    '  rm -f "$R/var/lib/dbus/machine-id"',
    'fi',
    'rm -f "$R/var/lib/systemd/random-seed" "$R/var/lib/systemd/credential.secret"',
    '',
    '# AppArmor: profiles whose every profile is in complain or unconfined mode confine nothing',
    '# (Debian 13 ships about a hundred, for desktop programs and build tools not in this image),',
    '# yet compiling them took a large part of first boot under emulation. They are disabled the',
    '# way aa-disable does it (a link in disable/), so no package file changes; enforcing profiles',
    '# (from packages or Bulwark) load as usual.',
    "head='^[[:space:]]*(profile[[:space:]]|/)[^#]*[{][[:space:]]*$'",
    'for p in "$R"/etc/apparmor.d/*; do',
    '  [ -f "$p" ] || continue',
    '  grep -qE "$head" "$p" || continue',
    '  grep -E "$head" "$p" | grep -qvE "flags=[(][^)]*(complain|unconfined)" && continue',
    '  ln -sfn "../${p##*/}" "$R/etc/apparmor.d/disable/${p##*/}"',
    'done',
    '',
    '# No setuid or setgid programs (SECURITY-CHECKS B7): su, passwd, mount, ssh-keysign and the like',
    '# serve local users changing identity, and this machine has none (the admin logs in as root with',
    '# a key). dpkg-statoverride records the new mode, so package upgrades keep it.',
    'chroot "$R" find / -xdev -type f -perm /6000 | while read -r f; do',
    '  owner=$(chroot "$R" stat -c %U "$f")',
    '  group=$(chroot "$R" stat -c %G "$f")',
    '  mode=$(chroot "$R" stat -c %a "$f")',
    '  mode=$(printf "%o" $(( 0$mode & 0777 )))',
    '  chroot "$R" dpkg-statoverride --quiet --remove "$f" 2>/dev/null || true # a package\'s own override (dbus)',
    '  chroot "$R" dpkg-statoverride --quiet --update --add "$owner" "$group" "$mode" "$f"',
    'done',
    '',
    '# Units: DHCP by systemd-networkd; host keys by Bulwark\'s unit (Debian\'s sshd-keygen.service runs',
    '# on a "first boot" only, which an empty machine-id is not); grub-common.service only serves',
    '# update-grub\'s recordfail, which this image does not use.',
    `chroot "$R" systemctl enable systemd-networkd.service ${HOST_KEYS_UNIT} ${DATA_UNIT} ${METADATA_KEYS_UNIT}${enableUnits.length ? ` ${[...enableUnits].sort().join(' ')}` : ''}`,
    'chroot "$R" systemctl disable sshd-keygen.service grub-common.service',
    '',
    `# GRUB: its modules where grub-install puts them, and core.img with ${GRUB_CORE_CONFIG}`,
    '# built in (the build writes core.img and boot.img to the disk, as grub-bios-setup does).',
    `mkdir -p "$R${GRUB_DIR}/i386-pc"`,
    `cp "$R"/usr/lib/grub/i386-pc/*.mod "$R"/usr/lib/grub/i386-pc/*.lst "$R"/usr/lib/grub/i386-pc/boot.img "$R${GRUB_DIR}/i386-pc/"`,
    `chroot "$R" grub-mkimage --format=i386-pc --output=${GRUB_CORE_IMAGE} --config=${GRUB_CORE_CONFIG} --prefix=${GRUB_DIR} \\`,
    `  ${GRUB_CORE_MODULES.join(' ')}`,
    `[ -s "$R${GRUB_BOOT_IMAGE}" ] && [ -s "$R${GRUB_CORE_IMAGE}" ]`,
    '',
    `# The lock's versions are installed; from now on apt follows the archive (security upgrades).`,
    `rm -f "$R/${PINS_FILE}"`,
    '',
    '# The package triggers already did what systemd does for an updated /usr (ldconfig, hwdb,',
    '# journal catalog): mark it done, as systemd-update-done would, so first boot skips them.',
    'touch -r "$R/usr" "$R/etc/.updated" "$R/var/.updated"',
    '',
  ].join('\n');
}

/** mmdebstrap hook commands: `sh -c HOOK exec ROOT`, so the tree is "$1". */
export const copyTreeHook = (dir: string) => `cp -a ${shQuote(`${dir}/.`)} "$1/"`;
export const runScriptHook = (script: string) => `sh ${shQuote(script)} "$1"`;
