// Users: local accounts and the rows recorded for LDAP/htpasswd users when they first log in.
import type { Selectable, Updateable } from 'kysely';
import { containsText, flag, toDate, toDateOrNull, type AccessContext, type AccessTx } from './db.ts';
import type { UsersTable } from './schema.ts';
import type { ListOptions, NewUser, UserChanges, UserRecord, UserSource, UserStore } from './store.ts';

export function toUserRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    id: Number(row.id),
    name: row.name,
    displayName: row.display_name,
    email: row.email,
    source: row.source as UserSource,
    admin: Number(row.admin) === 1,
    disabled: Number(row.disabled) === 1,
    hasPassword: row.password_hash !== null,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    lastLoginAt: toDateOrNull(row.last_login_at),
  };
}

/** Deletes every grant of a subject: run in the transaction that deletes the subject itself. */
export async function deleteGrantsOf(tx: AccessTx, kind: 'user' | 'team' | 'robot', id: number): Promise<void> {
  await tx.deleteFrom('permissions').where('subject_kind', '=', kind).where('subject_id', '=', id).execute();
}

export class KyselyUserStore implements UserStore {
  constructor(private readonly ctx: AccessContext) {}

  async create(user: NewUser): Promise<UserRecord | undefined> {
    const now = Date.now();
    const row = await this.ctx.db
      .insertInto('users')
      .values({
        name: user.name,
        display_name: user.displayName ?? null,
        email: user.email ?? null,
        source: user.source,
        admin: flag(user.admin),
        disabled: flag(user.disabled),
        password_hash: user.passwordHash ?? null,
        created_at: now,
        updated_at: now,
        last_login_at: null,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    return row && toUserRecord(row);
  }

  async get(name: string): Promise<UserRecord | undefined> {
    const row = await this.ctx.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toUserRecord(row);
  }

  async list(options: ListOptions): Promise<UserRecord[]> {
    let q = this.ctx.db.selectFrom('users').selectAll();
    if (options.query) {
      const text = options.query;
      q = q.where((eb) => eb.or([containsText('name', text), containsText('display_name', text), containsText('email', text)]));
    }
    if (options.after !== undefined) q = q.where('name', '>', options.after);
    const rows = await q.orderBy('name').limit(options.limit).execute();
    return rows.map(toUserRecord);
  }

  async update(name: string, changes: UserChanges): Promise<UserRecord | undefined> {
    const set: Updateable<UsersTable> = { updated_at: Date.now() };
    if (changes.displayName !== undefined) set.display_name = changes.displayName;
    if (changes.email !== undefined) set.email = changes.email;
    if (changes.admin !== undefined) set.admin = flag(changes.admin);
    if (changes.disabled !== undefined) set.disabled = flag(changes.disabled);
    if (changes.passwordHash !== undefined) set.password_hash = changes.passwordHash;
    const row = await this.ctx.db.updateTable('users').set(set).where('name', '=', name).returningAll().executeTakeFirst();
    return row && toUserRecord(row);
  }

  async delete(name: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
      if (!row) return false;
      await deleteGrantsOf(tx, 'user', row.id);
      // Memberships and tokens go by ON DELETE CASCADE; deleted explicitly as well so the outcome
      // does not hang on SQLite's foreign_keys pragma.
      await tx.deleteFrom('team_members').where('user_id', '=', row.id).execute();
      await tx.deleteFrom('personal_access_tokens').where('user_id', '=', row.id).execute();
      await tx.deleteFrom('users').where('id', '=', row.id).execute();
      return true;
    });
  }

  async passwordHash(name: string): Promise<string | undefined> {
    const row = await this.ctx.db.selectFrom('users').select('password_hash').where('name', '=', name).executeTakeFirst();
    return row?.password_hash ?? undefined;
  }

  async recordLogin(name: string, source: UserSource, profile: { displayName?: string; email?: string } = {}): Promise<UserRecord> {
    const now = Date.now();
    const refreshed: Updateable<UsersTable> = { last_login_at: now, updated_at: now };
    if (profile.displayName !== undefined) refreshed.display_name = profile.displayName;
    if (profile.email !== undefined) refreshed.email = profile.email;
    const row = await this.ctx.db
      .insertInto('users')
      .values({
        name,
        display_name: profile.displayName ?? null,
        email: profile.email ?? null,
        source,
        admin: 0,
        disabled: 0,
        password_hash: null,
        created_at: now,
        updated_at: now,
        last_login_at: now,
      })
      .onConflict((oc) => oc.column('name').doUpdateSet(refreshed))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUserRecord(row);
  }
}
