// BIOS GRUB for a disk image file, without grub-install (which wants a block device and a mounted
// /boot): the core image is made by grub-mkimage inside the new system (the image's own GRUB
// version), then this file does what grub-bios-setup does for an MBR disk: boot.img in the MBR,
// patched to load core.img from sector 1, and core.img in the gap before the first partition.
// The config core.img carries finds the root file system by UUID and hands over to
// /boot/grub/grub.cfg, which boots Debian's /vmlinuz and /initrd.img links: kernel upgrades move
// those links, so no update-grub is needed (and the image carries no grub-pc to run it).
import { SECTOR_BYTES, type DiskLayout } from './disk-layout.js';

/**
 * Modules built into core.img: enough to read the MBR partition and ext4, find the root by UUID,
 * and run grub.cfg (normal) with its commands (linux, serial, terminal_*). The rest of GRUB's
 * modules are copied to /boot/grub/i386-pc for anything an operator adds by hand.
 */
export const GRUB_CORE_MODULES = ['biosdisk', 'ext2', 'linux', 'normal', 'part_msdos', 'search', 'search_fs_uuid', 'serial', 'terminal'];

/** Where the files live inside the system (the paths grub-install uses). */
export const GRUB_DIR = '/boot/grub';
export const GRUB_CORE_CONFIG = '/boot/grub/bulwark-core.cfg';
export const GRUB_CORE_IMAGE = '/boot/grub/i386-pc/core.img';
export const GRUB_BOOT_IMAGE = '/boot/grub/i386-pc/boot.img';

/**
 * The kernel command line: root by file-system UUID (device names differ between QEMU's virtio,
 * AWS NVMe and Xen), read-only until fsck has run, and the console on the screen and the first
 * serial port; the last console= is /dev/console, so boot messages reach the serial log that
 * QEMU and the clouds' serial consoles show. panic=10: a machine whose kernel panics reboots
 * after 10 s instead of hanging (nobody is at a cloud VM's console; and under QEMU's emulation
 * an early-boot oops now and then, seen in kernel text patching, costs one reboot, not the VM).
 */
export function kernelCommandLine(rootUuid: string): string {
  return `root=UUID=${rootUuid} ro console=tty0 console=ttyS0,115200n8 panic=10`;
}

/** The config embedded in core.img: find the root file system, then normal mode reads grub.cfg. */
export function renderGrubCoreConfig(rootUuid: string): string {
  return [`search --no-floppy --fs-uuid --set=root ${rootUuid}`, `set prefix=($root)${GRUB_DIR}`, ''].join('\n');
}

export function renderGrubConfig(rootUuid: string): string {
  const entry = (title: string, id: string, kernel: string, initrd: string) => [
    `menuentry '${title}' --id ${id} {`,
    `\tsearch --no-floppy --fs-uuid --set=root ${rootUuid}`,
    `\tlinux ${kernel} ${kernelCommandLine(rootUuid)}`,
    `\tinitrd ${initrd}`,
    '}',
  ];
  return [
    `# ${GRUB_DIR}/grub.cfg: written by Bulwark when it built this disk, not by update-grub.`,
    '# The entries boot the /vmlinuz and /initrd.img links that Debian points at the newest kernel',
    '# on every kernel upgrade (and the .old links at the one before), so this file stays right.',
    '# Edit it by hand if you need to: nothing regenerates it.',
    '',
    '# Menu and messages on the first serial port (cloud serial consoles) and the screen.',
    'serial --unit=0 --speed=115200',
    'terminal_input serial console',
    'terminal_output serial console',
    '',
    '# Boot at once; if the newest kernel cannot be loaded, the previous one.',
    'set default=0',
    'set fallback=1',
    'set timeout=0',
    '',
    ...entry('Debian GNU/Linux (Bulwark)', 'bulwark', '/vmlinuz', '/initrd.img'),
    '',
    ...entry('Debian GNU/Linux, previous kernel (Bulwark)', 'bulwark-previous', '/vmlinuz.old', '/initrd.img.old'),
    '',
  ].join('\n');
}

// Offsets in GRUB's i386-pc boot.img (include/grub/i386/pc/boot.h).
const BPB_START = 0x3;
const BPB_END = 0x5a;
const KERNEL_SECTOR = 0x5c;
const BOOT_DRIVE = 0x64;
const DRIVE_CHECK = 0x66;
const NT_MAGIC = 0x1b8; // disk signature, then the partition table up to 0x1fe
const PART_END = 0x1fe;
/** diskboot.img (core.img's first sector) ends with a list of {start u64, len u16, segment u16}. */
const BLOCKLIST_SIZE = 12;
const CORE_SEGMENT = 0x820;

/**
 * The MBR: boot.img's code with the disk's own BPB area, disk signature and partition table kept,
 * pointed at core.img's first sector; boot drive 0xff (the drive the BIOS booted from), and the
 * floppy check skipped (grub-bios-setup's workaround for BIOSes that pass a wrong drive number).
 */
export function grubBootSector(bootImg: Buffer, currentMbr: Buffer, coreSector: number): Buffer {
  if (bootImg.length !== SECTOR_BYTES) throw new Error(`boot.img is ${bootImg.length} bytes, expected ${SECTOR_BYTES}`);
  if (currentMbr.length !== SECTOR_BYTES) throw new Error(`MBR is ${currentMbr.length} bytes, expected ${SECTOR_BYTES}`);
  const mbr = Buffer.from(bootImg);
  currentMbr.copy(mbr, BPB_START, BPB_START, BPB_END);
  mbr.writeBigUInt64LE(BigInt(coreSector), KERNEL_SECTOR);
  mbr[BOOT_DRIVE] = 0xff;
  mbr[DRIVE_CHECK] = 0x90; // two NOPs over the jump
  mbr[DRIVE_CHECK + 1] = 0x90;
  currentMbr.copy(mbr, NT_MAGIC, NT_MAGIC, PART_END);
  mbr[PART_END] = 0x55;
  mbr[PART_END + 1] = 0xaa;
  return mbr;
}

/**
 * core.img padded to whole sectors, with its blocklist saying: the rest of me is the next
 * sectors after `coreSector`. Throws if it would not fit before the first partition.
 */
export function grubCoreForSector(coreImg: Buffer, layout: Pick<DiskLayout, 'coreSector' | 'coreMaxBytes'>): Buffer {
  const sectors = Math.ceil(coreImg.length / SECTOR_BYTES);
  if (sectors < 2) throw new Error(`core.img is ${coreImg.length} bytes: too small to be GRUB's i386-pc core image`);
  if (sectors * SECTOR_BYTES > layout.coreMaxBytes) throw new Error(`core.img is ${coreImg.length} bytes, more than the ${layout.coreMaxBytes} bytes before the first partition`);
  const core = Buffer.alloc(sectors * SECTOR_BYTES);
  coreImg.copy(core);
  const first = SECTOR_BYTES - BLOCKLIST_SIZE;
  if (core.readUInt16LE(first + 10) !== CORE_SEGMENT) throw new Error('core.img has no i386-pc blocklist where expected (was it made with grub-mkimage -O i386-pc?)');
  if (core.readUInt16LE(first - BLOCKLIST_SIZE + 8) !== 0) throw new Error('core.img blocklist is not terminated');
  core.writeBigUInt64LE(BigInt(layout.coreSector + 1), first);
  core.writeUInt16LE(sectors - 1, first + 8);
  return core;
}
