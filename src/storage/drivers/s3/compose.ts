// Commit: turns an upload's segments into the blob object, server-side wherever S3 allows it.
// The blob key appears only when the final CopyObject, PutObject or CompleteMultipartUpload
// succeeds, so readers never see a partial blob; a failure aborts the multipart upload.
import type { Bucket, CompletedPart } from './bucket.ts';
import { mapLimit } from '../../../util/map-limit.ts';
import { planParts, sizesFor, type Segment } from './compose-plan.ts';
import { MAX_PART_SIZE, MIN_PART_SIZE, type ResolvedS3Settings } from './options.ts';
import { readPieces } from './segment-reader.ts';

export type ComposeSettings = Pick<ResolvedS3Settings, 'chunkSize' | 'multipartCopyThresholdSize' | 'multipartCopyChunkSize' | 'multipartCopyMaxConcurrency'>;

export async function compose(bucket: Bucket, segments: readonly Segment[], target: string, s: ComposeSettings): Promise<void> {
  const nonEmpty = segments.filter((g) => g.size > 0);
  const total = nonEmpty.reduce((n, g) => n + g.size, 0);
  if (nonEmpty.length === 0) return bucket.put(target, Buffer.alloc(0), 0);

  const only = nonEmpty.length === 1 ? nonEmpty[0]! : undefined;
  // One CopyObject is one request, but S3 caps it at 5 GiB and it is a single slow stream on the
  // server for big objects: above the threshold, parallel UploadPartCopy is faster (as in distribution).
  if (only && only.size <= MAX_PART_SIZE && (only.size <= s.multipartCopyThresholdSize || only.size < MIN_PART_SIZE)) {
    return bucket.copy(only.key, target);
  }

  const plan = planParts(nonEmpty, sizesFor(total, s.chunkSize, s.multipartCopyChunkSize));
  const first = plan[0]!;
  if (plan.length === 1 && first.kind === 'stream') {
    // Small segments only, together under one part: a single streamed PutObject.
    return bucket.put(target, readPieces(bucket, first.pieces), first.length);
  }

  const uploadId = await bucket.createMultipart(target);
  try {
    const parts = await mapLimit(plan, s.multipartCopyMaxConcurrency, (part, i): Promise<CompletedPart> => {
      if (part.kind === 'copy') {
        const { segment, start, end } = part.piece;
        return bucket.uploadPartCopy(target, uploadId, i + 1, segment.key, { start, end: end - 1 });
      }
      return bucket.uploadPart(target, uploadId, i + 1, readPieces(bucket, part.pieces), part.length);
    });
    await bucket.completeMultipart(target, uploadId, parts);
  } catch (e) {
    await bucket.abortMultipart(target, uploadId).catch(() => undefined);
    throw e;
  }
}
