// Plans the parts of the multipart upload that concatenates an upload's segments into its blob.
// Pure (no I/O) so the rules are easy to test:
//   - a segment of at least 5 MiB is copied server-side (UploadPartCopy), split into pieces of at
//     least copyChunkSize (and at most 5 GiB);
//   - smaller segments are streamed through this process, merged with their neighbours until the
//     part reaches partSize, because every part but the last must be at least 5 MiB;
//   - a streamed part that is still under 5 MiB when a large segment follows borrows just enough
//     bytes from the head of that segment, so the rest of it can still be copied server-side.
import { MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE } from './options.ts';

export interface Segment {
  key: string;
  /** Start of the segment in the upload. */
  offset: number;
  size: number;
}

/** Bytes [start, end) of one segment. */
export interface Piece {
  segment: Segment;
  start: number;
  end: number;
}

export type PlannedPart = { kind: 'copy'; piece: Piece } | { kind: 'stream'; pieces: Piece[]; length: number };

export interface PlanSizes {
  /** Target size of streamed (merged) parts. */
  partSize: number;
  /** Minimum size of a server-side copied part. */
  copyChunkSize: number;
}

/** Grows part sizes for very large blobs so the plan stays within S3's part count. */
export function sizesFor(total: number, partSize: number, copyChunkSize: number): PlanSizes {
  // 10% headroom: segment boundaries add parts beyond total / size.
  const floor = Math.ceil(total / (MAX_PARTS * 0.9));
  // A merged part may overshoot partSize by under two 5 MiB minimums; it must still fit in 5 GiB.
  const streamed = Math.min(Math.max(partSize, floor), MAX_PART_SIZE - 2 * MIN_PART_SIZE);
  return { partSize: streamed, copyChunkSize: Math.max(copyChunkSize, floor) };
}

export function planParts(segments: Segment[], sizes: PlanSizes): PlannedPart[] {
  const parts: PlannedPart[] = [];
  let pending: Piece[] = [];
  let pendingLength = 0;

  const flush = (): void => {
    if (pendingLength > 0) parts.push({ kind: 'stream', pieces: pending, length: pendingLength });
    pending = [];
    pendingLength = 0;
  };
  const addPending = (segment: Segment, start: number, end: number): void => {
    pending.push({ segment, start, end });
    pendingLength += end - start;
    if (pendingLength >= sizes.partSize) flush();
  };
  const copy = (segment: Segment, start: number, end: number): void => {
    const length = end - start;
    // floor(): every piece is at least copyChunkSize, so none falls under the 5 MiB minimum.
    const count = Math.max(1, Math.floor(length / sizes.copyChunkSize), Math.ceil(length / MAX_PART_SIZE));
    for (let i = 0; i < count; i++) {
      const a = start + Math.floor((i * length) / count);
      const b = start + Math.floor(((i + 1) * length) / count);
      parts.push({ kind: 'copy', piece: { segment, start: a, end: b } });
    }
  };

  for (const segment of segments) {
    if (segment.size === 0) continue;
    if (segment.size < MIN_PART_SIZE) {
      addPending(segment, 0, segment.size);
    } else if (pendingLength === 0 || pendingLength >= MIN_PART_SIZE) {
      flush();
      copy(segment, 0, segment.size);
    } else {
      const need = MIN_PART_SIZE - pendingLength;
      if (segment.size - need >= MIN_PART_SIZE) {
        addPending(segment, 0, need);
        flush();
        copy(segment, need, segment.size);
      } else {
        addPending(segment, 0, segment.size);
      }
    }
  }
  flush();
  if (parts.length > MAX_PARTS) {
    throw new Error(`the upload needs ${parts.length} parts to commit, more than S3's ${MAX_PARTS}; raise chunkSize`);
  }
  return parts;
}
