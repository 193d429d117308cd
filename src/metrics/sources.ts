// Figures read at scrape time (a gauge's collect()): a source is a function the wiring registers.
// A source that fails or is slow does not fail the scrape: the gauge keeps its last value.
export interface Source<T> {
  read(): Promise<T>;
  /** Reuse the last figures for this long (ms); 0 = read at every scrape. */
  maxAgeMs?: number;
  last?: { at: number; value: T };
  pending?: Promise<T | undefined>;
}

const TIMEOUT_MS = 5_000;

export async function readSource<T>(source: Source<T> | undefined): Promise<T | undefined> {
  if (!source) return undefined;
  const last = source.last;
  if (last && source.maxAgeMs && Date.now() - last.at < source.maxAgeMs) return last.value;
  // Concurrent scrapes share one read.
  source.pending ??= (async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const value = await Promise.race([
        source.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('metrics source timed out')), TIMEOUT_MS);
          timer.unref();
        }),
      ]);
      source.last = { at: Date.now(), value };
      return value;
    } catch {
      return last?.value;
    } finally {
      clearTimeout(timer);
      source.pending = undefined;
    }
  })();
  return source.pending;
}
