// Writes one append's body as upload segments without holding more than one part in memory.
// A body shorter than a part becomes one PutObject; a longer one a multipart upload of exactly
// partSize parts (the last one shorter). A segment only appears in listings when its PutObject or
// CompleteMultipartUpload succeeds, so an interrupted body never leaves bytes that count toward the
// upload's size: the open multipart upload is aborted instead.
import type { Readable } from 'node:stream';
import type { BodyTap } from '../../blob-store.ts';
import type { Bucket, CompletedPart } from './bucket.ts';
import { MAX_PARTS } from './options.ts';

/** FIFO of received chunks, cut into parts of an exact size without copying more than once. */
class ChunkQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const head = this.chunks[0]!;
      if (head.length <= need) {
        out.push(head);
        this.chunks.shift();
        need -= head.length;
      } else {
        out.push(head.subarray(0, need));
        this.chunks[0] = head.subarray(need);
        need = 0;
      }
    }
    this.length -= n;
    return out.length === 1 ? out[0]! : Buffer.concat(out, n);
  }
}

interface Multipart {
  key: string;
  uploadId: string;
  parts: CompletedPart[];
  bytes: number;
}

/**
 * Streams `body` into segments starting at `offset`; `keyAt(offset)` names a segment. Resolves with
 * the number of bytes written. A body that fills MAX_PARTS parts rolls over into a next segment.
 * `tap` sees each chunk of the body in order (the upload's hash).
 */
export async function writeSegments(bucket: Bucket, body: Readable, offset: number, partSize: number, keyAt: (offset: number) => string, tap?: BodyTap): Promise<number> {
  const queue = new ChunkQueue();
  let segmentStart = offset;
  let open: Multipart | undefined;

  const sendPart = async (part: Buffer): Promise<void> => {
    if (!open) {
      const key = keyAt(segmentStart);
      open = { key, uploadId: await bucket.createMultipart(key), parts: [], bytes: 0 };
    }
    const m = open;
    m.parts.push(await bucket.uploadPart(m.key, m.uploadId, m.parts.length + 1, part, part.length));
    m.bytes += part.length;
  };
  const completeOpen = async (): Promise<void> => {
    const m = open!;
    await bucket.completeMultipart(m.key, m.uploadId, m.parts);
    open = undefined;
    segmentStart += m.bytes;
  };

  try {
    // Async iteration pulls the next chunk only after the previous part is stored: backpressure
    // reaches the client's TCP window instead of our memory. destroyOnReturn: false, because a
    // plain for-await destroys the body when S3 fails mid-way, and destroying a request that has
    // not ended resets the client's connection: it would get no answer, and the registry took the
    // reset for a client that left and logged nothing. Left alone, the body is drained by the
    // server, which answers the failure (src/http/server.ts).
    for await (const chunk of body.iterator({ destroyOnReturn: false })) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      tap?.chunk(bytes);
      tap?.hash?.update(bytes);
      queue.push(bytes);
      while (queue.length >= partSize) {
        await sendPart(queue.take(partSize));
        if (open && open.parts.length === MAX_PARTS) await completeOpen();
      }
    }
    if (open) {
      if (queue.length > 0) await sendPart(queue.take(queue.length));
      await completeOpen();
    } else if (queue.length > 0) {
      const rest = queue.take(queue.length);
      await bucket.put(keyAt(segmentStart), rest, rest.length);
      segmentStart += rest.length;
    }
    return segmentStart - offset;
  } catch (e) {
    const m = open as Multipart | undefined;
    if (m) await bucket.abortMultipart(m.key, m.uploadId).catch(() => undefined); // abort() and the purger retry leftovers
    throw e;
  }
}
