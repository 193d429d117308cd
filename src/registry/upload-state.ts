// The `_state` token in upload Locations, as registry:2 issues it: the upload's repository and id,
// signed with http.secret so that every replica sharing the secret accepts the next request of an
// upload begun elsewhere, and a Location cannot be re-pointed at another repository's upload.
// berth keeps the authoritative session in the metadata store, so the token is a second check,
// not the only one: a request without `_state` (a client building URLs itself) is still served,
// but a token that is present must be genuine and match the URL.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface UploadState {
  name: string;
  uuid: string;
  /** Bytes in the upload when the token was issued (informational: storage holds the truth). */
  offset: number;
}

export class UploadStateSigner {
  private readonly key: Buffer;
  /** True when the secret was generated here: replicas will not accept each other's tokens. */
  readonly ephemeral: boolean;

  constructor(secret: string | undefined) {
    this.ephemeral = !secret;
    // As distribution: without http.secret each process makes up its own.
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  sign(state: UploadState): string {
    const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** The state in a token, or undefined when the token is malformed or not signed with our secret. */
  verify(token: string): UploadState | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<UploadState>;
      if (typeof state.name !== 'string' || typeof state.uuid !== 'string') return undefined;
      return state as UploadState;
    } catch {
      return undefined;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
