// TarFile: header-only indexing of plain tars (ustar, pax, GNU long names) and gzipped ones.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TarFile } from '../../src/images/tar-source.ts';
import { hasCommand, tempDir } from '../helpers/processes.ts';
import { collect, packTar } from './util.ts';

describe('TarFile', () => {
  let tmp: { path: string; cleanup(): Promise<void> };
  const long = `${'d'.repeat(90)}/${'e'.repeat(80)}/${'f'.repeat(120)}.bin`;
  before(async () => {
    tmp = await tempDir('tar-source');
  });
  after(() => tmp.cleanup());

  it('indexes long names written by tar-stream and reads entries by offset', async () => {
    const p = join(tmp.path, 'ts.tar');
    await writeFile(p, await packTar({ [long]: Buffer.from('long one'), 'short.txt': Buffer.alloc(1025, 7), 'empty': Buffer.alloc(0) }));
    const t = await TarFile.open(p);
    assert.equal(t.gzipped, false);
    assert.equal((await t.readEntry(long)).toString(), 'long one');
    assert.ok((await t.readEntry('./short.txt')).equals(Buffer.alloc(1025, 7)));
    assert.equal((await t.readEntry('empty')).length, 0);
    assert.throws(() => t.openEntry('missing'), /no entry "missing"/);
  });

  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`reads GNU tar --format=${format} output, following symlinks`, { skip: !hasCommand('tar') && 'no tar' }, async () => {
      const src = join(tmp.path, `src-${format}`);
      // ustar has no long names, only a 155-byte prefix: over 100 characters, split at a slash.
      const name = format === 'ustar' ? `${'d'.repeat(70)}/${'g'.repeat(30)}.bin` : long;
      await mkdir(join(src, name, '..'), { recursive: true });
      await writeFile(join(src, name), Buffer.alloc(70_000, 3));
      const base = name.slice(name.lastIndexOf('/') + 1);
      const linkDir = name.slice(0, name.lastIndexOf('/'));
      await symlink(base, join(src, linkDir, 'rel'));
      const p = join(tmp.path, `${format}.tar`);
      const r = spawnSync('tar', [`--format=${format}`, '-cf', p, '-C', src, '.']);
      assert.equal(r.status, 0, r.stderr.toString());
      const t = await TarFile.open(p);
      assert.ok((await collect(t.openEntry(name))).equals(Buffer.alloc(70_000, 3)));
      assert.ok((await t.readEntry(`${linkDir}/rel`)).equals(Buffer.alloc(70_000, 3)));
    });
  }
});
