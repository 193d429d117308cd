// O_DIRECT for upload writes: whole 4 KiB blocks of an upload go from the batch buffer to the disk
// without passing through the page cache (src/storage/drivers/file-appender.ts does the writing).
//
// Why: a registry writes blobs once and rarely reads them back right away, yet a buffered write
// makes the kernel allocate and fill a page-cache page for every 4 KiB first. On machines whose
// free memory is cold (a VM whose balloon reports free pages to the host, as this project's test
// machine does) that allocation dominates: `dd bs=1M` of 1 GiB took 13-16 s through the page cache
// and 0.8 s with O_DIRECT (docs/benchmark.md, "Uploads and the page cache"). It also keeps a big
// push from evicting what pulls need from the cache (manifests, popular layers).
//
// What it needs: memory at a 4 KiB-aligned address (a Buffer 4 KiB larger than needed, used from
// the aligned address that native/sendfile's alignmentOffset finds in it: JavaScript cannot place
// a Buffer) and file offsets and lengths in whole blocks. The unaligned head and tail
// of an append go through the page cache; a file system that refuses O_DIRECT (tmpfs, some FUSE)
// gets buffered writes only. BERTH_DIRECT_IO=0 turns it off.
import { constants } from 'node:fs';
import { nativeAddon } from '../../native/addon.ts';

/** Offsets, lengths and buffer addresses of O_DIRECT writes are multiples of this (the usual page and block size). */
export const DIRECT_ALIGN = 4096;

const addon = nativeAddon();
const allowed = process.env.BERTH_DIRECT_IO !== '0' && typeof constants.O_DIRECT === 'number' && typeof addon?.alignmentOffset === 'function';

/** Whether uploads may use O_DIRECT in this process (a file system can still refuse it). */
export function directWritesAvailable(): boolean {
  return allowed;
}

/** `size` bytes at a DIRECT_ALIGN-aligned address when O_DIRECT is available, else an ordinary Buffer. */
export function batchBuffer(size: number): Buffer {
  // Outside Node's shared slab: these live as long as an upload, and go back to a pool.
  if (!allowed) return Buffer.allocUnsafeSlow(size);
  const raw = Buffer.allocUnsafeSlow(size + DIRECT_ALIGN);
  const skip = addon!.alignmentOffset!(raw, DIRECT_ALIGN);
  return raw.subarray(skip, skip + size);
}
