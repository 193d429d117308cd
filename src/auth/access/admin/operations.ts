// The changes the admin API and the web console's administration pages make, in one place: the
// rules beyond input validation (who may not lock themselves out, what a robot may hold, which
// users may have a password), the store calls, and the audit record of each change. Callers check
// authorization first (the API per route, the console by its site-admin gate) and validate input
// with the zod schemas of schemas.ts; an operation that refuses throws an AccessRuleError: an
// ApiError (the API sends it unchanged) with a `reason` the console translates.
import type { AccessStore, AuditEventInput, NamespaceRecord, PermissionRecord, RobotRecord, Scope, Subject, TeamRecord, TokenRecord, UserRecord } from '../../../metadata/access/store.ts';
import type { Principal, Role, ScopeGrant } from '../../types.ts';
import { ROBOT_PREFIX } from '../controller.ts';
import { hashPassword } from '../local-verifier.ts';
import { isWithin } from '../roles.ts';
import { newSecret, PAT_PREFIX, ROBOT_SECRET_PREFIX } from '../secrets.ts';
import { ApiError, type ApiErrorCode } from './http.ts';

export type AccessRuleReason =
  | 'password-not-local'
  | 'user-exists'
  | 'user-not-found'
  | 'self-lockout'
  | 'self-disable'
  | 'self-delete'
  | 'team-exists'
  | 'team-not-found'
  | 'membership-not-found'
  | 'membership-ldap'
  | 'subject-not-found'
  | 'robot-exists'
  | 'robot-not-found'
  | 'robot-outside-namespace'
  | 'robot-admin-role'
  | 'token-not-found';

export class AccessRuleError extends ApiError {
  constructor(
    code: ApiErrorCode,
    message: string,
    readonly reason: AccessRuleReason,
  ) {
    super(code, message);
  }
}

const missing = (what: string, reason: AccessRuleReason) => new AccessRuleError('NOT_FOUND', `${what} not found`, reason);

export type ChangeEvent = Omit<AuditEventInput, 'actor' | 'actorKind' | 'clientAddress' | 'outcome'> & { outcome?: AuditEventInput['outcome'] };

/** Who makes a change: the admin API's AdminContext is one, the console builds another. */
export interface ChangeActor {
  readonly principal: Principal;
  readonly store: AccessStore;
  /** Records the change in the audit log (actor, address, outcome success) and drops the caches. */
  changed(event: ChangeEvent): void;
}

function isSelf(actor: ChangeActor, name: string): boolean {
  return actor.principal.kind === 'user' && actor.principal.name === name;
}

/** Creating credentials needs a full sign-in: a scoped token must not mint a broader one. */
export function mayCreateCredentials(principal: Principal): boolean {
  return principal.restrictedTo === undefined && principal.via !== 'pat';
}

// ---- users

export interface NewUserInput {
  name: string;
  displayName?: string | null | undefined;
  email?: string | null | undefined;
  source: 'local' | 'ldap' | 'htpasswd';
  admin: boolean;
  disabled: boolean;
  password?: string | undefined;
}

export async function createUserAccount(actor: ChangeActor, body: NewUserInput, bcryptRounds?: number): Promise<UserRecord> {
  if (body.password !== undefined && body.source !== 'local') throw new AccessRuleError('INVALID', 'password: only local users have a password here', 'password-not-local');
  const passwordHash = body.password === undefined ? null : await hashPassword(body.password, bcryptRounds);
  const user = await actor.store.users.create({ ...body, passwordHash });
  if (!user) throw new AccessRuleError('CONFLICT', 'a user with this name exists', 'user-exists');
  actor.changed({ action: 'user_created', details: { user: user.name, source: user.source, admin: user.admin } });
  return user;
}

export interface UserUpdateInput {
  displayName?: string | null | undefined;
  email?: string | null | undefined;
  admin?: boolean | undefined;
  disabled?: boolean | undefined;
  /** null removes the password (tokens only). */
  password?: string | null | undefined;
}

export async function updateUserAccount(actor: ChangeActor, name: string, body: UserUpdateInput, bcryptRounds?: number): Promise<UserRecord> {
  // Guard against locking oneself out: another administrator has to do that.
  if (isSelf(actor, name) && (body.admin === false || body.disabled === true)) throw new AccessRuleError('CONFLICT', 'you cannot remove your own admin rights or disable yourself', 'self-lockout');
  const existing = await actor.store.users.get(name);
  if (!existing) throw missing('user', 'user-not-found');
  if (body.password && existing.source !== 'local') throw new AccessRuleError('INVALID', 'password: only local users have a password here', 'password-not-local');
  const { password, ...rest } = body;
  const passwordHash = password === undefined ? undefined : password === null ? null : await hashPassword(password, bcryptRounds);
  const user = await actor.store.users.update(name, { ...rest, ...(passwordHash !== undefined && { passwordHash }) });
  if (!user) throw missing('user', 'user-not-found');
  // Field names only: the audit log learns that a password changed, never what to.
  actor.changed({ action: 'user_updated', details: { user: name, fields: Object.keys(body), ...(body.admin !== undefined && { admin: body.admin }), ...(body.disabled !== undefined && { disabled: body.disabled }) } });
  return user;
}

