// /api/v1/permissions and /api/v1/namespaces: role grants on namespaces and repositories, and
// namespace visibility. An admin of a namespace (or site administrator) manages what is inside
// it; nobody grants on a scope they do not administer, so a user cannot raise their own role and
// a namespace admin cannot reach into another namespace.
import type { PermissionFilter, Scope } from '../../../metadata/access/store.ts';
import type { AdminContext } from './context.ts';
import { ApiError, denied, notFound, validate } from './http.ts';
import type { Route } from './router.ts';
import { grant, namespaceName, permissionQuery, robotName, showNamespace, showPermission, visibility } from './schemas.ts';
import { ROBOT_PREFIX } from '../controller.ts';
import { grantRole, revokeGrant, setNamespaceVisibility } from './operations.ts';

async function list(ctx: AdminContext): Promise<void> {
  const q = ctx.query(permissionQuery);
  if (q.namespace !== undefined && q.repository !== undefined) throw new ApiError('INVALID', 'give namespace or repository, not both');
  const subjects = [q.user, q.team, q.robot].filter((s) => s !== undefined);
  if (subjects.length > 1) throw new ApiError('INVALID', 'give at most one of user, team, robot');
  const filter: PermissionFilter = {};
  const scope: Scope | undefined = q.namespace !== undefined ? { kind: 'namespace', name: q.namespace } : q.repository !== undefined ? { kind: 'repository', name: q.repository } : undefined;
  if (scope) filter.scope = { ...scope, nested: q.nested === 'true' };
  if (q.user !== undefined) filter.subject = { kind: 'user', name: q.user };
  if (q.team !== undefined) filter.subject = { kind: 'team', name: q.team };
  if (q.robot !== undefined) filter.subject = { kind: 'robot', name: validate(robotName, q.robot.startsWith(ROBOT_PREFIX) ? q.robot.slice(ROBOT_PREFIX.length) : q.robot) };

  // The result is a subset of what the scope holds, so administering the scope is enough;
  // without a scope, the caller must be entitled to see every grant of that subject.
  if (scope) await ctx.requireAdminOf(scope);
  else if (!(await ctx.isSiteAdmin())) {
    const s = filter.subject;
    if (!s) throw denied('site administrators only (or filter by a namespace or repository you administer)');
    if (s.kind === 'user' && !ctx.isSelf(s.name)) throw denied();
    if (s.kind === 'team' && !(await ctx.store.teams.teamsOf(ctx.principal.name)).includes(s.name)) throw denied();
    if (s.kind === 'robot') {
      const robot = await ctx.store.robots.get(s.name);
      if (!robot) throw notFound('robot');
      await ctx.requireAdminOf({ kind: 'namespace', name: robot.namespace });
    }
  }
  ctx.send(200, { permissions: (await ctx.store.permissions.list(filter)).map(showPermission) });
}

async function create(ctx: AdminContext): Promise<void> {
  const body = await ctx.body(grant);
  await ctx.requireAdminOf(body.scope);
  const p = await grantRole(ctx, body);
  ctx.send(201, { permission: showPermission(p) });
}

async function remove(ctx: AdminContext): Promise<void> {
  const id = Number(ctx.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new ApiError('INVALID', 'id: not a permission id');
  const p = await ctx.store.permissions.get(id);
  // Unknown and not-yours look the same to someone who administers nothing there.
  if (!p || !(await ctx.canAdminister(p.scope))) throw p ? denied(`requires the admin role on ${p.scope.kind} ${p.scope.name}`) : notFound('permission');
  await revokeGrant(ctx, p);
  ctx.send(204, null);
}

async function listNamespaces(ctx: AdminContext): Promise<void> {
  ctx.send(200, { namespaces: (await ctx.store.namespaces.list()).map(showNamespace) });
}

async function getNamespace(ctx: AdminContext): Promise<void> {
  const name = validate(namespaceName, ctx.params.namespace);
  const row = await ctx.store.namespaces.get(name);
  const role = await ctx.services.controller.roleOn(ctx.principal, { kind: 'namespace', name });
  ctx.send(200, {
    namespace: row ? showNamespace(row) : { name, visibility: 'private', updatedAt: null, updatedBy: null },
    yourRole: role ?? null,
    canAdminister: await ctx.canAdminister({ kind: 'namespace', name }),
  });
}

async function setVisibility(ctx: AdminContext): Promise<void> {
  const name = validate(namespaceName, ctx.params.namespace);
  await ctx.requireAdminOf({ kind: 'namespace', name });
  const body = await ctx.body(visibility);
  const row = await setNamespaceVisibility(ctx, name, body.visibility);
  ctx.send(200, { namespace: showNamespace(row) });
}

export const permissionRoutes: Route[] = [
  { method: 'GET', path: '/permissions', handler: list },
  { method: 'POST', path: '/permissions', action: 'permission_change', handler: create },
  { method: 'DELETE', path: '/permissions/:id', action: 'permission_change', handler: remove },
  { method: 'GET', path: '/namespaces', handler: listNamespaces },
  { method: 'GET', path: '/namespaces/*namespace', handler: getNamespace },
  { method: 'PUT', path: '/namespaces/*namespace', action: 'visibility_change', handler: setVisibility },
];
