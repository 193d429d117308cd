// Metric families for the request path: a child (one label set) is a plain object whose numbers
// are bumped with `+=`, and the family turns its children into prom-client's metric values only
// when scraped. prom-client's own Counter/Histogram hash the label set on every call (about 4 µs
// per request for the HTTP metrics, measured); these cost a property write.
//
// Label values are fixed when a child is made: callers keep their children (or look them up in a
// Map by a bounded key), so a family's size is bounded by its callers' label sets.
import { registerLight } from './registry.ts';

type Labels = Record<string, string>;
type Value = { labels: Labels; value: number; metricName?: string };

abstract class Family<C extends { labels: Labels }> {
  private readonly children = new Map<string, C>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    registerLight(this);
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected abstract make(labels: Labels): C;
  protected abstract values(child: C): Value[];

  /** The child for these label values (in labelNames order), made on first use. */
  child(...values: string[]): C {
    const key = values.join('\u0000');
    let c = this.children.get(key);
    if (!c) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      this.children.set(key, (c = this.make(labels)));
    }
    return c;
  }

  async get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: 'sum' }> {
    const values: Value[] = [];
    for (const c of this.children.values()) values.push(...this.values(c));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

export interface CounterChild {
  labels: Labels;
  value: number;
}

export class LightCounter extends Family<CounterChild> {
  readonly type = 'counter';
  protected make(labels: Labels): CounterChild {
    return { labels, value: 0 };
  }
  protected values(c: CounterChild): Value[] {
    return [{ labels: c.labels, value: c.value }];
  }
}

export class LightGauge extends Family<CounterChild> {
  readonly type = 'gauge';
  protected make(labels: Labels): CounterChild {
    return { labels, value: 0 };
  }
  protected values(c: CounterChild): Value[] {
    return [{ labels: c.labels, value: c.value }];
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative; the last slot is above the highest bound). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class LightHistogram extends Family<HistogramChild> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }

  protected make(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.buckets);
  }

  protected values(c: HistogramChild): Value[] {
    const out: Value[] = [];
    let cumulative = 0;
    this.buckets.forEach((le, i) => {
      cumulative += c.counts[i]!;
      out.push({ labels: { ...c.labels, le: String(le) }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    out.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: `${this.name}_bucket` });
    out.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` });
    out.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` });
    return out;
  }
}

/** Prometheus client_golang's default buckets (go-metrics' timers use them: registry_storage_action_seconds). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A gauge whose values are read at scrape time (quota usage, open uploads, outbox depth): one
 * series per label value that `collect` returns. When the figures cannot be read, the last ones
 * stay (an unlabelled gauge starts at 0, as prom-client's does).
 */
export class ScrapedGauge {
  readonly type = 'gauge';
  private last: Value[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string | undefined,
    private readonly collect: () => Promise<{ label?: string; value: number }[] | undefined>,
  ) {
    this.last = labelName === undefined ? [{ labels: {}, value: 0 }] : [];
    registerLight(this);
  }

  async get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: 'sum' }> {
    const figures = await this.collect();
    if (figures) {
      const key = this.labelName;
      this.last = figures.map((f) => ({ labels: key === undefined ? {} : { [key]: f.label ?? '' }, value: f.value }));
    }
    return { name: this.name, help: this.help, type: this.type, values: this.last, aggregator: 'sum' };
  }
}

