// Builds berth's one native addon (native/sendfile: zero-copy blob responses on Linux).
// Optional by design: when there is no compiler, berth still works and streams blobs through
// user space, so a failed build warns instead of failing the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'sendfile');
// npm sets npm_config_node_gyp for lifecycle scripts; outside npm, use the copy bundled with npm.
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter((p) => p && existsSync(p));

if (process.platform !== 'linux') {
  console.log('berth: zero-copy blob responses need Linux sendfile(2); skipping the native addon');
  process.exit(0);
}
if (candidates.length === 0) {
  console.warn('berth: node-gyp not found; blobs will be streamed through user space (slower)');
  process.exit(0);
}
// Build against the running Node's own headers when they are installed (Debian's nodejs ships
// them), so no header download is needed on a machine without network access.
const prefix = join(dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir ?? (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
const args = [candidates[0], 'rebuild', '--loglevel=warn', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { cwd: dir, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('berth: building native/sendfile failed; blobs will be streamed through user space (slower)');
}
