// Bounded concurrency: blob verification overlaps disk reads with hashing, but the machine (and a
// registry still serving from the same disk) should not see one stream per blob at once.

/** Runs `work` over `items` with at most `limit` in flight; rejects with the first failure after all settle. */
export async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}