export async function setUserDisabled(actor: ChangeActor, name: string, disabled: boolean): Promise<UserRecord> {
  if (isSelf(actor, name) && disabled) throw new AccessRuleError('CONFLICT', 'you cannot disable yourself', 'self-disable');
  const user = await actor.store.users.update(name, { disabled });
  if (!user) throw missing('user', 'user-not-found');
  actor.changed({ action: 'user_updated', details: { user: name, disabled } });
  return user;
}

export async function deleteUserAccount(actor: ChangeActor, name: string): Promise<void> {
  if (isSelf(actor, name)) throw new AccessRuleError('CONFLICT', 'you cannot delete yourself', 'self-delete');
  if (!(await actor.store.users.delete(name))) throw missing('user', 'user-not-found');
  actor.changed({ action: 'user_deleted', details: { user: name } });
}

// ---- teams and memberships

export async function createTeamRecord(actor: ChangeActor, body: { name: string; description?: string | null | undefined; ldapGroup?: string | null | undefined }): Promise<TeamRecord> {
  const team = await actor.store.teams.create(body);
  if (!team) throw new AccessRuleError('CONFLICT', 'a team with this name exists', 'team-exists');
  actor.changed({ action: 'team_created', details: { team: team.name } });
  return team;
}

export async function updateTeamRecord(actor: ChangeActor, name: string, body: { description?: string | null | undefined; ldapGroup?: string | null | undefined }): Promise<TeamRecord> {
  const team = await actor.store.teams.update(name, body);
  if (!team) throw missing('team', 'team-not-found');
  actor.changed({ action: 'team_updated', details: { team: name } });
  return team;
}

export async function deleteTeamRecord(actor: ChangeActor, name: string): Promise<void> {
  if (!(await actor.store.teams.delete(name))) throw missing('team', 'team-not-found');
  actor.changed({ action: 'team_deleted', details: { team: name } });
}

/** 'added', or 'exists' when the user already was a member (nothing recorded then). */
export async function addTeamMember(actor: ChangeActor, team: string, user: string): Promise<'added' | 'exists'> {
  const result = await actor.store.teams.addMember(team, user);
  if (result === 'no-team') throw missing('team', 'team-not-found');
  if (result === 'no-user') throw missing('user', 'user-not-found');
  if (result === 'added') actor.changed({ action: 'membership_change', details: { op: 'add', team, user } });
  return result;
}

/** Memberships owned by the LDAP group sync stay (the next sync would add them back) unless force. */
export async function removeTeamMember(actor: ChangeActor, team: string, user: string, force: boolean): Promise<void> {
  const result = await actor.store.teams.removeMember(team, user, { force });
  if (result === 'missing') throw missing('membership', 'membership-not-found');
  if (result === 'ldap') throw new AccessRuleError('CONFLICT', 'this membership is managed by the LDAP group sync; change the group in the directory (or pass force=true)', 'membership-ldap');
  actor.changed({ action: 'membership_change', details: { op: 'remove', team, user, ...(force && { force }) } });
}

// ---- grants and namespace visibility

/** Grants (or changes) a role; the caller has checked that the actor administers the scope. */
export async function grantRole(actor: ChangeActor, body: { subject: Subject; scope: Scope; role: Role }): Promise<PermissionRecord> {
  if (body.subject.kind === 'robot') {
    const robot = await actor.store.robots.get(body.subject.name);
    if (!robot) throw missing('robot', 'robot-not-found');
    if (!isWithin(body.scope.name, robot.namespace)) throw new AccessRuleError('INVALID', `a robot of namespace ${robot.namespace} can only be granted roles inside it`, 'robot-outside-namespace');
    if (body.role === 'admin') throw new AccessRuleError('INVALID', 'robots cannot hold the admin role', 'robot-admin-role');
  }
  const p = await actor.store.permissions.grant(body.subject, body.scope, body.role, actor.principal.name);
  if (!p) throw missing(body.subject.kind, 'subject-not-found');
  actor.changed({
    action: 'permission_change',
    ...(body.scope.kind === 'repository' && { repository: body.scope.name }),
    details: { op: 'grant', subject: body.subject, scope: body.scope, role: body.role },
  });
  return p;
}

/** Removes a grant the caller looked up (and is entitled to manage). */
export async function revokeGrant(actor: ChangeActor, p: PermissionRecord): Promise<void> {
  await actor.store.permissions.revoke(p.id);
  actor.changed({
    action: 'permission_change',
    ...(p.scope.kind === 'repository' && { repository: p.scope.name }),
    details: { op: 'revoke', subject: p.subject, scope: p.scope, role: p.role },
  });
}

