// Manifest bytes are immutable under their digest, so a small in-process LRU is always correct;
// it keeps manifest GETs off the blob store on hot tags.
import { manifestCacheLookup } from '../metrics/berth.ts';

export class ManifestCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  get(digest: string): Buffer | undefined {
    const hit = this.entries.get(digest);
    manifestCacheLookup(hit !== undefined);
    if (hit) {
      // Re-insert to mark as most recently used.
      this.entries.delete(digest);
      this.entries.set(digest, hit);
    }
    return hit;
  }

  set(digest: string, data: Buffer): void {
    if (data.length > this.maxBytes / 8 || this.entries.has(digest)) return;
    this.entries.set(digest, data);
    this.bytes += data.length;
    for (const [key, value] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= value.length;
    }
  }
}
