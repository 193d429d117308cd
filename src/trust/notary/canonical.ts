// Canonical JSON as TUF and Notary sign it (OLPC canonical JSON: keys sorted, no whitespace, only
// `"` and `\` escaped, integers only), through @tufjs/canonical-json, whose bytes are the ones
// Notary's Go encoder produces. Signatures are always over the canonical form of the parsed
// `signed` object, never over the bytes as uploaded (which a client may format as it likes).
import { canonicalize } from '@tufjs/canonical-json';

/** The canonical bytes of a JSON value; throws a CanonicalJsonError for what has no canonical form (a float). */
export function canonicalBytes(value: unknown): Buffer {
  try {
    return Buffer.from(canonicalize(value), 'utf8');
  } catch (e) {
    throw new CanonicalJsonError(e instanceof Error ? e.message : String(e));
  }
}

export class CanonicalJsonError extends Error {}
