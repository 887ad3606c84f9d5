// The partition layout of Bulwark's system disks, as plain numbers and the sfdisk script that
// writes it. An MBR (DOS) label with one bootable Linux partition from 1 MiB to the end of the
// disk: every target boots it with BIOS GRUB (DigitalOcean's custom images boot BIOS only; AWS and
// GCP boot BIOS images too), and the gap between the MBR and the partition (sectors 1–2047) holds
// GRUB's core image, where grub-install puts it on a BIOS disk. The root partition is the last
// one, so a cloud disk larger than the image can grow it in place.
import { usageError } from '../types.js';

export const SECTOR_BYTES = 512;
export const MIB = 1024 * 1024;
/** The root partition starts at 1 MiB: aligned for every disk, and room for GRUB's core image. */
export const PARTITION_START_SECTOR = MIB / SECTOR_BYTES;
/** An MBR partition ends before 2^32 sectors (2 TiB). */
const MBR_MAX_SECTORS = 2 ** 32 - 1;
/** Smallest disk the base system fits in with room for the apps. */
export const MIN_DISK_MIB = 1024;

export interface DiskLayout {
  /** Whole disk. */
  diskBytes: number;
  diskSectors: number;
  /** The root partition (the only one): first sector, length and byte range. */
  rootStartSector: number;
  rootSectors: number;
  rootOffsetBytes: number;
  rootBytes: number;
  /** GRUB's core image goes right after the MBR, and must end before the partition. */
  coreSector: number;
  coreMaxBytes: number;
}

export function diskLayout(sizeMiB: number): DiskLayout {
  if (!Number.isInteger(sizeMiB) || sizeMiB < MIN_DISK_MIB) throw usageError(`disk size ${sizeMiB} MiB: give a whole number of MiB, at least ${MIN_DISK_MIB}`);
  const diskSectors = (sizeMiB * MIB) / SECTOR_BYTES;
  if (diskSectors > MBR_MAX_SECTORS) throw usageError(`disk size ${sizeMiB} MiB: an MBR disk holds at most 2 TiB`);
  const rootSectors = diskSectors - PARTITION_START_SECTOR;
  return {
    diskBytes: sizeMiB * MIB,
    diskSectors,
    rootStartSector: PARTITION_START_SECTOR,
    rootSectors,
    rootOffsetBytes: PARTITION_START_SECTOR * SECTOR_BYTES,
    rootBytes: rootSectors * SECTOR_BYTES,
    coreSector: 1,
    coreMaxBytes: (PARTITION_START_SECTOR - 1) * SECTOR_BYTES,
  };
}

/**
 * The sfdisk(8) script for the layout. `diskId` is the MBR disk signature (8 hex digits), derived
 * from the build inputs so that the same inputs give the same disk.
 */
export function renderSfdiskScript(layout: DiskLayout, diskId: string): string {
  if (!/^[0-9a-f]{8}$/.test(diskId)) throw new Error(`disk id ${diskId}: expected 8 lowercase hex digits`);
  return [
    'label: dos',
    `label-id: 0x${diskId}`,
    'unit: sectors',
    '',
    `start=${layout.rootStartSector}, size=${layout.rootSectors}, type=83, bootable`,
    '',
  ].join('\n');
}
