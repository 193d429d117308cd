// SHA-256 state of uploads in progress, kept in memory so PUT does not re-read what PATCH hashed.
// The state lives in this process only, so after a restart (or on another replica) it is missing
// and the upload is re-hashed from storage: correct, just slower for that one upload.
// A state no request has used for IDLE_MS is dropped: behind a load balancer the PUT often goes to
// another replica, which finishes the upload without this one hearing of it, and a client may
// leave after a PATCH. Kept until the upload purger found them (never, for an upload finished
// elsewhere), such states took ~800 bytes each for good: half of all pushes, with round robin.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { BodyTap, UploadArea } from '../storage/blob-store.ts';
import { parseDigest } from '../oci/digest.ts';
import { transientBytesDone } from '../http/memory-pressure.ts';
import { createSha256, type Sha256 } from '../util/sha256.ts';

interface HashState {
  hash: Sha256;
  /** Bytes hashed so far; must equal the stored size for the state to be usable. */
  offset: number;
  /** When a request last began or ended an append with it (Date.now()). */
  usedAt: number;
}

/** How long a state nobody uses is kept (an upload resumed after that is re-hashed at PUT). */
export const IDLE_MS = 15 * 60_000;

/** Every chunk of a body counts toward the minor-GC pacing once the driver has taken it. */
const countChunk = (chunk: Buffer): void => transientBytesDone(chunk.length);

export class UploadHashes {
  private readonly states = new Map<string, HashState>();
  /** Serialises requests on one upload so two PATCHes never interleave their bytes. */
  private readonly locks = new Map<string, Promise<unknown>>();
  /** The request body being appended to each upload, so a newer request can take over. */
  private readonly bodies = new Map<string, IncomingMessage>();
  private sweptAt = 0;

  /**
   * A new request on an upload whose body is still being received ends that body: the client that
   * sent it has given up (killed, or its connection is stalled half-open) and is resuming from the
   * offset GET reports, or another client holds the URL. Waiting for the lock instead would hang the
   * resumed upload for as long as the dead connection stays open. Bytes already appended are kept;
   * the digest check at PUT catches any that do not belong.
   */
  supersede(id: string): void {
    const body = this.bodies.get(id);
    // Only a body still arriving: destroying a finished request would drop its keep-alive socket.
    if (body && !body.complete) body.destroy(new Error('superseded by a newer request on this upload'));
  }

  /** Records `body` as the one being appended to `id`; the returned function ends that. */
  receiving(id: string, body: IncomingMessage): () => void {
    this.bodies.set(id, body);
    return () => {
      if (this.bodies.get(id) === body) this.bodies.delete(id);
      // An append that took longer than IDLE_MS counts from its end: the PUT usually follows.
      const state = this.states.get(id);
      if (state) state.usedAt = Date.now();
    };
  }

  async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    this.locks.set(id, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === run) this.locks.delete(id);
    }
  }

  /** What the storage driver gives a body's bytes to on their way to storage: the upload's hash. */
  tap(id: string, offset: number): BodyTap {
    const now = Date.now();
    this.sweep(now);
    let state = this.states.get(id);
    if (!state || state.offset !== offset) {
      // Unknown or stale state: only a fresh upload can start hashing from zero.
      state = offset === 0 ? { hash: createSha256(), offset: 0, usedAt: now } : undefined;
      if (state) this.states.set(id, state);
      else this.states.delete(id);
    }
    if (state) state.usedAt = now;
    return { chunk: countChunk, hash: state && counted(state) };
  }

  /** Drops the states unused for IDLE_MS (see the header); at most one pass per IDLE_MS, so its cost is nothing. */
  private sweep(now: number): void {
    if (now - this.sweptAt < IDLE_MS) return;
    this.sweptAt = now;
    for (const [id, state] of this.states) {
      if (now - state.usedAt > IDLE_MS && !this.bodies.has(id)) this.states.delete(id);
    }
  }

  /** Called when an append failed: what was hashed may not all be on disk. */
  forget(id: string): void {
    this.states.delete(id);
  }

  /** The digest of the stored upload bytes in the algorithm of `expected`. */
  async digest(id: string, size: number, expected: string, uploads: UploadArea): Promise<string> {
    const { algorithm } = parseDigest(expected);
    const state = this.states.get(id);
    if (algorithm === 'sha256' && state && state.offset === size) {
      return `sha256:${state.hash.digestHex()}`;
    }
    return rehash(await uploads.read(id), algorithm);
  }
}

/** The state's hash, advancing its offset by what each update hashed. */
function counted(state: HashState): Sha256 {
  const { hash } = state;
  return {
    update(chunk) {
      hash.update(chunk);
      state.offset += chunk.length;
    },
    async updateBatch(buffer, length) {
      await hash.updateBatch(buffer, length);
      state.offset += length;
    },
    digestHex: () => hash.digestHex(),
  };
}

async function rehash(stream: Readable, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}
