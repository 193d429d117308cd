// The console's data as JSON for scripts, from the same functions as the pages:
//   GET /api/v1/repositories?q=&sort=name|pushed&cursor=&limit=
//   GET /api/v1/repositories/<name>?sort=pushed|name&cursor=&limit=&q=     (summary + a page of tags)
//   GET /api/v1/repositories/<name>/-/manifests/<digest>                  (the image page's data)
// Same viewer rules as the pages (session cookie or Authorization header); a repository the caller
// may not pull is a 404, as on /v2.
import type { PageContext } from '../page.ts';
import { listRepositories, parseListQuery } from '../data/repository-list.ts';
import { loadImageView } from '../data/image-view.ts';
import { visibilityResolver } from '../data/visibility.ts';
import { NotFound } from '../errors.ts';
import { loadRepository } from '../pages/repository.ts';
import { sendConsoleJson } from './respond.ts';

const MANIFEST_PATH = /^\/api\/v1\/repositories\/(.+?)\/-\/manifests\/([^/]+)$/;

export async function consoleApi(ctx: PageContext): Promise<void> {
  const send = (status: number, v: unknown) => sendConsoleJson(ctx.res, status, v, ctx.startedAt);
  if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') {
    ctx.res.setHeader('Allow', 'GET, HEAD');
    return send(405, { errors: [{ code: 'UNSUPPORTED', message: 'read-only: use the registry API or the console to change things' }] });
  }
  if (ctx.viewer.mode === 'anonymous' && ctx.deps.authEnabled && !ctx.deps.access) {
    ctx.res.setHeader('WWW-Authenticate', 'Basic realm="berth"');
    return send(401, { errors: [{ code: 'UNAUTHORIZED', message: 'sign in to use this API' }] });
  }
  try {
    const visibility = await visibilityResolver(ctx.deps);
    if (ctx.path === '/api/v1/repositories') {
      const page = await listRepositories(ctx.deps, ctx.viewer, parseListQuery(ctx.url.searchParams));
      return send(200, { ...page, items: page.items.map((r) => ({ ...r, visibility: visibility(r.name, r.visibility) ?? null })) });
    }
    const m = MANIFEST_PATH.exec(ctx.path);
    if (m) {
      if (!(await ctx.viewer.can(m[1], 'pull'))) throw new NotFound();
      const view = await loadImageView(ctx.deps.services, m[1], decodeURIComponent(m[2]));
      if (!view) throw new NotFound();
      const { raw: _raw, ...rest } = view;
      return send(200, rest);
    }
    const name = ctx.path.slice('/api/v1/repositories/'.length).replace(/\/$/, '');
    const detail = await loadRepository(ctx, name);
    return send(200, { ...detail, summary: { ...detail.summary, visibility: visibility(name, detail.summary.visibility) ?? null } });
  } catch (e) {
    if (e instanceof NotFound) return send(404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository or manifest not found' }] });
    throw e;
  }
}
