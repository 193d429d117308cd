// Reads YAML the way distribution's Go yaml (gopkg.in/yaml.v2, YAML 1.1) does, as far as
// config files care:
// - YAML 1.1 scalars: yes/no/on/off are booleans, 0755 is octal, `<<` merge keys work;
// - but a plain scalar decoded into a Go *string* field keeps its text: `version: 0.1` is the
//   string "0.1", `secret: 12345` is "12345", `addr: 5000` is "5000".
// To allow both, every non-string plain scalar becomes a GoScalar holding the resolved value
// and the source text; the zod leaf schemas pick whichever their Go type would use.
import { isScalar, parseDocument, type ScalarTag, type Tags } from 'yaml';

export class GoScalar {
  constructor(
    readonly value: boolean | number | bigint,
    readonly text: string,
  ) {}
}

/** Unwraps GoScalars recursively: what Go yields when decoding into interface{} (log.fields). */
export function plain(v: unknown): unknown {
  if (v instanceof GoScalar) return typeof v.value === 'bigint' ? Number(v.value) : v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** A YAML mapping as produced here: a plain object (never an array, null or GoScalar). */
export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoScalar);
}

const T = 'tag:yaml.org,2002:';
// Tags that go-yaml v2 resolves implicitly. Timestamps and sexagesimal numbers (1:20) are left
// out on purpose: Go keeps them as strings.
const KEEP = new Set([`${T}map`, `${T}seq`, `${T}str`, `${T}null`, `${T}bool`, `${T}int`, `${T}float`, `${T}merge`]);
const WRAP = new Set([`${T}bool`, `${T}int`, `${T}float`]);

function goTags(tags: Tags): Tags {
  return tags
    .filter((t) => typeof t !== 'string' && KEEP.has(t.tag) && t.format !== 'TIME')
    .map((t) => {
      if (typeof t === 'string' || !WRAP.has(t.tag) || t.collection) return t;
      const scalarTag = t as ScalarTag;
      return {
        ...scalarTag,
        resolve: (str, onError, opts) => {
          const res = scalarTag.resolve(str, onError, opts);
          const value = isScalar(res) ? res.value : res;
          return new GoScalar(value as boolean | number | bigint, str);
        },
      } satisfies ScalarTag;
    });
}

export class YamlSyntaxError extends Error {
  constructor(
    readonly code: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    // Deliberately no excerpt of the source: the offending line may hold a secret.
    super(`invalid YAML${line ? ` at line ${line}, column ${col}` : ''} (${code.toLowerCase().replaceAll('_', ' ')})`);
  }
}

/** Parses one YAML document into plain objects, arrays, strings, null and GoScalars. */
export function parseGoYaml(text: string): unknown {
  const doc = parseDocument(text, {
    version: '1.1',
    merge: true,
    stringKeys: true, // Go map[string]... and struct keys: a key is its text (`5000:` -> "5000")
    uniqueKeys: true,
    customTags: goTags,
  });
  const err = doc.errors[0];
  if (err) throw new YamlSyntaxError(err.code, err.linePos?.[0].line, err.linePos?.[0].col);
  return doc.toJS({ maxAliasCount: 1000 });
}
