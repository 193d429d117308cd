// /api/v1/users: site administrators manage accounts; every signed-in user may look people up by
// name (to pick them in a grant dialog) and edit their own profile.
import { hashPassword } from '../local-verifier.ts';
import type { AdminContext } from './context.ts';
import { ApiError, denied, notFound, validate } from './http.ts';
import type { Route } from './router.ts';
import { createUser, listQuery, showUser, showUserBrief, updateUser, userName } from './schemas.ts';

function nameParam(ctx: AdminContext): string {
  return validate(userName, ctx.params.name);
}

async function listUsers(ctx: AdminContext): Promise<void> {
  const q = ctx.query(listQuery);
  const rows = await ctx.store.users.list({ ...(q.q && { query: q.q }), limit: q.limit, ...(q.after && { after: q.after }) });
  const full = await ctx.isSiteAdmin();
  // Others see names only, and can search by name only (not by e-mail address).
  const visible = full || !q.q ? rows : rows.filter((u) => u.name.toLowerCase().includes(q.q!.toLowerCase()) || u.displayName?.toLowerCase().includes(q.q!.toLowerCase()));
  const last = rows[rows.length - 1];
  ctx.send(200, { users: visible.map(full ? showUser : showUserBrief), next: rows.length === q.limit && last ? last.name : null });
}

async function getUser(ctx: AdminContext): Promise<void> {
  const name = nameParam(ctx);
  await ctx.requireSelfOrSiteAdmin(name);
  const user = await ctx.store.users.get(name);
  if (!user) throw notFound('user');
  ctx.send(200, { user: showUser(user), teams: await ctx.store.teams.teamsOf(name) });
}

async function create(ctx: AdminContext): Promise<void> {
  await ctx.requireSiteAdmin();
  const body = await ctx.body(createUser);
  if (body.password !== undefined && body.source !== 'local') throw new ApiError('INVALID', 'password: only local users have a password here');
  const passwordHash = body.password === undefined ? null : await hashPassword(body.password, ctx.deps.bcryptRounds);
  const user = await ctx.store.users.create({ ...body, passwordHash });
  if (!user) throw new ApiError('CONFLICT', 'a user with this name exists');
  ctx.changed({ action: 'user_created', details: { user: user.name, source: user.source, admin: user.admin } });
  ctx.send(201, { user: showUser(user) });
}

async function update(ctx: AdminContext): Promise<void> {
  const name = nameParam(ctx);
  const body = await ctx.body(updateUser);
  const siteAdmin = await ctx.isSiteAdmin();
  if (!siteAdmin) {
    if (!ctx.isSelf(name)) throw denied();
    if (body.admin !== undefined || body.disabled !== undefined || body.password !== undefined) throw denied('only site administrators change admin, disabled or password');
  }
  // Guard against locking oneself out: another administrator has to do that.
  if (ctx.isSelf(name) && (body.admin === false || body.disabled === true)) throw new ApiError('CONFLICT', 'you cannot remove your own admin rights or disable yourself');
  const existing = await ctx.store.users.get(name);
  if (!existing) throw notFound('user');
  if (body.password && existing.source !== 'local') throw new ApiError('INVALID', 'password: only local users have a password here');
  const { password, ...rest } = body;
  const passwordHash = password === undefined ? undefined : password === null ? null : await hashPassword(password, ctx.deps.bcryptRounds);
  const user = await ctx.store.users.update(name, { ...rest, ...(passwordHash !== undefined && { passwordHash }) });
  if (!user) throw notFound('user');
  // Field names only: the audit log learns that a password changed, never what to.
  ctx.changed({ action: 'user_updated', details: { user: name, fields: Object.keys(body), ...(body.admin !== undefined && { admin: body.admin }), ...(body.disabled !== undefined && { disabled: body.disabled }) } });
  ctx.send(200, { user: showUser(user) });
}

function setDisabled(disabled: boolean) {
  return async (ctx: AdminContext): Promise<void> => {
    await ctx.requireSiteAdmin();
    const name = nameParam(ctx);
    if (ctx.isSelf(name) && disabled) throw new ApiError('CONFLICT', 'you cannot disable yourself');
    const user = await ctx.store.users.update(name, { disabled });
    if (!user) throw notFound('user');
    ctx.changed({ action: 'user_updated', details: { user: name, disabled } });
    ctx.send(200, { user: showUser(user) });
  };
}

async function remove(ctx: AdminContext): Promise<void> {
  await ctx.requireSiteAdmin();
  const name = nameParam(ctx);
  if (ctx.isSelf(name)) throw new ApiError('CONFLICT', 'you cannot delete yourself');
  if (!(await ctx.store.users.delete(name))) throw notFound('user');
  ctx.changed({ action: 'user_deleted', details: { user: name } });
  ctx.send(204, null);
}

export const userRoutes: Route[] = [
  { method: 'GET', path: '/users', handler: listUsers },
  { method: 'POST', path: '/users', action: 'user_created', handler: create },
  { method: 'GET', path: '/users/:name', handler: getUser },
  { method: 'PATCH', path: '/users/:name', action: 'user_updated', handler: update },
  { method: 'POST', path: '/users/:name/disable', action: 'user_updated', handler: setDisabled(true) },
  { method: 'POST', path: '/users/:name/enable', action: 'user_updated', handler: setDisabled(false) },
  { method: 'DELETE', path: '/users/:name', action: 'user_deleted', handler: remove },
];
