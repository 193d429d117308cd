// The commit plan of the S3 driver, without S3: whatever the segment sizes, the parts must cover
// the upload exactly, in order, obey S3's part rules, and copy large segments server-side.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planParts, sizesFor, type PlannedPart, type Segment } from '../../src/storage/drivers/s3/compose-plan.ts';
import { MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE } from '../../src/storage/drivers/s3/options.ts';

const MiB = 1024 * 1024;

function segmentsOf(sizes: number[]): Segment[] {
  let offset = 0;
  return sizes.map((size, i) => {
    const s = { key: `seg-${i}`, offset, size };
    offset += size;
    return s;
  });
}

function lengthOf(p: PlannedPart): number {
  return p.kind === 'copy' ? p.piece.end - p.piece.start : p.length;
}

/** Checks S3's rules and that the parts are the upload's bytes in order. */
function assertValid(segments: Segment[], parts: PlannedPart[]): void {
  const total = segments.reduce((n, s) => n + s.size, 0);
  let at = 0;
  parts.forEach((p, i) => {
    const len = lengthOf(p);
    if (i < parts.length - 1) assert.ok(len >= MIN_PART_SIZE, `part ${i + 1} has ${len} bytes`);
    assert.ok(len <= MAX_PART_SIZE && len > 0);
    const pieces = p.kind === 'copy' ? [p.piece] : p.pieces;
    if (p.kind === 'stream') assert.equal(p.length, pieces.reduce((n, x) => n + x.end - x.start, 0));
    for (const x of pieces) {
      assert.equal(x.segment.offset + x.start, at, `part ${i + 1} is out of order`);
      assert.ok(x.start >= 0 && x.end <= x.segment.size && x.end > x.start);
      at += x.end - x.start;
    }
  });
  assert.equal(at, total, 'every byte in exactly one part');
  assert.ok(parts.length <= MAX_PARTS);
}

describe('S3 commit plan', () => {
  const sizes = { partSize: 10 * MiB, copyChunkSize: 32 * MiB };

  it('copies one large segment in pieces of at least copyChunkSize', () => {
    const segments = segmentsOf([100 * MiB + 1]);
    const parts = planParts(segments, sizes);
    assertValid(segments, parts);
    assert.deepEqual(parts.map((p) => p.kind), ['copy', 'copy', 'copy']);
    for (const p of parts) assert.ok(lengthOf(p) >= 32 * MiB);
  });

  it('merges small segments into streamed parts of partSize', () => {
    const segments = segmentsOf(Array.from({ length: 50 }, () => MiB));
    const parts = planParts(segments, sizes);
    assertValid(segments, parts);
    assert.deepEqual(parts.map(lengthOf), [10, 10, 10, 10, 10].map((n) => n * MiB));
    assert.ok(parts.every((p) => p.kind === 'stream'));
  });

  it('borrows the head of a large segment to complete a small part, then copies the rest', () => {
    const segments = segmentsOf([MiB, 40 * MiB]);
    const parts = planParts(segments, sizes);
    assertValid(segments, parts);
    assert.deepEqual(
      parts.map((p) => [p.kind, lengthOf(p)]),
      [
        ['stream', 5 * MiB],
        ['copy', 36 * MiB],
      ],
    );
  });

  it('keeps S3 rules for random mixes of sizes', () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 300; round++) {
      const picks = [0, 1, 1000, MiB, 5 * MiB - 1, 5 * MiB, 6 * MiB, 9 * MiB, 10 * MiB + 1, 33 * MiB, 70 * MiB];
      const segments = segmentsOf(Array.from({ length: 1 + rand(12) }, () => picks[rand(picks.length)]! + rand(3)));
      const plan = planParts(segments.filter((s) => s.size > 0), { partSize: 5 * MiB + rand(8 * MiB), copyChunkSize: 5 * MiB + rand(30 * MiB) });
      assertValid(segments.filter((s) => s.size > 0), plan);
    }
  });

  it('grows part sizes for huge blobs to stay under 10,000 parts', () => {
    const total = 4 * 1024 ** 4; // 4 TiB in 1 GiB segments
    const segments = segmentsOf(Array.from({ length: 4096 }, () => 1024 ** 3));
    const parts = planParts(segments, sizesFor(total, 10 * MiB, 32 * MiB));
    assertValid(segments, parts);
  });
});
