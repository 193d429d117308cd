// /api/v1/tokens (the caller's own personal access tokens) and /api/v1/users/:name/tokens (a
// site administrator looking at or revoking someone's). The secret is in the creation response
// only; lists show a hint (the first characters) to tell tokens apart.
import type { AdminContext } from './context.ts';
import { ApiError, denied, validate } from './http.ts';
import { createAccessToken, revokeAccessToken } from './operations.ts';
import type { Route } from './router.ts';
import { createToken, showToken, userName } from './schemas.ts';

function tokenId(ctx: AdminContext): number {
  const id = Number(ctx.params.id);
  if (!Number.isSafeInteger(id) || id <= 0) throw new ApiError('INVALID', 'id: not a token id');
  return id;
}

function requireUser(ctx: AdminContext): string {
  if (ctx.principal.kind !== 'user') throw denied('only users have personal access tokens');
  return ctx.principal.name;
}

async function listOwn(ctx: AdminContext): Promise<void> {
  const user = requireUser(ctx);
  ctx.send(200, { tokens: (await ctx.store.tokens.list(user)).map((t) => showToken(t)) });
}

async function createOwn(ctx: AdminContext): Promise<void> {
  const user = requireUser(ctx);
  ctx.requireUnrestricted();
  const { token, secret } = await createAccessToken(ctx, user, await ctx.body(createToken));
  ctx.send(201, { token: showToken(token), secret });
}

async function revoke(ctx: AdminContext, user: string): Promise<void> {
  await revokeAccessToken(ctx, user, tokenId(ctx));
  ctx.send(204, null);
}

async function listFor(ctx: AdminContext): Promise<void> {
  const user = validate(userName, ctx.params.name);
  await ctx.requireSelfOrSiteAdmin(user);
  ctx.send(200, { tokens: (await ctx.store.tokens.list(user)).map((t) => showToken(t)) });
}

export const tokenRoutes: Route[] = [
  { method: 'GET', path: '/tokens', handler: listOwn },
  { method: 'POST', path: '/tokens', action: 'token_created', handler: createOwn },
  { method: 'DELETE', path: '/tokens/:id', action: 'token_revoked', handler: (ctx) => revoke(ctx, requireUser(ctx)) },
  { method: 'GET', path: '/users/:name/tokens', handler: listFor },
  {
    method: 'DELETE',
    path: '/users/:name/tokens/:id',
    action: 'token_revoked',
    handler: async (ctx) => {
      const user = validate(userName, ctx.params.name);
      await ctx.requireSelfOrSiteAdmin(user);
      await revoke(ctx, user);
    },
  },
];
