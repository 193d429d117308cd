// One blob on its way from the upstream into storage, streamed to every client asking for it
// meanwhile (tee-to-storage). The bytes are hashed and written through the blob store's upload
// area (the path a pushed blob takes), committed under their digest only once the digest and size
// check out, then linked to the repository: a failed or short upstream transfer commits nothing,
// and as the last chunk is passed on only after the check, no client ever gets a whole wrong body.
//
// Clients attach at any time while the bytes still fit in the retained prefix (RETAIN_BYTES): they
// get what came so far, then the rest as it arrives, so the first client never waits for the whole
// blob and neither do the others that asked at about the same time. A client that asks later, or
// wants a range, waits for the commit and is then served from storage like any stored blob. A client
// slower than the upstream by more than LAG_BYTES is detached and continues from storage after the
// commit, so one slow client neither holds back the others nor makes berth buffer without bound.
// Nothing the fetch does waits for a client: `done` (and the quota's write in flight) is over at the
// commit, and each detached client then reads the rest from storage at its own pace, so a client
// that stops reading keeps only its own response open, never another client's or the commit.
import { EventEmitter, once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newHash, parseDigest } from '../oci/digest.ts';
import { BlobCollectedError } from '../metadata/store.ts';
import { reserveForWrite } from '../lifecycle/blob-writes.ts';
import type { RegistryServices } from '../registry/services.ts';
import { type Upstream, UpstreamError } from './upstream.ts';

/** Bytes kept in memory per blob in flight so that clients arriving late still stream. */
export const RETAIN_BYTES = 16 * 1024 * 1024;
/** A client this far behind the upstream continues from storage after the commit. */
const LAG_BYTES = 16 * 1024 * 1024;
/** Upload ids of mirror fetches (an interrupted one is purged like any abandoned upload). */
export const MIRROR_UPLOAD_PREFIX = 'mirror-';

interface Subscriber {
  res: ServerResponse;
  /** Bytes written to the response so far. */
  sent: number;
  /** Fell behind: continues from storage once the blob is committed. */
  detached: boolean;
  done: () => void;
}

export interface BlobFetchTarget {
  services: RegistryServices;
  upstream: Upstream;
  /** The local repository the blob is linked to. */
  repository: string;
  /** The upstream's name for it. */
  upstreamRepository: string;
  digest: string;
}

export class BlobFetch extends EventEmitter {
  /** Resolves when the upstream has answered and the bytes start flowing; rejects when it refused. */
  readonly ready: Promise<void>;
  /**
   * Resolves when the blob is stored and linked to the repository (whatever the clients still
   * reading it do); rejects when the transfer failed.
   */
  readonly done: Promise<void>;
  /** The blob's size, when the upstream said (known once `ready`). */
  size: number | undefined;
  /** Set by the quota check: the fetch counts as a write in flight until `close`. */
  closed = false;
  private retained: Buffer[] | undefined = [];
  private received = 0;
  /** Bytes passed on to clients: all received but the last chunk, which waits for the digest check. */
  private forwarded = 0;
  private readonly subscribers = new Set<Subscriber>();
  private markReady!: () => void;
  private failReady!: (e: unknown) => void;

  constructor(private readonly target: BlobFetchTarget) {
    super();
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    this.done = this.run().finally(() => {
      this.closed = true;
      this.emit('close');
    });
    // Both are awaited only by the clients that are waiting: a failure nobody waits for is no crash.
    this.ready.catch(() => undefined);
    this.done.catch((e: unknown) => this.failReady(e));
  }

  /**
   * Streams the blob to `res` (headers first) from the start, while the prefix is still retained.
   * Resolves true when the response is over, false (nothing written) when the caller must wait for
   * `done` and serve from storage.
   */
  attach(res: ServerResponse, headers: Record<string, string | number>): Promise<boolean> | false {
    if (!this.retained) return false;
    res.writeHead(200, { ...headers, ...(this.size !== undefined && { 'Content-Length': this.size }) });
    for (const chunk of this.retained) res.write(chunk);
    return new Promise<boolean>((resolve) => {
      const sub: Subscriber = {
        res,
        sent: this.forwarded,
        detached: false,
        done: () => {
          this.subscribers.delete(sub);
          resolve(true);
        },
      };
      this.subscribers.add(sub);
      res.once('close', sub.done);
    });
  }

