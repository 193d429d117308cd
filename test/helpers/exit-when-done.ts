// Loaded into every test file's process (scripts/run-tests.mjs, --import). Once the file's tests
// have all finished, a handle someone forgot to close (a socket, a server, a timer) must not keep
// the process, and with it the whole run, alive. After a grace period long enough for the
// reporter to deliver every result, it names the handles on stderr and exits with the code the
// tests set. (Node's --test-force-exit exits at once and has been seen to lose the last results.)
import { after } from 'node:test';

const GRACE_MS = 10_000;
const file = process.argv.find((a) => a.endsWith('.test.ts')) ?? 'a test file';

after(() => {
  setTimeout(() => {
    process.stderr.write(`[exit-when-done] ${file}: still running ${GRACE_MS / 1000} s after its tests ended, held by ${JSON.stringify(process.getActiveResourcesInfo())}; exiting\n`);
    process.exit();
  }, GRACE_MS).unref();
});
