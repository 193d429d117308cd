// http.addr in distribution's forms: ":5000", "0.0.0.0:5000", "127.0.0.1:0", "[::1]:5000", "unix:/path" is not supported.
export function parseListenAddress(addr: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr.trim());
  if (!m) throw new Error(`http.addr: cannot parse listen address "${addr}" (expected host:port or :port)`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port: Number(m[3]) };
}
