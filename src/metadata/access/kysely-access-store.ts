// The access model over the metadata store's own Kysely instance (same pool or SQLite handle, same
// migrations), so `store.access` needs no second connection and closes with the store.
import type { Kysely } from 'kysely';
import { KyselyAuditStore } from './audit.ts';
import type { AccessContext } from './db.ts';
import { KyselyNamespaceStore, KyselyPermissionStore } from './permissions.ts';
import type { AccessTables } from './schema.ts';
import type { AccessStore } from './store.ts';
import { KyselyTeamStore } from './teams.ts';
import { KyselyRobotStore, KyselyTokenStore } from './tokens.ts';
import { KyselyUserStore } from './users.ts';

export class KyselyAccessStore implements AccessStore {
  readonly users: KyselyUserStore;
  readonly teams: KyselyTeamStore;
  readonly permissions: KyselyPermissionStore;
  readonly namespaces: KyselyNamespaceStore;
  readonly tokens: KyselyTokenStore;
  readonly robots: KyselyRobotStore;
  readonly audit: KyselyAuditStore;

  // Any Kysely whose database has been migrated: the registry tables' type is irrelevant here.
  // Every statement is the same on SQLite and PostgreSQL, so no dialect is needed.
  constructor(db: Kysely<any>) {
    const ctx: AccessContext = { db: db as Kysely<AccessTables> };
    this.users = new KyselyUserStore(ctx);
    this.teams = new KyselyTeamStore(ctx);
    this.permissions = new KyselyPermissionStore(ctx);
    this.namespaces = new KyselyNamespaceStore(ctx);
    this.tokens = new KyselyTokenStore(ctx);
    this.robots = new KyselyRobotStore(ctx);
    this.audit = new KyselyAuditStore(ctx);
  }
}
