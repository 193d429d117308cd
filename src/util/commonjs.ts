// The exports of a CommonJS package loaded with import(). Node (and tsx) give them as named exports
// and, whole, as `default`; the server bundle (scripts/build-server.mjs) puts a package that is
// only imported dynamically in a chunk of its own that ends in `export default require_x()`, so
// there the named exports are missing and `default` is all there is. `default` works in both.
export function commonJsExports<T extends object>(namespace: T): T {
  const whole = (namespace as { default?: unknown }).default;
  return whole !== null && (typeof whole === 'object' || typeof whole === 'function') ? (whole as T) : namespace;
}
