// PasswordVerifier for local users (source 'local', created through the admin API with a
// password): a bcrypt hash in the users table. Users from LDAP or htpasswd never have a hash here,
// so this verifier answers undefined for them and the chain moves on to their own verifier.
import bcrypt from 'bcryptjs';
import type { AccessStore } from '../../metadata/access/store.ts';
import type { PasswordVerifier, Principal } from '../types.ts';

/** bcrypt reads at most 72 bytes; longer passwords would be silently truncated, so they are refused. */
export const MAX_PASSWORD_BYTES = 72;

export async function hashPassword(password: string, rounds = 12): Promise<string> {
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new Error(`password longer than ${MAX_PASSWORD_BYTES} bytes`);
  return bcrypt.hash(password, rounds);
}

export class LocalPasswordVerifier implements PasswordVerifier {
  readonly name = 'local';

  constructor(private readonly store: AccessStore) {}

  async verify(username: string, password: string): Promise<Principal | undefined> {
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return undefined;
    const user = await this.store.users.get(username);
    if (!user || user.source !== 'local' || user.disabled || !user.hasPassword) return undefined;
    const hash = await this.store.users.passwordHash(username);
    if (!hash || !(await bcrypt.compare(password, hash))) return undefined;
    return { name: user.name, kind: 'user', via: 'local', teams: await this.store.teams.teamsOf(user.name), admin: user.admin };
  }
}
