// Teams (organizations) and their memberships. A membership is either added by hand (API) or
// owned by the LDAP group sync (ldap_sync = 1); each side only ever removes its own, so a sync
// never undoes an administrator's decision and the API cannot fight the directory.
import type { Selectable, Updateable } from 'kysely';
import { containsText, toDate, type AccessContext, type AccessTx } from './db.ts';
import type { TeamsTable } from './schema.ts';
import type { AddMemberResult, ListOptions, MemberRecord, NewTeam, TeamRecord, TeamStore } from './store.ts';
import { deleteGrantsOf } from './users.ts';

function toTeamRecord(row: Selectable<TeamsTable>): TeamRecord {
  return {
    id: Number(row.id),
    name: row.name,
    description: row.description,
    ldapGroup: row.ldap_group,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

async function idOf(db: AccessTx, table: 'users' | 'teams', name: string): Promise<number | undefined> {
  const row = await db.selectFrom(table).select('id').where('name', '=', name).executeTakeFirst();
  return row?.id;
}

export class KyselyTeamStore implements TeamStore {
  constructor(private readonly ctx: AccessContext) {}

  async create(team: NewTeam): Promise<TeamRecord | undefined> {
    const now = Date.now();
    const row = await this.ctx.db
      .insertInto('teams')
      .values({ name: team.name, description: team.description ?? null, ldap_group: team.ldapGroup ?? null, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .returningAll()
      .executeTakeFirst();
    return row && toTeamRecord(row);
  }

  async get(name: string): Promise<TeamRecord | undefined> {
    const row = await this.ctx.db.selectFrom('teams').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toTeamRecord(row);
  }

  async list(options: ListOptions): Promise<TeamRecord[]> {
    let q = this.ctx.db.selectFrom('teams').selectAll();
    if (options.query) q = q.where(containsText('name', options.query));
    if (options.after !== undefined) q = q.where('name', '>', options.after);
    return (await q.orderBy('name').limit(options.limit).execute()).map(toTeamRecord);
  }

  async update(name: string, changes: Partial<Omit<NewTeam, 'name'>>): Promise<TeamRecord | undefined> {
    const set: Updateable<TeamsTable> = { updated_at: Date.now() };
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.ldapGroup !== undefined) set.ldap_group = changes.ldapGroup;
    const row = await this.ctx.db.updateTable('teams').set(set).where('name', '=', name).returningAll().executeTakeFirst();
    return row && toTeamRecord(row);
  }

  async delete(name: string): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (tx) => {
      const id = await idOf(tx, 'teams', name);
      if (id === undefined) return false;
      await deleteGrantsOf(tx, 'team', id);
      await tx.deleteFrom('team_members').where('team_id', '=', id).execute();
      await tx.deleteFrom('teams').where('id', '=', id).execute();
      return true;
    });
  }

  async members(team: string): Promise<MemberRecord[] | undefined> {
    const id = await idOf(this.ctx.db, 'teams', team);
    if (id === undefined) return undefined;
    const rows = await this.ctx.db
      .selectFrom('team_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['u.name', 'u.display_name', 'm.ldap_sync', 'm.created_at'])
      .where('m.team_id', '=', id)
      .orderBy('u.name')
      .execute();
    return rows.map((r) => ({ user: r.name, displayName: r.display_name, ldapSync: Number(r.ldap_sync) === 1, addedAt: toDate(r.created_at) }));
  }

  async addMember(team: string, user: string, options: { ldapSync?: boolean } = {}): Promise<AddMemberResult> {
    const teamId = await idOf(this.ctx.db, 'teams', team);
    if (teamId === undefined) return 'no-team';
    const userId = await idOf(this.ctx.db, 'users', user);
    if (userId === undefined) return 'no-user';
    const inserted = await this.ctx.db
      .insertInto('team_members')
      .values({ team_id: teamId, user_id: userId, ldap_sync: options.ldapSync ? 1 : 0, created_at: Date.now() })
      .onConflict((oc) => oc.columns(['team_id', 'user_id']).doNothing())
      .returning('team_id')
      .executeTakeFirst();
    return inserted ? 'added' : 'exists';
  }

  async removeMember(team: string, user: string, options: { force?: boolean } = {}): Promise<'removed' | 'missing' | 'ldap'> {
    const row = await this.ctx.db
      .selectFrom('team_members as m')
      .innerJoin('teams as t', 't.id', 'm.team_id')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.team_id', 'm.user_id', 'm.ldap_sync'])
      .where('t.name', '=', team)
      .where('u.name', '=', user)
      .executeTakeFirst();
    if (!row) return 'missing';
    if (Number(row.ldap_sync) === 1 && !options.force) return 'ldap';
    await this.ctx.db.deleteFrom('team_members').where('team_id', '=', row.team_id).where('user_id', '=', row.user_id).execute();
    return 'removed';
  }

  async teamsOf(user: string): Promise<string[]> {
    const rows = await this.ctx.db
      .selectFrom('team_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .innerJoin('teams as t', 't.id', 'm.team_id')
      .select('t.name')
      .where('u.name', '=', user)
      .orderBy('t.name')
      .execute();
    return rows.map((r) => r.name);
  }

  async syncLdapMembers(team: string, users: string[]): Promise<{ added: string[]; removed: string[] } | undefined> {
    const wanted = new Set(users);
    return this.ctx.db.transaction().execute(async (tx) => {
      const teamId = await idOf(tx, 'teams', team);
      if (teamId === undefined) return undefined;
      const current = await tx
        .selectFrom('team_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['u.id', 'u.name', 'm.ldap_sync'])
        .where('m.team_id', '=', teamId)
        .execute();
      const present = new Map(current.map((r) => [r.name, r]));
      const now = Date.now();
      const added: string[] = [];
      for (const name of [...wanted].sort()) {
        if (present.has(name)) continue; // already a member, by hand or by sync: nothing to add
        const userId =
          (await idOf(tx, 'users', name)) ??
          (
            await tx
              .insertInto('users')
              .values({ name, display_name: null, email: null, source: 'ldap', admin: 0, disabled: 0, password_hash: null, created_at: now, updated_at: now, last_login_at: null })
              .onConflict((oc) => oc.column('name').doUpdateSet({ updated_at: now }))
              .returning('id')
              .executeTakeFirstOrThrow()
          ).id;
        // Another replica's sync may add the same row meanwhile: the first one wins, quietly.
        await tx
          .insertInto('team_members')
          .values({ team_id: teamId, user_id: userId, ldap_sync: 1, created_at: now })
          .onConflict((oc) => oc.columns(['team_id', 'user_id']).doNothing())
          .execute();
        added.push(name);
      }
      const removed = current.filter((r) => Number(r.ldap_sync) === 1 && !wanted.has(r.name));
      if (removed.length) {
        await tx
          .deleteFrom('team_members')
          .where('team_id', '=', teamId)
          .where('user_id', 'in', removed.map((r) => r.id))
          .execute();
      }
      return { added, removed: removed.map((r) => r.name).sort() };
    });
  }
}
