// Reads the key tree out of the zod schema, so that the unknown-key check and the REGISTRY_*
// environment mapping follow the schema instead of a hand-kept list of keys.
import type { z } from 'zod';
import { keyInfo, type KeyInfo } from './leaves.ts';
import { GoScalar, isMap } from './yaml.ts';

export interface Warning {
  text: string;
  loud?: boolean;
}

export type Kind = 'object' | 'record' | 'array' | 'leaf';

export interface Resolved {
  core: z.ZodType;
  info: KeyInfo;
  kind: Kind;
}

// zod v4 keeps the structure in `_zod.def`; only the few node types used in schema.ts matter.
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
}
const def = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Looks through optional/pipe wrappers to the schema that gives the key's shape; merges metadata found on the way. */
export function resolve(schema: z.ZodType): Resolved {
  let info: KeyInfo = {};
  let s = schema;
  for (;;) {
    const meta = keyInfo.get(s);
    if (meta) info = { ...meta, ...info };
    const d = def(s);
    if (d.innerType && ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch'].includes(d.type)) s = d.innerType;
    // preprocess = pipe(transform, schema): the shape is on the right; x.transform() = pipe(x, transform): on the left.
    else if (d.type === 'pipe' && d.in && d.out) s = def(d.in).type === 'transform' ? d.out : d.in;
    else break;
  }
  const t = def(s).type;
  const kind: Kind = t === 'object' ? 'object' : t === 'record' ? 'record' : t === 'array' ? 'array' : 'leaf';
  return { core: s, info, kind };
}

/** The schema of key `k` in an object schema (own keys only: `constructor` is not a config key). */
export function childOf(core: z.ZodType, k: string): z.ZodType | undefined {
  const shape = def(core).shape;
  return shape && Object.hasOwn(shape, k) ? shape[k] : undefined;
}

export function keysOf(core: z.ZodType): string[] {
  return Object.keys(def(core).shape ?? {});
}

export function elementOf(r: Resolved): z.ZodType | undefined {
  const d = def(r.core);
  return r.kind === 'record' ? d.valueType : r.kind === 'array' ? d.element : undefined;
}

/** Text of a scalar as Go would read it into a string, or undefined for collections/null. */
export function scalarText(v: unknown): string | undefined {
  return typeof v === 'string' ? v : v instanceof GoScalar ? v.text : undefined;
}

/** `storage: s3` -> `{s3: {}}` where the section allows it, as distribution's UnmarshalYAML does. */
export function expandShorthand(r: Resolved, v: unknown): unknown {
  const name = r.info.shorthand ? scalarText(v) : undefined;
  return name === undefined ? v : { [name]: {} };
}

// Own data property, safe even for a key named "__proto__".
export function put(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/**
 * Walks a raw YAML tree against the schema: warns about every unknown or unsupported key,
 * drops them and null values (Go leaves a null key at its zero value), expands shorthands.
 * Type errors are left for zod to report.
 */
export function inspect(schema: z.ZodType, value: unknown, path: string[], warnings: Warning[]): unknown {
  const r = resolve(schema);
  if (r.kind === 'array' || r.kind === 'record') {
    const el = elementOf(r)!;
    if (Array.isArray(value) && r.kind === 'array') return value.map((v, i) => inspect(el, v, [...path, String(i)], warnings));
    if (isMap(value) && r.kind === 'record') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) put(out, k, inspect(el, v, [...path, k], warnings));
      return out;
    }
    return value;
  }
  if (r.kind !== 'object') return value;
  const v = expandShorthand(r, value);
  if (!isMap(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(v)) {
    const p = [...path, k];
    const key = p.join('.');
    const cs = childOf(r.core, k);
    if (!cs) {
      warnings.push(unknownKey(r, k, key));
      continue;
    }
    const c = resolve(cs);
    if (c.info.warn) warnings.push({ text: `${key} ${c.info.warn}`, loud: c.info.loud });
    if (c.info.duration && child instanceof GoScalar && typeof child.value === 'number' && child.value !== 0) {
      warnings.push({
        text: `${key}: the bare number ${child.text} is read as nanoseconds, as distribution does (= ${child.value / 1e6}ms); write a unit, e.g. "${child.text}s"`,
      });
    }
    if ((c.info.warn && !c.info.keep) || child === null) continue;
    put(out, k, inspect(cs, child, p, warnings));
  }
  return out;
}

function unknownKey(parent: Resolved, k: string, key: string): Warning {
  if (parent.info.unknownChild) return { text: `${key} ${parent.info.unknownChild}`, loud: parent.info.loud };
  // Go's yaml matches keys case-sensitively; say so when only the case is wrong.
  const lower = k.toLowerCase();
  const hint = lower !== k && childOf(parent.core, lower) ? ` (keys are lower case: ${lower})` : '';
  return { text: `unknown configuration key ${key}${hint}` };
}
