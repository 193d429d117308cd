// The Notary server's code (TUF validation, key vault, canonical JSON) loads on the first trust
// request, not at start: most registries never see one, and an idle server need not hold it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NotaryHttp } from './http.ts';

export type NotaryHandler = (req: IncomingMessage, res: ServerResponse, url: URL, pathname: string) => Promise<boolean>;

/** The paths NotaryHttp answers: its health check and /v2/<gun>/_trust/... */
export function isNotaryPath(pathname: string): boolean {
  return pathname === '/_notary_server/health' || (pathname.startsWith('/v2/') && pathname.includes('/_trust/'));
}

export function lazyNotary(create: () => Promise<NotaryHttp>): NotaryHandler {
  let loading: Promise<NotaryHttp> | undefined;
  return async (req, res, url, pathname) => {
    if (!isNotaryPath(pathname)) return false;
    let notary: NotaryHttp;
    try {
      notary = await (loading ??= create());
    } catch (e) {
      loading = undefined;
      throw e;
    }
    return notary.handle(req, res, url, pathname);
  };
}
