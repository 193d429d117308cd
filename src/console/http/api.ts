// The console's data as JSON for scripts, from the same functions as the pages:
//   GET /api/v1/repositories?q=&sort=name|pushed&cursor=&limit=&namespace=
//   GET /api/v1/repositories/-/namespaces?cursor=&limit=                   (the namespaces page)
//   GET /api/v1/repositories/<name>?sort=pushed|name&cursor=&limit=&q=     (summary, storage, a page of tags
//                                                                           with their immutable and trust marks)
//   GET /api/v1/repositories/<name>/-/manifests/<digest>                  (the image page's data)
//   GET /api/v1/settings                                                   (the settings page's data)
// Same viewer rules as the pages (session cookie or Authorization header); a repository the caller
// may not pull is a 404, as on /v2.
import type { PageContext } from '../page.ts';
import { listNamespaces, listRepositories, parseListQuery, parseNamespaceQuery } from '../data/repository-list.ts';
import { loadImageView } from '../data/image-view.ts';
import { loadRepositoryView } from '../data/repository-view.ts';
import { trustStates } from '../data/trust-state.ts';
import { namespaceVisibilityResolver, visibilityResolver } from '../data/visibility.ts';
import { NotFound } from '../errors.ts';
import { registryHost } from '../pull-commands.ts';
import { settingsData } from '../pages/settings.ts';
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
    // The settings page is open to whoever may see the console; so is its twin.
    if (ctx.path === '/api/v1/settings') return send(200, settingsData(ctx));
    if (ctx.path === '/api/v1/repositories') {
      const [page, visibility] = await Promise.all([listRepositories(ctx.deps, ctx.viewer, parseListQuery(ctx.url.searchParams)), visibilityResolver(ctx.deps)]);
      return send(200, { ...page, items: page.items.map((r) => ({ ...r, visibility: visibility(r.name, r.visibility) ?? null })) });
    }
    if (ctx.path === '/api/v1/repositories/-/namespaces') {
      const [page, visibility] = await Promise.all([listNamespaces(ctx.deps, ctx.viewer, parseNamespaceQuery(ctx.url.searchParams)), namespaceVisibilityResolver(ctx.deps)]);
      return send(200, { ...page, items: page.items.map((n) => ({ ...n, visibility: visibility(n.name) ?? null })) });
    }
    const m = MANIFEST_PATH.exec(ctx.path);
    if (m) {
      if (!(await ctx.viewer.can(m[1], 'pull'))) throw new NotFound();
      const view = await loadImageView(ctx.deps.services, m[1], decodeURIComponent(m[2]));
      if (!view) throw new NotFound();
      const { raw: _raw, ...rest } = view;
      const d = view.detail;
      const [trust] = await trustStates(ctx.deps, registryHost(ctx), m[1], [{ digest: d.digest, tags: d.tags, signed: d.signed }]);
      return send(200, { ...rest, trust: trust ?? null });
    }
    const name = ctx.path.slice('/api/v1/repositories/'.length).replace(/\/$/, '');
    const { detail, visibility, immutable, trust } = await loadRepositoryView(ctx, name);
    return send(200, {
      ...detail,
      summary: { ...detail.summary, visibility: visibility ?? null },
      tags: { ...detail.tags, items: detail.tags.items.map((tag, i) => ({ ...tag, immutable: immutable[i] ?? false, trust: trust[i] ?? null })) },
    });
  } catch (e) {
    if (e instanceof NotFound) return send(404, { errors: [{ code: 'NAME_UNKNOWN', message: 'repository or manifest not found' }] });
    throw e;
  }
}
