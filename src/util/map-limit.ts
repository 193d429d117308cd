// Runs async tasks with a bound on how many are in flight: S3 part copies (multipartCopyMaxConcurrency),
// blob transfers of push/pull/copy, layer decompression for docker archives.

/**
 * Maps `items` through `fn`, at most `limit` at a time, preserving order. After the first failure no
 * new task starts; the ones in flight are awaited (so nothing outlives the call), then it rejects.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
