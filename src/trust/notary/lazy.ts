// The Notary server's code (TUF validation, key vault, canonical JSON) loads on the first trust
// request, not at start: most registries never see one, and an idle server need not hold it.
import { lazyHandler, type PathHandler } from '../../http/lazy-handler.ts';
import type { NotaryHttp } from './http.ts';

/** The paths NotaryHttp answers: its health check and /v2/<gun>/_trust/... */
export function isNotaryPath(pathname: string): boolean {
  return pathname === '/_notary_server/health' || (pathname.startsWith('/v2/') && pathname.includes('/_trust/'));
}

export function lazyNotary(create: () => Promise<NotaryHttp>): PathHandler {
  return lazyHandler(isNotaryPath, async () => {
    const notary = await create();
    return (req, res, url, pathname) => notary.handle(req, res, url, pathname);
  });
}
