// If-None-Match as RFC 9110 §13.1.2 defines it: a list of entity tags or "*", compared weakly
// (W/"x" matches "x"). Caches and proxies send lists; Go's http.ServeContent, which registry:2
// serves blobs with, honours every form, so a client revalidating through one gets its 304.

/** Whether an If-None-Match header names one of `tags` (quoted entity tags). */
export function noneMatch(header: string | undefined, tags: readonly string[]): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => tags.includes(t.trim().replace(/^W\//, '')));
}
