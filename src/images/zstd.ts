// zstd-compressed layers (OCI `+zstd`): Node 20's zlib cannot decode them, so we stream through
// the `zstd` command when it is installed and say so plainly when it is not.
import { spawn, spawnSync } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';

let available: boolean | undefined;
export function hasZstd(): boolean {
  available ??= spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
  return available;
}

export function zstdDecompress(source: Readable): Readable {
  return zstdFilter(source, ['-d', '-c', '-q'], 'zstd-compressed layer');
}

/** zstd compression (level 3, zstd's default; single-threaded so the output is reproducible). */
export function zstdCompress(source: Readable, level = 3): Readable {
  return zstdFilter(source, [`-${level}`, '-c', '-q', '--no-progress'], 'zstd compression');
}

function zstdFilter(source: Readable, args: string[], what: string): Readable {
  if (!hasZstd()) {
    source.destroy();
    throw new Error(`${what}: Node 20 has no zstd codec and the \`zstd\` command is not installed (apt-get install zstd)`);
  }
  const child = spawn('zstd', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  source.on('error', (e) => {
    child.kill();
    out.destroy(e);
  });
  // EPIPE when zstd quits early on bad input: the exit status below reports the real cause.
  child.stdin.on('error', () => {});
  source.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  let stdoutEnded = false;
  let exitCode: number | null | undefined;
  const finish = () => {
    if (!stdoutEnded || exitCode === undefined) return;
    if (exitCode === 0) out.end();
    else out.destroy(new Error(`${what}: zstd failed (exit ${exitCode}): ${stderr.trim()}`));
  };
  child.stdout.on('end', () => {
    stdoutEnded = true;
    finish();
  });
  child.on('close', (code) => {
    exitCode = code;
    finish();
  });
  child.on('error', (e) => out.destroy(e));
  out.on('close', () => child.kill());
  return out;
}
