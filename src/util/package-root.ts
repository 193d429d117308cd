// berth's install directory, found from a module's own URL. The server runs from the tsc output
// (dist/<concern>/*.js), from TypeScript (src/...) or from the bundle (dist/server/ and its
// chunks/), each at a different depth below the root, so files shipped next to the code (the
// sendfile addon, the console's built assets) are looked up from the root, not by counting '..'.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory at or above `moduleUrl`'s that holds a package.json. */
export function packageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = up;
  }
}
