// Bounded parallelism for blob transfers: registries and links are fastest with a few streams in
// flight, not one per layer (docker and skopeo both default to a handful).

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first failure (the rest still settle). */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
  return results;
}

/** The default number of parallel blob transfers (`--parallel` overrides); skopeo's default is 6 too. */
export const DEFAULT_PARALLEL = 6;
