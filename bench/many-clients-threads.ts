// The client side of bench/many-clients.ts: a few worker threads (many-clients-worker.mjs) that
// the clients of a round are dealt across, so the harness's own event loop is never the ceiling.
import { Worker } from 'node:worker_threads';

/** A generated blob (AES-CTR keystream of `seed`) or a small text one (the image config). */
export interface PushBlob {
  digest: string;
  size: number;
  seed?: string;
  text?: string;
}

export interface PullClient {
  repo: string;
  tag: string;
  accept: string;
}

export interface PushClient {
  repo: string;
  tag: string;
  blobs: PushBlob[];
  manifest: string;
  manifestType: string;
}

export interface ClientResult {
  ok: boolean;
  /** Wall-clock ms (performance.timeOrigin + now) when the client started and finished. */
  start: number;
  end: number;
  bytes: number;
  error?: string;
}

type Reply = { id: number; results?: ClientResult[]; digests?: string[]; failure?: string };

export class ClientThreads {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private nextId = 0;

  constructor(count: number) {
    this.workers = Array.from({ length: count }, () => {
      const w = new Worker(new URL('./many-clients-worker.mjs', import.meta.url), { execArgv: [] });
      w.on('message', (r: Reply) => {
        this.waiting.get(r.id)?.(r);
        this.waiting.delete(r.id);
      });
      w.on('error', (e) => {
        for (const done of this.waiting.values()) done({ id: -1, failure: `client thread died: ${e.stack ?? e}` });
        this.waiting.clear();
      });
      return w;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  private ask(w: Worker, job: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((ok, fail) => {
      this.waiting.set(id, (r) => (r.failure ? fail(new Error(r.failure)) : ok(r)));
      w.postMessage({ ...job, id });
    });
  }

  /** Deals `items` round-robin across the threads, runs `job` on each share, returns the replies in item order. */
  private async deal<T, R>(items: T[], job: (share: T[]) => Record<string, unknown>, pick: (r: Reply) => R[]): Promise<R[]> {
    const shares = this.workers.map((_, i) => items.filter((_, k) => k % this.workers.length === i));
    const replies = await Promise.all(this.workers.map((w, i) => (shares[i].length ? this.ask(w, job(shares[i])) : undefined)));
    const out: R[] = new Array(items.length);
    replies.forEach((r, i) => r && pick(r).forEach((v, j) => (out[i + j * this.workers.length] = v)));
    return out;
  }

  /** sha256 digests of generated blobs, computed on all threads (set-up, not timed). */
  digests(blobs: { seed: string; size: number }[]): Promise<string[]> {
    return this.deal(blobs, (share) => ({ op: 'digests', blobs: share }), (r) => r.digests!);
  }

  /** All clients start at once (as soon as their thread gets the job) and each reports its own times. */
  pull(base: string, clients: PullClient[]): Promise<ClientResult[]> {
    return this.deal(clients, (share) => ({ op: 'pull', base, clients: share }), (r) => r.results!);
  }

  push(base: string, clients: PushClient[]): Promise<ClientResult[]> {
    return this.deal(clients, (share) => ({ op: 'push', base, clients: share }), (r) => r.results!);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
