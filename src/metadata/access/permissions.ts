// Role grants (subject × scope × role) and namespace visibility.
import type { Role } from '../../auth/types.ts';
import { belowNamespace, toDate, type AccessContext, type AccessTx } from './db.ts';
import type {
  NamespaceRecord,
  NamespaceStore,
  PermissionFilter,
  PermissionRecord,
  PermissionStore,
  RoleGrant,
  Scope,
  ScopeKind,
  Subject,
  SubjectFacts,
  SubjectKind,
} from './store.ts';

const SUBJECT_TABLE = { user: 'users', team: 'teams', robot: 'robots' } as const;

export async function subjectId(db: AccessTx, subject: Subject): Promise<number | undefined> {
  const row = await db.selectFrom(SUBJECT_TABLE[subject.kind]).select('id').where('name', '=', subject.name).executeTakeFirst();
  return row?.id;
}

export async function insertGrant(db: AccessTx, kind: SubjectKind, id: number, scope: Scope, role: Role, by: string | undefined): Promise<number> {
  const now = Date.now();
  const row = await db
    .insertInto('permissions')
    .values({ subject_kind: kind, subject_id: id, scope_kind: scope.kind, scope: scope.name, role, created_at: now, created_by: by ?? null })
    .onConflict((oc) => oc.columns(['subject_kind', 'subject_id', 'scope_kind', 'scope']).doUpdateSet({ role, created_at: now, created_by: by ?? null }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export class KyselyPermissionStore implements PermissionStore {
  constructor(private readonly ctx: AccessContext) {}

  async grant(subject: Subject, scope: Scope, role: Role, by?: string): Promise<PermissionRecord | undefined> {
    const id = await subjectId(this.ctx.db, subject);
    if (id === undefined) return undefined;
    return this.get(await insertGrant(this.ctx.db, subject.kind, id, scope, role, by));
  }

  async revoke(id: number): Promise<PermissionRecord | undefined> {
    const existing = await this.get(id);
    if (!existing) return undefined;
    const res = await this.ctx.db.deleteFrom('permissions').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0 ? existing : undefined;
  }

  async get(id: number): Promise<PermissionRecord | undefined> {
    return (await this.select((q) => q.where('p.id', '=', id)))[0];
  }

  async list(filter: PermissionFilter): Promise<PermissionRecord[]> {
    return this.select((q) => {
      let out = q;
      const scope = filter.scope;
      if (scope) {
        out = out.where((eb) => {
          const exact = eb.and([eb('p.scope_kind', '=', scope.kind), eb('p.scope', '=', scope.name)]);
          if (!scope.nested || scope.kind !== 'namespace') return exact;
          const { from, to } = belowNamespace(scope.name);
          return eb.or([exact, eb.and([eb('p.scope', '>=', from), eb('p.scope', '<', to)])]);
        });
      }
      const subject = filter.subject;
      if (subject) {
        const nameColumn = ({ user: 'u.name', team: 't.name', robot: 'r.name' } as const)[subject.kind];
        out = out.where('p.subject_kind', '=', subject.kind).where(nameColumn, '=', subject.name);
      }
      return out;
    });
  }

  /** Grants with their subjects' names, in a stable order (scope, then subject). */
  private async select(filter: (q: ReturnType<KyselyPermissionStore['base']>) => ReturnType<KyselyPermissionStore['base']>): Promise<PermissionRecord[]> {
    const rows = await filter(this.base()).orderBy('p.scope').orderBy('p.scope_kind').orderBy('p.subject_kind').orderBy('p.id').execute();
    return rows.flatMap((r) => {
      const name = r.user_name ?? r.team_name ?? r.robot_name;
      if (name === null) return []; // a grant whose subject is gone (never left behind by the store)
      return [
        {
          id: Number(r.id),
          subject: { kind: r.subject_kind as SubjectKind, name },
          scope: { kind: r.scope_kind as ScopeKind, name: r.scope },
          role: r.role as Role,
          createdAt: toDate(r.created_at),
          createdBy: r.created_by,
        },
      ];
    });
  }

  private base() {
    return this.ctx.db
      .selectFrom('permissions as p')
      .leftJoin('users as u', (j) => j.onRef('u.id', '=', 'p.subject_id').on('p.subject_kind', '=', 'user'))
      .leftJoin('teams as t', (j) => j.onRef('t.id', '=', 'p.subject_id').on('p.subject_kind', '=', 'team'))
      .leftJoin('robots as r', (j) => j.onRef('r.id', '=', 'p.subject_id').on('p.subject_kind', '=', 'robot'))
      .select(['p.id', 'p.subject_kind', 'p.scope_kind', 'p.scope', 'p.role', 'p.created_at', 'p.created_by', 'u.name as user_name', 't.name as team_name', 'r.name as robot_name']);
  }

  async facts(kind: 'user' | 'robot', name: string, extraTeams: string[]): Promise<SubjectFacts> {
    if (kind === 'robot') {
      const row = await this.ctx.db.selectFrom('robots').select(['id', 'disabled', 'namespace', 'expires_at']).where('name', '=', name).executeTakeFirst();
      if (!row) return { admin: false, disabled: false, teamIds: [] };
      // An expired robot is as good as disabled, also for bearer tokens issued before it expired.
      const expired = row.expires_at !== null && Number(row.expires_at) <= Date.now();
      return { id: row.id, admin: false, disabled: Number(row.disabled) === 1 || expired, teamIds: [], namespace: row.namespace };
    }
    const user = await this.ctx.db.selectFrom('users').select(['id', 'admin', 'disabled']).where('name', '=', name).executeTakeFirst();
    // Teams from the database and teams the principal names (LDAP groups at login), in one query.
    const teamIds =
      !user && extraTeams.length === 0
        ? []
        : await this.ctx.db
            .selectFrom('teams')
            .select('id')
            .where((eb) => {
              const or = [];
              if (user) or.push(eb('id', 'in', eb.selectFrom('team_members').select('team_id').where('user_id', '=', user.id)));
              if (extraTeams.length) or.push(eb('name', 'in', extraTeams));
              return eb.or(or);
            })
            .execute();
    return {
      ...(user && { id: user.id }),
      admin: Number(user?.admin ?? 0) === 1,
      disabled: Number(user?.disabled ?? 0) === 1,
      teamIds: teamIds.map((t) => t.id).sort((a, b) => a - b),
    };
  }

  async teamIds(names: string[]): Promise<number[]> {
    if (names.length === 0) return [];
    const rows = await this.ctx.db.selectFrom('teams').select('id').where('name', 'in', names).execute();
    return rows.map((r) => r.id);
  }

  async grantsOn(subjects: { kind: SubjectKind; id: number }[], scopes: Scope[]): Promise<RoleGrant[]> {
    if (subjects.length === 0 || scopes.length === 0) return [];
    const byKind = new Map<SubjectKind, number[]>();
    for (const s of subjects) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s.id]);
    const rows = await this.ctx.db
      .selectFrom('permissions')
      .select(['subject_kind', 'subject_id', 'scope_kind', 'scope', 'role'])
      .where('scope', 'in', [...new Set(scopes.map((s) => s.name))])
      .where((eb) => eb.or([...byKind].map(([kind, ids]) => eb.and([eb('subject_kind', '=', kind), eb('subject_id', 'in', ids)]))))
      .execute();
    const wanted = new Set(scopes.map((s) => `${s.kind}:${s.name}`));
    return rows
      .filter((r) => wanted.has(`${r.scope_kind}:${r.scope}`))
      .map((r) => ({ subjectKind: r.subject_kind as SubjectKind, subjectId: Number(r.subject_id), scope: { kind: r.scope_kind as ScopeKind, name: r.scope }, role: r.role as Role }));
  }
}

export class KyselyNamespaceStore implements NamespaceStore {
  constructor(private readonly ctx: AccessContext) {}

  async setVisibility(name: string, isPublic: boolean, by?: string): Promise<NamespaceRecord> {
    const now = Date.now();
    const values = { public: isPublic ? 1 : 0, updated_at: now, updated_by: by ?? null };
    const row = await this.ctx.db
      .insertInto('namespaces')
      .values({ name, ...values })
      .onConflict((oc) => oc.column('name').doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
    return { name: row.name, public: Number(row.public) === 1, updatedAt: toDate(row.updated_at), updatedBy: row.updated_by };
  }

  async get(name: string): Promise<NamespaceRecord | undefined> {
    const row = await this.ctx.db.selectFrom('namespaces').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { name: row.name, public: Number(row.public) === 1, updatedAt: toDate(row.updated_at), updatedBy: row.updated_by };
  }

  async list(): Promise<NamespaceRecord[]> {
    const rows = await this.ctx.db.selectFrom('namespaces').selectAll().orderBy('name').execute();
    return rows.map((row) => ({ name: row.name, public: Number(row.public) === 1, updatedAt: toDate(row.updated_at), updatedBy: row.updated_by }));
  }
}
