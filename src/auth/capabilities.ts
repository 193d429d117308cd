// Optional abilities of a PasswordVerifier, beyond checking a password. Kept out of types.ts so
// the shared seams stay as the lead wrote them; a verifier (htpasswd today, LDAP or personal
// access tokens later) implements them when it can, and callers test for them.
import type { PasswordVerifier, Principal } from './types.ts';

/** Finds a user without their password: lets a refresh token be renewed and revoked on change. */
export interface PrincipalLookup {
  /**
   * The principal as of now, and a stamp that changes whenever its credential changes (password
   * set again, user removed): a refresh token issued under another stamp is no longer valid.
   */
  lookup(username: string): Promise<{ principal: Principal; stamp: string } | undefined>;
}

/** A source whose content has a version: successful checks may be cached until it changes. */
export interface Revisioned {
  revision(): Promise<string>;
}

export function canLookup(v: PasswordVerifier): v is PasswordVerifier & PrincipalLookup {
  return typeof (v as Partial<PrincipalLookup>).lookup === 'function';
}

export function isRevisioned(v: PasswordVerifier): v is PasswordVerifier & Revisioned {
  return typeof (v as Partial<Revisioned>).revision === 'function';
}
