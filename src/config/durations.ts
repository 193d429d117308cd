// Go's time.Duration as distribution reads it from YAML, converted to milliseconds.
//
// Distribution decodes duration keys (http.draintimeout, health.storagedriver.interval, ...)
// with Go's yaml package: a string goes through time.ParseDuration ("10s", "1h30m", "500ms"),
// while a bare YAML integer is taken as a raw time.Duration, i.e. NANOSECONDS.
// So `interval: 10` means 10ns, not 10s. We keep that meaning so a config behaves the same
// under berth and registry:2; the loader warns when such a number looks like a mistake.

const NS_PER_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign, accepted by Go
  'μs': 1e3, // U+03BC greek mu, accepted by Go
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

// One "<number><unit>" element; Go allows "1.", ".5" but not "." alone.
const ELEMENT = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go duration and returns milliseconds (possibly fractional: '1500us' -> 1.5).
 * A number is nanoseconds, as in distribution's YAML (`10` -> 0.00001 ms).
 * Throws a plain Error (the loader turns it into a ConfigError naming the key).
 */
export function parseDuration(s: string | number): number {
  if (typeof s === 'number') {
    if (!Number.isInteger(s)) throw new Error('a duration given as a bare number must be a whole number of nanoseconds');
    return s / 1e6;
  }
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  // Go accepts a lone "0" (with optional sign) without a unit, nothing else.
  if (rest === '0') return 0;
  if (rest === '') throw new Error('invalid duration: empty');
  let ns = 0;
  while (rest !== '') {
    const m = ELEMENT.exec(rest);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) {
      throw new Error(/^[\d.]+$/.test(rest) ? 'invalid duration: missing unit (e.g. "10s")' : 'invalid duration (expected e.g. "10s", "1h30m", "500ms")');
    }
    const value = Number(`${m[1] || '0'}.${m[2] || '0'}`);
    ns += value * NS_PER_UNIT[m[3]];
    rest = rest.slice(m[0].length);
  }
  return (sign * ns) / 1e6;
}
