// Personal access tokens and robot accounts: only hashes of their secrets are stored (the secret
// is generated and shown once by src/auth/access/secrets.ts, then forgotten).
import type { Selectable, Updateable } from 'kysely';
import type { ScopeGrant } from '../../auth/types.ts';
import { flag, toDate, toDateOrNull, type AccessContext } from './db.ts';
import { insertGrant } from './permissions.ts';
import type { PersonalAccessTokensTable, RobotsTable } from './schema.ts';
import type { NewRobot, NewToken, RobotRecord, RobotStore, TokenRecord, TokenStore, UserRecord } from './store.ts';
import { deleteGrantsOf, toUserRecord } from './users.ts';

function parseScopes(text: string): ScopeGrant[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as ScopeGrant[]) : [];
  } catch {
    // A damaged row grants nothing rather than failing every login of its owner.
    return [];
  }
}

function toTokenRecord(row: Selectable<PersonalAccessTokensTable>, user: string): TokenRecord {
  return {
    id: Number(row.id),
    user,
    name: row.name,
    hint: row.hint,
    scopes: parseScopes(row.scopes),
    expiresAt: toDateOrNull(row.expires_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
    revokedAt: toDateOrNull(row.revoked_at),
    createdAt: toDate(row.created_at),
  };
}

export class KyselyTokenStore implements TokenStore {
  constructor(private readonly ctx: AccessContext) {}

  async create(token: NewToken): Promise<TokenRecord | undefined> {
    const user = await this.ctx.db.selectFrom('users').select('id').where('name', '=', token.user).executeTakeFirst();
    if (!user) return undefined;
    const row = await this.ctx.db
      .insertInto('personal_access_tokens')
      .values({
        user_id: user.id,
        name: token.name,
        token_hash: token.tokenHash,
        hint: token.hint,
        scopes: JSON.stringify(token.scopes),
        expires_at: token.expiresAt ? token.expiresAt.getTime() : null,
        last_used_at: null,
        revoked_at: null,
        created_at: Date.now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toTokenRecord(row, token.user);
  }

  async list(user: string): Promise<TokenRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('personal_access_tokens as p')
      .innerJoin('users as u', 'u.id', 'p.user_id')
      .selectAll('p')
      .where('u.name', '=', user)
      .orderBy('p.id')
      .execute();
    return rows.map((r) => toTokenRecord(r, user));
  }

  async get(id: number): Promise<TokenRecord | undefined> {
    const row = await this.ctx.db
      .selectFrom('personal_access_tokens as p')
      .innerJoin('users as u', 'u.id', 'p.user_id')
      .selectAll('p')
      .select('u.name as user_name')
      .where('p.id', '=', id)
      .executeTakeFirst();
    return row && toTokenRecord(row, row.user_name);
  }

  async revoke(user: string, id: number): Promise<boolean> {
    const owner = await this.ctx.db.selectFrom('users').select('id').where('name', '=', user).executeTakeFirst();
    if (!owner) return false;
    const res = await this.ctx.db
      .updateTable('personal_access_tokens')
      .set({ revoked_at: Date.now() })
      .where('id', '=', id)
      .where('user_id', '=', owner.id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async byHash(tokenHash: string): Promise<{ token: TokenRecord; owner: UserRecord } | undefined> {
    const token = await this.ctx.db.selectFrom('personal_access_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    if (!token) return undefined;
    const owner = await this.ctx.db.selectFrom('users').selectAll().where('id', '=', token.user_id).executeTakeFirst();
    if (!owner) return undefined;
    return { token: toTokenRecord(token, owner.name), owner: toUserRecord(owner) };
  }

  async touch(id: number, at: Date): Promise<void> {
    await this.ctx.db.updateTable('personal_access_tokens').set({ last_used_at: at.getTime() }).where('id', '=', id).execute();
  }
}

function toRobotRecord(row: Selectable<RobotsTable>): RobotRecord {
  return {
    id: Number(row.id),
    name: row.name,
    namespace: row.namespace,
    description: row.description,
    hint: row.hint,
    expiresAt: toDateOrNull(row.expires_at),
    lastUsedAt: toDateOrNull(row.last_used_at),
    disabled: Number(row.disabled) === 1,
    createdAt: toDate(row.created_at),
    createdBy: row.created_by,
    rotatedAt: toDateOrNull(row.rotated_at),
  };
}

export class KyselyRobotStore implements RobotStore {
  constructor(private readonly ctx: AccessContext) {}

  async create(robot: NewRobot): Promise<RobotRecord | undefined> {
    return this.ctx.db.transaction().execute(async (tx) => {
      const row = await tx
        .insertInto('robots')
        .values({
          name: robot.name,
          namespace: robot.namespace,
          description: robot.description ?? null,
          secret_hash: robot.secretHash,
          hint: robot.hint,
          expires_at: robot.expiresAt ? robot.expiresAt.getTime() : null,
          last_used_at: null,
          disabled: 0,
          created_at: Date.now(),
          created_by: robot.createdBy ?? null,
          rotated_at: null,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      for (const p of robot.permissions) await insertGrant(tx, 'robot', row.id, p.scope, p.role, robot.createdBy);
      return toRobotRecord(row);
    });
  }

  async get(name: string): Promise<RobotRecord | undefined> {
    const row = await this.ctx.db.selectFrom('robots').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toRobotRecord(row);
  }

  async list(options: { namespace?: string }): Promise<RobotRecord[]> {
    let q = this.ctx.db.selectFrom('robots').selectAll();
    if (options.namespace !== undefined) q = q.where('namespace', '=', options.namespace);
    return (await q.orderBy('namespace').orderBy('name').execute()).map(toRobotRecord);
  }

  async update(name: string, changes: { description?: string | null; disabled?: boolean; expiresAt?: Date | null }): Promise<RobotRecord | undefined> {
    const set: Updateable<RobotsTable> = {};
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.disabled !== undefined) set.disabled = flag(changes.disabled);
    if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt ? changes.expiresAt.getTime() : null;
    if (Object.keys(set).length === 0) return this.get(name);
    const row = await this.ctx.db.updateTable('robots').set(set).where('name', '=', name).returningAll().executeTakeFirst();
    return row && toRobotRecord(row);
  }

  async delete(name: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('robots').select('id').where('name', '=', name).executeTakeFirst();
      if (!row) return false;
      await deleteGrantsOf(tx, 'robot', row.id);
      await tx.deleteFrom('robots').where('id', '=', row.id).execute();
      return true;
    });
  }

  async rotate(name: string, secretHash: string, hint: string): Promise<RobotRecord | undefined> {
    const row = await this.ctx.db
      .updateTable('robots')
      .set({ secret_hash: secretHash, hint, rotated_at: Date.now() })
      .where('name', '=', name)
      .returningAll()
      .executeTakeFirst();
    return row && toRobotRecord(row);
  }

  async withSecret(name: string): Promise<{ robot: RobotRecord; secretHash: string } | undefined> {
    const row = await this.ctx.db.selectFrom('robots').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { robot: toRobotRecord(row), secretHash: row.secret_hash };
  }

  async touch(id: number, at: Date): Promise<void> {
    await this.ctx.db.updateTable('robots').set({ last_used_at: at.getTime() }).where('id', '=', id).execute();
  }
}
