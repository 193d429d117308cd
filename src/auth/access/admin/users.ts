// /api/v1/users: site administrators manage accounts; every signed-in user may look people up by
// name (to pick them in a grant dialog) and edit their own profile.
import type { AdminContext } from './context.ts';
import { denied, notFound, validate } from './http.ts';
import { createUserAccount, deleteUserAccount, setUserDisabled, updateUserAccount } from './operations.ts';
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
  const user = await createUserAccount(ctx, await ctx.body(createUser), ctx.deps.bcryptRounds);
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
  const user = await updateUserAccount(ctx, name, body, ctx.deps.bcryptRounds);
  ctx.send(200, { user: showUser(user) });
}

function setDisabled(disabled: boolean) {
  return async (ctx: AdminContext): Promise<void> => {
    await ctx.requireSiteAdmin();
    const user = await setUserDisabled(ctx, nameParam(ctx), disabled);
    ctx.send(200, { user: showUser(user) });
  };
}

async function remove(ctx: AdminContext): Promise<void> {
  await ctx.requireSiteAdmin();
  await deleteUserAccount(ctx, nameParam(ctx));
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
