// The console's code (pages, both languages' catalogues, Markdown, sessions) loads on the first
// request for one of its paths, not at start: a registry that nobody browses does not hold it in
// memory (about 7 MiB of an idle server's RSS, measured). Its assets are read at start by the
// caller, so a build without web/dist still stops the start with a clear message.
import { lazyHandler, type PathHandler } from '../http/lazy-handler.ts';
import type { ConsoleDeps } from './deps.ts';

/** The paths the console answers (src/console/http/router.ts); no other request loads it. */
export function isConsolePath(pathname: string): boolean {
  return (
    pathname === '/' ||
    pathname === '/ui' ||
    pathname.startsWith('/ui/') ||
    pathname === '/api/v1/repositories' ||
    pathname.startsWith('/api/v1/repositories/') ||
    pathname === '/api/v1/settings'
  );
}

export function lazyConsole(create: () => Promise<ConsoleDeps | undefined>): PathHandler {
  return lazyHandler(isConsolePath, async () => {
    const [{ handleConsole }, deps] = await Promise.all([import('./http/router.ts'), create()]);
    return deps && ((req, res, url, pathname) => handleConsole(req, res, url, pathname, deps));
  });
}
