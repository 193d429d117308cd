// The access model's storage contract, separate from MetadataStore (which stays about images):
// who exists (users, teams, robots), what they may do (grants, namespace visibility), the
// credentials berth issues (personal access tokens, robot secrets; hashes only) and what happened
// (the audit log). One Kysely implementation serves SQLite and PostgreSQL (kysely-access-store.ts);
// the decisions built on it (roles, scope intersection, caching) live in src/auth/access/.
import type { Role, ScopeGrant } from '../../auth/types.ts';

export type UserSource = 'local' | 'ldap' | 'htpasswd';
export type SubjectKind = 'user' | 'team' | 'robot';
export type ScopeKind = 'namespace' | 'repository';

export interface UserRecord {
  id: number;
  name: string;
  displayName: string | null;
  email: string | null;
  source: UserSource;
  admin: boolean;
  disabled: boolean;
  /** A local password is set (the hash itself never leaves the store except through passwordHash()). */
  hasPassword: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

export interface NewUser {
  name: string;
  displayName?: string | null;
  email?: string | null;
  source: UserSource;
  admin?: boolean;
  disabled?: boolean;
  passwordHash?: string | null;
}

export type UserChanges = Partial<Pick<NewUser, 'displayName' | 'email' | 'admin' | 'disabled' | 'passwordHash'>>;

export interface ListOptions {
  /** Case-insensitive substring of the name (and display name / email for users). */
  query?: string;
  limit: number;
  /** Keyset pagination: names after this one (byte order). */
  after?: string;
}

export interface UserStore {
  /** undefined when the name is taken. */
  create(user: NewUser): Promise<UserRecord | undefined>;
  get(name: string): Promise<UserRecord | undefined>;
  list(options: ListOptions): Promise<UserRecord[]>;
  update(name: string, changes: UserChanges): Promise<UserRecord | undefined>;
  /** Removes the user with their grants, memberships and tokens. */
  delete(name: string): Promise<boolean>;
  /** The bcrypt hash of a local user's password, for the local password verifier. */
  passwordHash(name: string): Promise<string | undefined>;
  /**
   * A successful login from an external source (LDAP, htpasswd): creates the row on first login
   * and refreshes the profile and last login time; never touches admin or disabled.
   */
  recordLogin(name: string, source: UserSource, profile?: { displayName?: string; email?: string }): Promise<UserRecord>;
}

export interface TeamRecord {
  id: number;
  name: string;
  description: string | null;
  ldapGroup: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewTeam {
  name: string;
  description?: string | null;
  ldapGroup?: string | null;
}

export interface MemberRecord {
  user: string;
  displayName: string | null;
  /** Owned by the LDAP group sync. */
  ldapSync: boolean;
  addedAt: Date;
}

export type AddMemberResult = 'added' | 'exists' | 'no-team' | 'no-user';

export interface TeamStore {
  create(team: NewTeam): Promise<TeamRecord | undefined>;
  get(name: string): Promise<TeamRecord | undefined>;
  list(options: ListOptions): Promise<TeamRecord[]>;
  update(name: string, changes: Partial<Omit<NewTeam, 'name'>>): Promise<TeamRecord | undefined>;
  /** Removes the team with its memberships and grants. */
  delete(name: string): Promise<boolean>;
  members(team: string): Promise<MemberRecord[] | undefined>;
  addMember(team: string, user: string, options?: { ldapSync?: boolean }): Promise<AddMemberResult>;
  /** 'ldap' when the membership belongs to the LDAP sync and was left alone (unless force). */
  removeMember(team: string, user: string, options?: { force?: boolean }): Promise<'removed' | 'missing' | 'ldap'>;
  /** Names of the teams the user is a member of. */
  teamsOf(user: string): Promise<string[]>;
  /**
   * LDAP group sync: makes the sync-owned memberships of the team exactly `users` (creating
   * unknown users as source 'ldap'); memberships added by hand are left alone.
   */
  syncLdapMembers(team: string, users: string[]): Promise<{ added: string[]; removed: string[] } | undefined>;
}

export interface Subject {
  kind: SubjectKind;
  /** User or team name; for robots the name without `robot$`. */
  name: string;
}

export interface Scope {
  kind: ScopeKind;
  name: string;
}

export interface PermissionRecord {
  id: number;
  subject: Subject;
  scope: Scope;
  role: Role;
  createdAt: Date;
  createdBy: string | null;
}

/** A grant as the access controller needs it: subjects by id, no names. */
export interface RoleGrant {
  subjectKind: SubjectKind;
  subjectId: number;
  scope: Scope;
  role: Role;
}

/** What the controller needs to know about an authenticated user or robot, in one lookup. */
export interface SubjectFacts {
  /** The user or robot row; undefined when the principal has no row (e.g. an htpasswd user never recorded). */
  id?: number;
  admin: boolean;
  disabled: boolean;
  /** Ids of the teams: memberships in the database plus the named teams that exist. */
  teamIds: number[];
  /** Robots only: the namespace that owns it. */
  namespace?: string;
}

export interface PermissionFilter {
  /** Grants on exactly this scope; with `nested`, also on every namespace/repository below it. */
  scope?: Scope & { nested?: boolean };
  subject?: Subject;
}

export interface PermissionStore {
  /** Creates or changes the role of the subject on the scope; undefined when the subject does not exist. */
  grant(subject: Subject, scope: Scope, role: Role, by?: string): Promise<PermissionRecord | undefined>;
  /** Removes a grant, returning what it was. */
  revoke(id: number): Promise<PermissionRecord | undefined>;
  get(id: number): Promise<PermissionRecord | undefined>;
  list(filter: PermissionFilter): Promise<PermissionRecord[]>;
  /** The facts about a user (with its teams) or a robot. */
  facts(kind: 'user' | 'robot', name: string, extraTeams: string[]): Promise<SubjectFacts>;
  /** Team ids for names (e.g. an anonymous-free bearer token's teams without a user row). */
  teamIds(names: string[]): Promise<number[]>;
  /** Every grant of these subjects on these scopes: the one query behind an access decision. */
  grantsOn(subjects: { kind: SubjectKind; id: number }[], scopes: Scope[]): Promise<RoleGrant[]>;
}

export interface NamespaceRecord {
  name: string;
  public: boolean;
  updatedAt: Date;
  updatedBy: string | null;
}

export interface NamespaceStore {
  setVisibility(name: string, isPublic: boolean, by?: string): Promise<NamespaceRecord>;
  get(name: string): Promise<NamespaceRecord | undefined>;
  /** Namespaces with a visibility row, in byte order (a short list: one row per configured namespace). */
  list(): Promise<NamespaceRecord[]>;
}

export interface TokenRecord {
  id: number;
  user: string;
  name: string;
  hint: string;
  scopes: ScopeGrant[];
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

export interface NewToken {
  user: string;
  name: string;
  tokenHash: string;
  hint: string;
  scopes: ScopeGrant[];
  expiresAt?: Date | null;
}

export interface TokenStore {
  /** undefined when the user does not exist. */
  create(token: NewToken): Promise<TokenRecord | undefined>;
  list(user: string): Promise<TokenRecord[]>;
  get(id: number): Promise<TokenRecord | undefined>;
  /** Marks the token revoked (kept for the audit trail); false when unknown, not the user's, or already revoked. */
  revoke(user: string, id: number): Promise<boolean>;
  /** The token with this hash and its owner, whatever its state (the verifier decides). */
  byHash(tokenHash: string): Promise<{ token: TokenRecord; owner: UserRecord } | undefined>;
  touch(id: number, at: Date): Promise<void>;
}

export interface RobotRecord {
  id: number;
  /** The part after `robot$`. */
  name: string;
  namespace: string;
  description: string | null;
  hint: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  disabled: boolean;
  createdAt: Date;
  createdBy: string | null;
  rotatedAt: Date | null;
}

export interface NewRobot {
  name: string;
  namespace: string;
  description?: string | null;
  secretHash: string;
  hint: string;
  expiresAt?: Date | null;
  createdBy?: string;
  permissions: { scope: Scope; role: Role }[];
}

export interface RobotStore {
  /** Creates the robot and its grants in one transaction; undefined when the name is taken. */
  create(robot: NewRobot): Promise<RobotRecord | undefined>;
  get(name: string): Promise<RobotRecord | undefined>;
  list(options: { namespace?: string }): Promise<RobotRecord[]>;
  update(name: string, changes: { description?: string | null; disabled?: boolean; expiresAt?: Date | null }): Promise<RobotRecord | undefined>;
  /** Removes the robot and its grants. */
  delete(name: string): Promise<boolean>;
  /** Replaces the secret (the old one stops working at once). */
  rotate(name: string, secretHash: string, hint: string): Promise<RobotRecord | undefined>;
  /** The robot with its secret hash, for the verifier only. */
  withSecret(name: string): Promise<{ robot: RobotRecord; secretHash: string } | undefined>;
  touch(id: number, at: Date): Promise<void>;
}

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface AuditEventInput {
  time?: Date;
  actor: string;
  actorKind: 'user' | 'robot' | 'anonymous' | 'system';
  clientAddress?: string | null;
  /** login, login_failed, push, pull, delete, permission_change, token_created, ... */
  action: string;
  repository?: string | null;
  /** A tag or a digest. */
  reference?: string | null;
  outcome: AuditOutcome;
  details?: Record<string, unknown> | null;
}

export interface AuditEventRecord {
  id: number;
  time: Date;
  actor: string;
  actorKind: string;
  clientAddress: string | null;
  action: string;
  repository: string | null;
  reference: string | null;
  outcome: string;
  details: Record<string, unknown> | null;
}

export interface AuditFilter {
  actor?: string;
  repository?: string;
  /** Events on repositories below `namespace/`. */
  namespace?: string;
  action?: string;
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/** Keyset position: events strictly older than (time, id). */
export interface AuditCursor {
  time: number;
  id: number;
}

export interface AuditStore {
  insert(events: AuditEventInput[]): Promise<void>;
  /** Newest first. */
  query(filter: AuditFilter, page: { limit: number; before?: AuditCursor }): Promise<AuditEventRecord[]>;
  /** Retention: removes events older than `time`; returns how many. */
  deleteBefore(time: Date): Promise<number>;
}

export interface AccessStore {
  users: UserStore;
  teams: TeamStore;
  permissions: PermissionStore;
  namespaces: NamespaceStore;
  tokens: TokenStore;
  robots: RobotStore;
  audit: AuditStore;
}
