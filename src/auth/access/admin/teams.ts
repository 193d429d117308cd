// /api/v1/teams: organizations and their members. Site administrators manage them; any signed-in
// user may list teams (to grant them a role), and members may see who else is in their team.
// Memberships owned by the LDAP group sync are not removed here (the next sync would add them
// back) unless ?force=true.
import type { AdminContext } from './context.ts';
import { denied, notFound, validate } from './http.ts';
import { addTeamMember, createTeamRecord, deleteTeamRecord, removeTeamMember, updateTeamRecord } from './operations.ts';
import type { Route } from './router.ts';
import { createTeam, listQuery, showTeam, teamName, updateTeam, userName } from './schemas.ts';

const teamParam = (ctx: AdminContext) => validate(teamName, ctx.params.team);

async function list(ctx: AdminContext): Promise<void> {
  const q = ctx.query(listQuery);
  const rows = await ctx.store.teams.list({ ...(q.q && { query: q.q }), limit: q.limit, ...(q.after && { after: q.after }) });
  const last = rows[rows.length - 1];
  ctx.send(200, { teams: rows.map(showTeam), next: rows.length === q.limit && last ? last.name : null });
}

async function get(ctx: AdminContext): Promise<void> {
  const team = await ctx.store.teams.get(teamParam(ctx));
  if (!team) throw notFound('team');
  ctx.send(200, { team: showTeam(team) });
}

async function create(ctx: AdminContext): Promise<void> {
  await ctx.requireSiteAdmin();
  const team = await createTeamRecord(ctx, await ctx.body(createTeam));
  ctx.send(201, { team: showTeam(team) });
}

async function update(ctx: AdminContext): Promise<void> {
  await ctx.requireSiteAdmin();
  const name = teamParam(ctx);
  const team = await updateTeamRecord(ctx, name, await ctx.body(updateTeam));
  ctx.send(200, { team: showTeam(team) });
}

async function remove(ctx: AdminContext): Promise<void> {
  await ctx.requireSiteAdmin();
  await deleteTeamRecord(ctx, teamParam(ctx));
  ctx.send(204, null);
}

async function members(ctx: AdminContext): Promise<void> {
  const name = teamParam(ctx);
  const list = await ctx.store.teams.members(name);
  if (!list) throw notFound('team');
  if (!(await ctx.isSiteAdmin()) && !list.some((m) => ctx.isSelf(m.user))) throw denied('members of the team and site administrators only');
  ctx.send(200, { members: list });
}

async function addMember(ctx: AdminContext): Promise<void> {
  await ctx.requireSiteAdmin();
  const team = teamParam(ctx);
  const user = validate(userName, ctx.params.user);
  const result = await addTeamMember(ctx, team, user);
  ctx.send(result === 'added' ? 201 : 200, { team, user });
}

async function removeMember(ctx: AdminContext): Promise<void> {
  await ctx.requireSiteAdmin();
  const team = teamParam(ctx);
  const user = validate(userName, ctx.params.user);
  const force = ctx.url.searchParams.get('force') === 'true';
  await removeTeamMember(ctx, team, user, force);
  ctx.send(204, null);
}

export const teamRoutes: Route[] = [
  { method: 'GET', path: '/teams', handler: list },
  { method: 'POST', path: '/teams', action: 'team_created', handler: create },
  { method: 'GET', path: '/teams/:team', handler: get },
  { method: 'PATCH', path: '/teams/:team', action: 'team_updated', handler: update },
  { method: 'DELETE', path: '/teams/:team', action: 'team_deleted', handler: remove },
  { method: 'GET', path: '/teams/:team/members', handler: members },
  { method: 'PUT', path: '/teams/:team/members/:user', action: 'membership_change', handler: addMember },
  { method: 'DELETE', path: '/teams/:team/members/:user', action: 'membership_change', handler: removeMember },
];
