// The push-side memory of this machine: compressed forms of layers, where blobs live, and upload
// sessions in flight. It is only a hint store, but it must persist, stay bounded and never break.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/processes.ts';
import { BlobInfoCache, UploadSessions } from '../../src/transfer/blob-cache.ts';

describe('blob-info cache and upload sessions', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  const saved = process.env.BERTH_CACHE_DIR;
  before(async () => {
    dir = await tempDir('berth-cache');
    process.env.BERTH_CACHE_DIR = dir.path;
  });
  after(async () => {
    if (saved === undefined) delete process.env.BERTH_CACHE_DIR;
    else process.env.BERTH_CACHE_DIR = saved;
    await dir.cleanup();
  });

  it('remembers compressed forms and locations across loads, per registry host', () => {
    const c = BlobInfoCache.load();
    c.recordCompressed('sha256:aa', 'gzip', { digest: 'sha256:bb', size: 10 });
    c.recordLocation('reg:5000', 'team/app', 'sha256:bb');
    c.recordLocation('reg:5000', 'team/other', 'sha256:bb');
    c.recordLocation('elsewhere:443', 'x', 'sha256:bb');
    c.save();
    const again = BlobInfoCache.load();
    assert.deepEqual(again.compressedOf('sha256:aa', 'gzip'), { digest: 'sha256:bb', size: 10 });
    assert.equal(again.compressedOf('sha256:aa', 'zstd'), undefined);
    assert.deepEqual(again.repositoriesWith('reg:5000', 'sha256:bb'), ['team/other', 'team/app']);
    again.forgetLocation('reg:5000', 'team/other', 'sha256:bb');
    assert.deepEqual(again.repositoriesWith('reg:5000', 'sha256:bb'), ['team/app']);
    assert.equal(BlobInfoCache.load(true).compressedOf('sha256:aa', 'gzip'), undefined, 'a disabled cache knows nothing');
  });

  it('keeps the newest 20,000 entries', () => {
    const c = BlobInfoCache.load();
    c.recordCompressed('sha256:first', 'gzip', { digest: 'sha256:x', size: 1 });
    for (let i = 0; i < 20_010; i++) c.recordCompressed(`sha256:${i}`, 'gzip', { digest: `sha256:y${i}`, size: i });
    c.save();
    const again = BlobInfoCache.load();
    assert.equal(again.compressedOf('sha256:first', 'gzip'), undefined);
    assert.equal(again.compressedOf('sha256:20009', 'gzip')?.size, 20_009);
  });

  it('treats a damaged cache file as empty', async () => {
    await writeFile(join(dir.path, 'blob-info.json'), '{not json');
    const c = BlobInfoCache.load();
    assert.equal(c.compressedOf('sha256:aa', 'gzip'), undefined);
    c.recordCompressed('sha256:aa', 'gzip', { digest: 'sha256:bb', size: 10 });
    c.save();
    assert.ok(JSON.parse(await readFile(join(dir.path, 'blob-info.json'), 'utf8')).compressed);
  });

  it('keeps an upload session per registry, repository and blob until it is deleted', () => {
    const s = new UploadSessions();
    s.put('reg:5000', 'a', 'sha256:1', { location: 'http://reg:5000/v2/a/blobs/uploads/u1?_state=x' });
    assert.equal(s.get('reg:5000', 'a', 'sha256:1')?.location, 'http://reg:5000/v2/a/blobs/uploads/u1?_state=x');
    assert.equal(s.get('reg:5000', 'b', 'sha256:1'), undefined);
    s.delete('reg:5000', 'a', 'sha256:1');
    assert.equal(s.get('reg:5000', 'a', 'sha256:1'), undefined);
    assert.equal(new UploadSessions(true).get('reg:5000', 'a', 'sha256:1'), undefined);
  });
});