export async function setNamespaceVisibility(actor: ChangeActor, name: string, visibility: 'public' | 'private'): Promise<NamespaceRecord> {
  const row = await actor.store.namespaces.setVisibility(name, visibility === 'public', actor.principal.name);
  actor.changed({ action: 'visibility_change', details: { namespace: name, visibility } });
  return row;
}

// ---- robot accounts

export interface NewRobotInput {
  name: string;
  namespace: string;
  description?: string | null | undefined;
  expiresAt?: Date | null | undefined;
  permissions: { namespace?: string | undefined; repository?: string | undefined; role: 'read' | 'write' | 'delete' }[];
}

/** The robot and its secret (shown once, never stored). */
export async function createRobotAccount(actor: ChangeActor, body: NewRobotInput): Promise<{ robot: RobotRecord; secret: string }> {
  const permissions = body.permissions.map((p) => {
    const scope: Scope = p.namespace !== undefined ? { kind: 'namespace', name: p.namespace } : { kind: 'repository', name: p.repository! };
    if (!isWithin(scope.name, body.namespace)) throw new AccessRuleError('INVALID', `permissions: ${scope.name} is outside namespace ${body.namespace}`, 'robot-outside-namespace');
    return { scope, role: p.role };
  });
  const secret = newSecret(ROBOT_SECRET_PREFIX);
  const robot = await actor.store.robots.create({
    name: body.name,
    namespace: body.namespace,
    description: body.description ?? null,
    secretHash: secret.hash,
    hint: secret.hint,
    expiresAt: body.expiresAt ?? null,
    createdBy: actor.principal.name,
    permissions,
  });
  if (!robot) throw new AccessRuleError('CONFLICT', 'a robot with this name exists', 'robot-exists');
  actor.changed({ action: 'robot_created', details: { robot: `${ROBOT_PREFIX}${robot.name}`, namespace: robot.namespace, permissions } });
  return { robot, secret: secret.secret };
}

export async function updateRobotAccount(actor: ChangeActor, robot: RobotRecord, body: { description?: string | null | undefined; disabled?: boolean | undefined; expiresAt?: Date | null | undefined }): Promise<RobotRecord> {
  const updated = await actor.store.robots.update(robot.name, body);
  if (!updated) throw missing('robot', 'robot-not-found');
  actor.changed({ action: 'robot_updated', details: { robot: `${ROBOT_PREFIX}${robot.name}`, fields: Object.keys(body) } });
  return updated;
}

export async function deleteRobotAccount(actor: ChangeActor, robot: RobotRecord): Promise<void> {
  await actor.store.robots.delete(robot.name);
  actor.changed({ action: 'robot_deleted', details: { robot: `${ROBOT_PREFIX}${robot.name}`, namespace: robot.namespace } });
}

/** A new secret; the old one stops working at once. */
export async function rotateRobotSecret(actor: ChangeActor, robot: RobotRecord): Promise<{ robot: RobotRecord; secret: string }> {
  const secret = newSecret(ROBOT_SECRET_PREFIX);
  const updated = await actor.store.robots.rotate(robot.name, secret.hash, secret.hint);
  if (!updated) throw missing('robot', 'robot-not-found');
  actor.changed({ action: 'robot_rotated', details: { robot: `${ROBOT_PREFIX}${robot.name}` } });
  return { robot: updated, secret: secret.secret };
}

// ---- personal access tokens

/** Sources whose users may be recorded on first use (they logged in, so they exist upstream). */
const RECORDABLE = new Set(['ldap', 'htpasswd']);

/** A token for the actor's own account, and its secret (shown once, never stored). */
export async function createAccessToken(
  actor: ChangeActor,
  user: string,
  body: { name: string; scopes: ScopeGrant[]; expiresAt?: Date | null | undefined },
): Promise<{ token: TokenRecord; secret: string }> {
  if (!(await actor.store.users.get(user))) {
    // A directory user who never had a row (the login hook may not record them): record now.
    if (!RECORDABLE.has(actor.principal.via)) throw missing('user', 'user-not-found');
    await actor.store.users.recordLogin(user, actor.principal.via as 'ldap' | 'htpasswd');
  }
  const secret = newSecret(PAT_PREFIX);
  const token = await actor.store.tokens.create({ user, name: body.name, tokenHash: secret.hash, hint: secret.hint, scopes: body.scopes, expiresAt: body.expiresAt ?? null });
  if (!token) throw missing('user', 'user-not-found');
  actor.changed({ action: 'token_created', details: { tokenId: token.id, name: token.name, scopes: token.scopes, expiresAt: token.expiresAt } });
  return { token, secret: secret.secret };
}

export async function revokeAccessToken(actor: ChangeActor, user: string, id: number): Promise<void> {
  if (!(await actor.store.tokens.revoke(user, id))) throw missing('active token', 'token-not-found');
  actor.changed({ action: 'token_revoked', details: { tokenId: id, user } });
}
