// /api/v1/robots: robot accounts (`robot$<name>`) for CI and deployments. Each belongs to one
// namespace, is managed by that namespace's admins, and holds explicit grants inside it only
// (up to the delete role: a robot never manages permissions). The secret is returned on creation
// and on rotation, once.
import type { RobotRecord } from '../../../metadata/access/store.ts';
import { ROBOT_PREFIX } from '../controller.ts';
import type { AdminContext } from './context.ts';
import { denied, notFound, validate } from './http.ts';
import { createRobotAccount, deleteRobotAccount, rotateRobotSecret, updateRobotAccount } from './operations.ts';
import type { Route } from './router.ts';
import { createRobot, namespaceName, robotName, showPermission, showRobot, updateRobot } from './schemas.ts';

/** The robot named in the path (with or without `robot$`), once the caller administers its namespace. */
async function robotParam(ctx: AdminContext): Promise<RobotRecord> {
  const raw = ctx.params.name ?? '';
  const name = validate(robotName, raw.startsWith(ROBOT_PREFIX) ? raw.slice(ROBOT_PREFIX.length) : raw);
  const robot = await ctx.store.robots.get(name);
  if (!robot) throw notFound('robot');
  await ctx.requireAdminOf({ kind: 'namespace', name: robot.namespace });
  return robot;
}

async function list(ctx: AdminContext): Promise<void> {
  const ns = ctx.url.searchParams.get('namespace');
  if (ns === null) {
    if (!(await ctx.isSiteAdmin())) throw denied('site administrators only (or filter by a namespace you administer)');
  } else {
    await ctx.requireAdminOf({ kind: 'namespace', name: validate(namespaceName, ns) });
  }
  const robots = await ctx.store.robots.list(ns === null ? {} : { namespace: ns });
  ctx.send(200, { robots: robots.map(showRobot) });
}

async function create(ctx: AdminContext): Promise<void> {
  const body = await ctx.body(createRobot);
  await ctx.requireAdminOf({ kind: 'namespace', name: body.namespace });
  ctx.requireUnrestricted();
  const { robot, secret } = await createRobotAccount(ctx, body);
  ctx.send(201, { robot: showRobot(robot), secret });
}

async function get(ctx: AdminContext): Promise<void> {
  const robot = await robotParam(ctx);
  const permissions = await ctx.store.permissions.list({ subject: { kind: 'robot', name: robot.name } });
  ctx.send(200, { robot: showRobot(robot), permissions: permissions.map(showPermission) });
}

async function update(ctx: AdminContext): Promise<void> {
  const robot = await robotParam(ctx);
  const body = await ctx.body(updateRobot);
  const updated = await updateRobotAccount(ctx, robot, body);
  ctx.send(200, { robot: showRobot(updated) });
}

async function remove(ctx: AdminContext): Promise<void> {
  const robot = await robotParam(ctx);
  await deleteRobotAccount(ctx, robot);
  ctx.send(204, null);
}

async function rotate(ctx: AdminContext): Promise<void> {
  const robot = await robotParam(ctx);
  ctx.requireUnrestricted();
  const { robot: updated, secret } = await rotateRobotSecret(ctx, robot);
  ctx.send(200, { robot: showRobot(updated), secret });
}

export const robotRoutes: Route[] = [
  { method: 'GET', path: '/robots', handler: list },
  { method: 'POST', path: '/robots', action: 'robot_created', handler: create },
  { method: 'GET', path: '/robots/:name', handler: get },
  { method: 'PATCH', path: '/robots/:name', action: 'robot_updated', handler: update },
  { method: 'DELETE', path: '/robots/:name', action: 'robot_deleted', handler: remove },
  { method: 'POST', path: '/robots/:name/rotate', action: 'robot_rotated', handler: rotate },
];
