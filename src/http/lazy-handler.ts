// A request handler whose code loads on the first request for one of its paths (the console, the
// Notary server): an idle registry that never sees such a request does not hold that code.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers the request and resolves true, or resolves false when the path is not its. */
export type PathHandler = (req: IncomingMessage, res: ServerResponse, url: URL, pathname: string) => Promise<boolean>;

/**
 * `owns` decides from the path alone, without loading anything; `load` builds the real handler
 * once (undefined: the feature is off, every request falls through). A failed load is retried by
 * the next request.
 */
export function lazyHandler(owns: (pathname: string) => boolean, load: () => Promise<PathHandler | undefined>): PathHandler {
  let loading: Promise<PathHandler | undefined> | undefined;
  return async (req, res, url, pathname) => {
    if (!owns(pathname)) return false;
    let handler: PathHandler | undefined;
    try {
      handler = await (loading ??= load());
    } catch (e) {
      loading = undefined;
      throw e;
    }
    return handler ? handler(req, res, url, pathname) : false;
  };
}
