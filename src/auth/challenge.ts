// WWW-Authenticate values, as distribution sends them: `Basic realm="..."` for htpasswd and
// `Bearer realm="...",service="...",scope="..."` (RFC 6750 section 3) for token auth, with the
// scope of the operation that was refused so the client asks its token server for exactly that.
import type { ScopeGrant } from './types.ts';
import { formatScope } from './scope.ts';

function quoted(value: string): string {
  // RFC 7230 quoted-string; control characters have no place in a header at all.
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

export function basicChallenge(realm: string): string {
  return `Basic realm=${quoted(realm)}`;
}

export type BearerError = 'invalid_token' | 'insufficient_scope';

export function bearerChallenge(realm: string, service: string, needs: ScopeGrant[], error?: BearerError): string {
  let value = `Bearer realm=${quoted(realm)},service=${quoted(service)}`;
  if (needs.length) value += `,scope=${quoted(needs.map(formatScope).join(' '))}`;
  if (error) value += `,error=${quoted(error)}`;
  return value;
}

/** The `detail` of an UNAUTHORIZED/DENIED error: what was needed, in distribution's shape. */
export function accessDetail(needs: ScopeGrant[]): Array<{ Type: string; Name: string; Action: string }> {
  return needs.flatMap((n) => n.actions.map((a) => ({ Type: n.type, Name: n.name, Action: a })));
}
