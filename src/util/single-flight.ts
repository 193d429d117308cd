// Concurrent callers asking for the same key share one call: the first starts it, the others wait
// for its result (or its error). Keys are forgotten when the call settles, so a later caller (after a
// failure, or after the ttl) starts a fresh one.
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();
  /** Calls that joined one already running (tests and metrics). */
  joined = 0;

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) {
      this.joined++;
      return existing;
    }
    const p: Promise<T> = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.running.get(key) === p) this.running.delete(key);
      });
    this.running.set(key, p);
    return p;
  }

  get size(): number {
    return this.running.size;
  }
}
