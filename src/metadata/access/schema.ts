// Table shapes of the access model (migration 0003_access_control), kept apart from the registry's
// tables in ../schema.ts: the queries here use `db.withTables<AccessTables>()` over the same Kysely
// instance, so MetadataStore's types do not grow with every auth table. Flags are 0/1 integers and
// times epoch milliseconds, so SQLite and PostgreSQL read them back the same way.
import type { Generated } from 'kysely';

export interface UsersTable {
  id: Generated<number>;
  name: string;
  display_name: string | null;
  email: string | null;
  /** 'local' | 'ldap' | 'htpasswd': where the identity lives (and where its password is checked). */
  source: string;
  admin: number;
  disabled: number;
  /** bcrypt hash, local users only; null = no password login (tokens only). */
  password_hash: string | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

export interface TeamsTable {
  id: Generated<number>;
  name: string;
  description: string | null;
  /** The LDAP group (DN or name) whose members the group sync mirrors into this team. */
  ldap_group: string | null;
  created_at: number;
  updated_at: number;
}

export interface TeamMembersTable {
  team_id: number;
  user_id: number;
  /** 1 when the LDAP group sync owns this membership (it adds and removes it; the API does not). */
  ldap_sync: number;
  created_at: number;
}

export interface NamespacesTable {
  name: string;
  public: number;
  updated_at: number;
  updated_by: string | null;
}

export interface PermissionsTable {
  id: Generated<number>;
  /** 'user' | 'team' | 'robot'; subject_id is the id in that table. */
  subject_kind: string;
  subject_id: number;
  /** 'namespace' (the repositories below `scope/`) | 'repository' (exactly `scope`). */
  scope_kind: string;
  scope: string;
  role: string;
  created_at: number;
  created_by: string | null;
}

export interface PersonalAccessTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** hex SHA-256 of the whole token string; the token itself is never stored. */
  token_hash: string;
  /** The first characters of the token, shown in lists so a user can tell tokens apart. */
  hint: string;
  /** JSON array of ScopeGrant. */
  scopes: string;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

export interface RobotsTable {
  id: Generated<number>;
  /** The part after `robot$`. */
  name: string;
  namespace: string;
  description: string | null;
  secret_hash: string;
  hint: string;
  expires_at: number | null;
  last_used_at: number | null;
  disabled: number;
  created_at: number;
  created_by: string | null;
  rotated_at: number | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  time: number;
  actor: string;
  actor_kind: string;
  client_address: string | null;
  action: string;
  repository: string | null;
  reference: string | null;
  outcome: string;
  details: string | null;
}

export interface AccessTables {
  users: UsersTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  namespaces: NamespacesTable;
  permissions: PermissionsTable;
  personal_access_tokens: PersonalAccessTokensTable;
  robots: RobotsTable;
  audit_events: AuditEventsTable;
}
