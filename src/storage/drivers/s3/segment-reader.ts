// Reads byte ranges of several objects as one stream, one GetObject at a time: how an upload's
// segments are read back (re-hashing on another replica) and how small segments are merged into a
// part at commit. Memory stays at one response's buffer, whatever the number of segments.
import { Readable } from 'node:stream';
import type { Bucket } from './bucket.ts';
import type { Piece } from './compose-plan.ts';
import { S3StorageError } from './errors.ts';

export function readPieces(bucket: Bucket, pieces: readonly Piece[]): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const { segment, start, end } of pieces) {
      if (end <= start) continue;
      const whole = start === 0 && end === segment.size;
      const body = await bucket.get(segment.key, whole ? undefined : { start, end: end - 1 });
      // Listed a moment ago: gone now means a concurrent commit or abort of the same upload.
      if (!body) throw new S3StorageError(`S3 upload segment s3://${bucket.name}/${segment.key} disappeared while being read`, 'NoSuchKey', 404);
      try {
        for await (const chunk of body) yield chunk as Buffer;
      } finally {
        if (!body.readableEnded) body.destroy(); // early exit by the consumer: drop the connection
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
