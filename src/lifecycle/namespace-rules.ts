// Rules set per namespace through the admin API (the metadata store's lifecycle_rules table), as
// the push path reads them: from memory, refreshed at most every few seconds, so a push does not
// query the rules table each time. A change made through this process's API is seen at once
// (invalidate); one made on another replica within `ttlMs`.
import type { LifecycleRule, LifecycleStore } from '../metadata/lifecycle/lifecycle-store.ts';

export const RULES_TTL_MS = 5_000;

export interface NamespaceRule<T> {
  namespace: string;
  body: T;
  updatedAt: number;
  updatedBy: string | null;
}

export class NamespaceRules<T> {
  private cached?: { at: number; rules: Promise<NamespaceRule<T>[]> };

  constructor(
    private readonly store: LifecycleStore,
    readonly kind: string,
    /** Turns a stored body into T; undefined skips a body this version cannot read. */
    private readonly parse: (body: unknown) => T | undefined,
    private readonly ttlMs = RULES_TTL_MS,
  ) {}

  async list(): Promise<NamespaceRule<T>[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at >= this.ttlMs) {
      const rules = this.store.rules(this.kind).then((rows) => rows.flatMap((r) => this.toRule(r)));
      this.cached = { at: now, rules };
      // A failed read is not remembered: the next call asks again.
      rules.catch(() => {
        if (this.cached?.rules === rules) this.cached = undefined;
      });
    }
    return this.cached.rules;
  }

  async put(namespace: string, body: T, by: string | null): Promise<void> {
    await this.store.putRule(this.kind, namespace, body, by);
    this.invalidate();
  }

  async delete(namespace: string): Promise<boolean> {
    const deleted = await this.store.deleteRule(this.kind, namespace);
    this.invalidate();
    return deleted;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private toRule(row: LifecycleRule): NamespaceRule<T>[] {
    const body = this.parse(row.body);
    return body === undefined ? [] : [{ namespace: row.namespace, body, updatedAt: row.updatedAt, updatedBy: row.updatedBy }];
  }
}
