// SIGTERM ends `berth serve` even when nobody reads its logs any more: stderr a pipe whose reader
// has gone (a supervisor, or `berth serve | tee` that died). It used to hang in pino's exit-time
// flush, which retries a broken pipe forever.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, repoRoot, tempDir } from '../helpers/processes.ts';

describe('shutdown', () => {
  it('SIGTERM exits within seconds after the reader of stderr has gone', async () => {
    const dir = await tempDir('berth-shutdown');
    try {
      const port = await freePort();
      const config = join(dir.path, 'config.yml');
      await writeFile(config, `version: 0.1\nhttp:\n  addr: 127.0.0.1:${port}\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir.path, 'data')}\n`);
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'serve', config], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = once(child, 'exit');
      try {
        let seen = '';
        await new Promise<void>((resolve, reject) => {
          child.stderr!.on('data', (d: Buffer) => {
            seen += d.toString();
            if (seen.includes('berth is serving')) resolve();
          });
          child.once('exit', () => reject(new Error(`exited before serving: ${seen}`)));
        });
        child.stderr!.destroy(); // the reader goes away: the server's next log write gets EPIPE
        child.kill('SIGTERM');
        const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 8000).unref());
        const result = await Promise.race([exited, timeout]);
        assert.notEqual(result, 'timeout', 'still running 8 s after SIGTERM');
        const [code] = result as [number | null];
        assert.equal(code, 0);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    } finally {
      await dir.cleanup();
    }
  });
});