  private async run(): Promise<void> {
    const { services, upstream, repository, upstreamRepository, digest } = this.target;
    const { metadata, blobs, quotas } = services;
    const blob = await upstream.blob(upstreamRepository, digest);
    this.size = blob.size;
    try {
      // Cached content is ordinary content: a quota over the mirror's repositories caps the cache.
      await quotas.checkAdd(repository, digest, blob.size ?? 0, 'upload', { until: this });
      // The garbage collector's protocol (src/lifecycle/blob-writes.ts): reserve before storing.
      if ((await reserveForWrite(metadata, digest, blob.size ?? 0)) === 'live') {
        // Stored meanwhile (another repository's fetch, a push): link it, serve it from storage.
        blob.stream.destroy();
        this.retained = undefined;
        this.markReady();
        await metadata.linkBlob(repository, digest, (await blobs.stat(digest))?.size ?? blob.size ?? 0);
        return;
      }
    } catch (e) {
      blob.stream.destroy();
      throw e;
    }
    const id = `${MIRROR_UPLOAD_PREFIX}${randomUUID()}`;
    await blobs.uploads.create(id);
    this.markReady();
    try {
      await this.pump(id, blob.stream);
    } catch (e) {
      blob.stream.destroy();
      await blobs.uploads.abort(id).catch(() => undefined);
      for (const sub of this.subscribers) sub.res.destroy();
      throw e;
    } finally {
      this.retained = undefined;
    }
    // Every attached client has all the bytes, verified: end their responses before the commit.
    for (const sub of this.subscribers) if (!sub.detached) sub.res.end();
    try {
      if (await blobs.stat(digest)) await blobs.uploads.abort(id);
      else await blobs.uploads.commit(id, digest);
      await metadata.linkBlob(repository, digest, this.received);
    } catch (e) {
      // Only a collection with a grace period of (nearly) zero takes a blob this fresh; the next request fetches it again.
      for (const sub of this.subscribers) sub.res.destroy();
      if (e instanceof BlobCollectedError) throw new UpstreamError('unavailable', `blob ${digest} was garbage-collected while it was cached; retry`);
      throw e;
    }
    // Clients that fell behind read the rest from storage, each at its own pace: the fetch is over
    // (`done`, the clients waiting for it, the quota's write in flight) without waiting for them.
    for (const sub of this.subscribers) if (sub.detached) void this.finishFromStorage(sub);
  }

  /** Upstream bytes to storage and to the attached clients, hashed on the way; throws unless they are the blob. */
  private async pump(id: string, source: Readable): Promise<void> {
    const { services, digest, upstream } = this.target;
    const { algorithm, hex } = parseDigest(digest);
    const hash = newHash(algorithm);
    const sink = new PassThrough({ highWaterMark: 1024 * 1024 });
    const appended = services.blobs.uploads.append(id, sink);
    appended.catch(() => undefined);
    // The last chunk is held back until the digest is checked, so that no client ever receives a
    // whole body that is not the blob: a wrong transfer always ends short for them.
    let held: Buffer | undefined;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        hash.update(chunk);
        this.received += chunk.length;
        if (this.size !== undefined && this.received > this.size) break;
        if (held) this.forward(held);
        held = chunk;
        if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), appended]);
      }
    } catch (e) {
      // Ended, not destroyed: the append then settles (and closes its file) once it has written what
      // it took, before the caller aborts the upload. A body destroyed before the append starts
      // reading it (it opens the file first) would leave that append waiting for ever.
      sink.end();
      await appended.catch(() => undefined);
      throw e instanceof UpstreamError ? e : new UpstreamError('unavailable', `${upstream.label}: blob ${digest}: the transfer broke off after ${this.received} bytes (${(e as Error).message})`);
    }
    sink.end();
    const stored = await appended;
    const got = hash.digest('hex');
    if ((this.size !== undefined && this.received !== this.size) || stored !== this.received) {
      throw new UpstreamError('unavailable', `${upstream.label}: blob ${digest}: got ${this.received} bytes of ${this.size ?? 'an unknown size'}`);
    }
    if (got !== hex) throw new UpstreamError('unavailable', `${upstream.label}: blob ${digest}: the bytes hash to ${algorithm}:${got}`);
    this.size = this.received;
    if (held) this.forward(held);
  }

  /** Passes verified-so-far bytes on to the attached clients (and keeps them for those still to come). */
  private forward(chunk: Buffer): void {
    this.forwarded += chunk.length;
    if (this.retained) {
      if (this.forwarded <= RETAIN_BYTES) this.retained.push(chunk);
      else this.retained = undefined;
    }
    for (const sub of this.subscribers) {
      if (sub.detached) continue;
      sub.res.write(chunk);
      sub.sent += chunk.length;
      if (sub.res.writableLength > LAG_BYTES) sub.detached = true;
    }
  }

  /** A client that fell behind: the rest of the blob from storage, now that it is there. */
  private async finishFromStorage(sub: Subscriber): Promise<void> {
    try {
      if (sub.sent < this.received) {
        const stream = await this.target.services.blobs.read(this.target.digest, { start: sub.sent, end: this.received - 1 });
        await pipeline(stream, sub.res);
      } else sub.res.end();
    } catch {
      sub.res.destroy();
    }
  }
}
