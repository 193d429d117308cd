// Input shapes of the admin API (zod), and the output shapes: records as the API shows them,
// never with ids of other tables, hashes or secrets.
import { z } from 'zod';
import { isValidName } from '../../../oci/reference.ts';
import type { NamespaceRecord, PermissionRecord, RobotRecord, TeamRecord, TokenRecord, UserRecord } from '../../../metadata/access/store.ts';
import { ROBOT_PREFIX } from '../controller.ts';
import { MAX_PASSWORD_BYTES } from '../local-verifier.ts';

/** No ':' (Basic auth separator), no '$' (robots), no '/' (paths); LDAP names keep case and dots. */
export const userName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'letters, digits, . _ @ - (up to 128), starting with a letter or digit');
export const teamName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, . _ - (up to 64)');
export const robotName = z.string().regex(/^[a-z0-9][a-z0-9._+-]{0,63}$/, 'lower-case letters, digits, . _ + - (up to 64)');
export const repositoryName = z.string().refine(isValidName, 'not a valid repository name');
export const namespaceName = repositoryName;
export const role = z.enum(['read', 'write', 'delete', 'admin']);
const text = (max: number) => z.string().max(max);
const password = z
  .string()
  .min(8, 'at least 8 characters')
  .refine((p) => Buffer.byteLength(p, 'utf8') <= MAX_PASSWORD_BYTES, `at most ${MAX_PASSWORD_BYTES} bytes`);
/** A future instant, ISO 8601; null = never expires. */
export const expiry = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine((d) => d.getTime() > Date.now(), 'must be in the future')
  .nullable();

export const listQuery = z.strictObject({
  q: text(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  after: text(255).optional(),
});

export const createUser = z.strictObject({
  name: userName,
  displayName: text(255).nullable().optional(),
  email: z.email().max(320).nullable().optional(),
  source: z.enum(['local', 'ldap', 'htpasswd']).default('local'),
  admin: z.boolean().default(false),
  disabled: z.boolean().default(false),
  password: password.optional(),
});

export const updateUser = z.strictObject({
  displayName: text(255).nullable().optional(),
  email: z.email().max(320).nullable().optional(),
  admin: z.boolean().optional(),
  disabled: z.boolean().optional(),
  /** null removes the password (tokens only). */
  password: password.nullable().optional(),
});

export const createTeam = z.strictObject({
  name: teamName,
  description: text(1000).nullable().optional(),
  ldapGroup: text(1000).nullable().optional(),
});
export const updateTeam = createTeam.omit({ name: true });

export const subject = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('user'), name: userName }),
  z.strictObject({ kind: z.literal('team'), name: teamName }),
  z.strictObject({ kind: z.literal('robot'), name: z.string().transform((n) => (n.startsWith(ROBOT_PREFIX) ? n.slice(ROBOT_PREFIX.length) : n)).pipe(robotName) }),
]);
export const scope = z.strictObject({ kind: z.enum(['namespace', 'repository']), name: repositoryName });

export const grant = z.strictObject({ subject, scope, role });

export const permissionQuery = z.strictObject({
  namespace: namespaceName.optional(),
  nested: z.enum(['true', 'false']).optional(),
  repository: repositoryName.optional(),
  user: userName.optional(),
  team: teamName.optional(),
  robot: z.string().max(300).optional(),
});

export const visibility = z.strictObject({ visibility: z.enum(['public', 'private']) });

/** `repository:<name>:<actions>` scopes of a token: exact names, `ns/*` or `*`. */
const scopeName = z.string().refine((n) => n === '*' || isValidName(n.endsWith('/*') ? n.slice(0, -2) : n), 'a repository name, <namespace>/* or *');
export const tokenScope = z.strictObject({
  type: z.literal('repository'),
  name: scopeName,
  actions: z.array(z.enum(['pull', 'push', 'delete', '*'])).min(1).max(4),
});

export const createToken = z.strictObject({
  name: z.string().min(1).max(100).regex(/^[\x20-\x7e]+$/, 'printable ASCII'),
  scopes: z.array(tokenScope).min(1).max(50),
  expiresAt: expiry.optional(),
});

export const robotPermission = z
  .strictObject({ namespace: namespaceName.optional(), repository: repositoryName.optional(), role: z.enum(['read', 'write', 'delete']) })
  .refine((p) => (p.namespace === undefined) !== (p.repository === undefined), 'give exactly one of namespace or repository');

export const createRobot = z.strictObject({
  name: z.string().transform((n) => (n.startsWith(ROBOT_PREFIX) ? n.slice(ROBOT_PREFIX.length) : n)).pipe(robotName),
  namespace: namespaceName,
  description: text(1000).nullable().optional(),
  expiresAt: expiry.optional(),
  permissions: z.array(robotPermission).min(1).max(100),
});

export const updateRobot = z.strictObject({
  description: text(1000).nullable().optional(),
  disabled: z.boolean().optional(),
  expiresAt: expiry.optional(),
});

export const auditQuery = z.strictObject({
  actor: text(255).optional(),
  repository: repositoryName.optional(),
  namespace: namespaceName.optional(),
  action: text(32).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: text(100).optional(),
});

export function showUser(u: UserRecord) {
  return {
    name: u.name,
    displayName: u.displayName,
    email: u.email,
    source: u.source,
    admin: u.admin,
    disabled: u.disabled,
    hasPassword: u.hasPassword,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
    lastLoginAt: u.lastLoginAt,
  };
}

/** What any signed-in user may see of another (to pick them in a grant dialog). */
export function showUserBrief(u: UserRecord) {
  return { name: u.name, displayName: u.displayName };
}

export function showTeam(t: TeamRecord) {
  return { name: t.name, description: t.description, ldapGroup: t.ldapGroup, createdAt: t.createdAt, updatedAt: t.updatedAt };
}

export function showPermission(p: PermissionRecord) {
  const name = p.subject.kind === 'robot' ? `${ROBOT_PREFIX}${p.subject.name}` : p.subject.name;
  return { id: p.id, subject: { kind: p.subject.kind, name }, scope: p.scope, role: p.role, createdAt: p.createdAt, createdBy: p.createdBy };
}

export function showNamespace(n: NamespaceRecord) {
  return { name: n.name, visibility: n.public ? 'public' : 'private', updatedAt: n.updatedAt, updatedBy: n.updatedBy };
}

export function showToken(t: TokenRecord, now = Date.now()) {
  const state = t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt.getTime() <= now ? 'expired' : 'active';
  return { id: t.id, user: t.user, name: t.name, hint: `${t.hint}…`, scopes: t.scopes, state, expiresAt: t.expiresAt, lastUsedAt: t.lastUsedAt, revokedAt: t.revokedAt, createdAt: t.createdAt };
}

export function showRobot(r: RobotRecord) {
  return {
    name: `${ROBOT_PREFIX}${r.name}`,
    namespace: r.namespace,
    description: r.description,
    hint: `${r.hint}…`,
    disabled: r.disabled,
    expiresAt: r.expiresAt,
    lastUsedAt: r.lastUsedAt,
    createdAt: r.createdAt,
    createdBy: r.createdBy,
    rotatedAt: r.rotatedAt,
  };
}
