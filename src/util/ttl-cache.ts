// A small in-process cache with a time to live (access decisions, LDAP logins, console statistics).
// For access decisions: a `docker pull` asks about the same repository a dozen times within a
// second (manifest, config, each layer), and each question would otherwise cost the same two or
// three queries. Entries hold promises, so
// concurrent askers share one lookup; a failed lookup is not kept. The TTL bounds how long a
// change made on another replica (or directly in the database) can go unnoticed; changes made
// through this process call clear().
export class TtlCache<V> {
  private readonly entries = new Map<string, { expires: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.ttlMs <= 0) return load();
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > t) return hit.value;
    if (hit) this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.evict(t);
    const value = load();
    const entry = { expires: t + this.ttlMs, value };
    this.entries.set(key, entry);
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Drops expired entries, then the oldest ones (Map keeps insertion order) down to 90%. */
  private evict(t: number): void {
    for (const [k, e] of this.entries) if (e.expires <= t) this.entries.delete(k);
    const excess = this.entries.size - Math.floor(this.maxEntries * 0.9);
    if (excess <= 0) return;
    let n = 0;
    for (const k of this.entries.keys()) {
      if (n++ >= excess) break;
      this.entries.delete(k);
    }
  }
}
