// The console's code (pages, both languages' catalogues, Markdown, sessions) loads on the first
// request for one of its paths, not at start: a registry that nobody browses does not hold it in
// memory (about 7 MiB of an idle server's RSS, measured). Its assets are read at start by the
// caller, so a build without web/dist still stops the start with a clear message.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleDeps } from './deps.ts';

export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse, url: URL, pathname: string) => Promise<boolean>;

/** The paths the console answers (src/console/http/router.ts); no other request loads it. */
export function isConsolePath(pathname: string): boolean {
  return pathname === '/' || pathname === '/ui' || pathname.startsWith('/ui/') || pathname === '/api/v1/repositories' || pathname.startsWith('/api/v1/repositories/');
}

export function lazyConsole(create: () => Promise<ConsoleDeps | undefined>): ConsoleHandler {
  let loading: Promise<{ deps: ConsoleDeps | undefined; handle: typeof import('./http/router.ts').handleConsole }> | undefined;
  return async (req, res, url, pathname) => {
    if (!isConsolePath(pathname)) return false;
    loading ??= Promise.all([import('./http/router.ts'), create()]).then(([router, deps]) => ({ deps, handle: router.handleConsole }));
    let loaded;
    try {
      loaded = await loading;
    } catch (e) {
      loading = undefined; // the next request tries again
      throw e;
    }
    return loaded.deps ? loaded.handle(req, res, url, pathname, loaded.deps) : false;
  };
}
