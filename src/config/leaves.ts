// Building blocks for the zod schema of config.yml: leaf types that decode a value the way
// distribution's Go yaml would decode it into the corresponding Go type, plus metadata
// (a zod registry) that the key walker and the env overlay read.
import { z } from 'zod';
import { GoScalar, plain } from './yaml.ts';
import { parseDuration } from './durations.ts';
import { parseSize } from './sizes.ts';

export interface KeyInfo {
  /** Warning tail emitted when the key is present: `${path} ${warn}`. */
  warn?: string;
  /** Still parse the value after warning (otherwise the key is dropped). */
  keep?: boolean;
  /** This key's warnings (and its unknownChild warnings) go first: they weaken security. */
  loud?: boolean;
  /** Warning tail for keys not in this section's shape (instead of "unknown configuration key"). */
  unknownChild?: string;
  /** The section may be a bare name, as in distribution: `storage: s3` == `storage: {s3: {}}`. */
  shorthand?: boolean;
  /** A Go time.Duration: bare numbers are nanoseconds, worth a warning. */
  duration?: boolean;
}

export const keyInfo = z.registry<KeyInfo>();

function tag<T extends z.ZodType>(schema: T, info: KeyInfo): T {
  keyInfo.add(schema, info);
  return schema;
}

// Go decodes any plain scalar into a string field as its text; into other types, its value.
const asText = (v: unknown) => (v instanceof GoScalar ? v.text : v);
const asValue = (v: unknown) => (v instanceof GoScalar ? (typeof v.value === 'bigint' ? Number(v.value) : v.value) : v);

export const str = (inner: z.ZodType<string> = z.string()) => z.preprocess(asText, inner);
export const bool = () => z.preprocess(asValue, z.boolean());
/** A fraction in (0, 1] (a share of time, say). */
export const fraction = () => z.preprocess(asValue, z.number().gt(0, { error: 'must be more than 0' }).lte(1, { error: 'must be at most 1' }));
export const int = (min = 0) => z.preprocess(asValue, z.number().int().min(min, { error: `must be at least ${min}` }));
/** A string-valued enum; `lower` mirrors Go code that lower-cases before comparing. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, lower = false) =>
  z.preprocess((v) => {
    const t = asText(v);
    return lower && typeof t === 'string' ? t.toLowerCase() : t;
  }, z.enum(values));

/** Go time.Duration, returned in milliseconds (see durations.ts). */
export const duration = (opts: { positive?: boolean } = {}) =>
  tag(
    z
      .preprocess(asValue, z.union([z.string(), z.number()], { error: 'expected a duration such as "10s" or "1h30m"' }))
      .transform((v, ctx) => {
        try {
          const ms = parseDuration(v);
          if (opts.positive ? ms > 0 : ms >= 0) return ms;
          ctx.issues.push({ code: 'custom', message: opts.positive ? 'must be greater than 0' : 'must not be negative', input: v });
        } catch (e) {
          ctx.issues.push({ code: 'custom', message: (e as Error).message, input: v });
        }
        return z.NEVER;
      }),
    { duration: true },
  );

/** A free-form map decoded into interface{} values (log.fields). */
export const freeMap = () => z.record(z.string(), z.unknown()).transform((m) => plain(m) as Record<string, unknown>);

/** A section of known keys; every key is optional, as in distribution. */
export const section = <S extends z.ZodRawShape>(shape: S, info?: KeyInfo) => {
  const s = z.object(shape).partial();
  return info ? tag(s, info) : s;
};

/** A key that is honoured but deprecated: warned about, and still used. */
export const deprecated = <T extends z.ZodType>(schema: T, warn: string) => tag(schema, { warn, keep: true });

/** A distribution key berth accepts but does not act on: warned about, then dropped. */
export const unsupported = (warn = 'is not supported yet; ignored', extra: KeyInfo = {}) =>
  tag(z.unknown(), { warn, ...extra });

/** A byte size ("50GiB", "10GB", bytes as a number), returned in bytes (see sizes.ts). */
export const size = () =>
  z
    .preprocess(asValue, z.union([z.string(), z.number()], { error: 'expected a size such as "50GiB" or a number of bytes' }))
    .transform((v, ctx) => {
      try {
        return parseSize(v);
      } catch (e) {
        ctx.issues.push({ code: 'custom', message: (e as Error).message, input: v });
        return z.NEVER;
      }
    });

/** A regular expression (as text), checked when the config is loaded rather than at first use. */
export const regex = () =>
  str().refine(
    (s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
    { error: 'is not a valid regular expression' },
  );
