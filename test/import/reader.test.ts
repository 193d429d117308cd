// The distribution layout reader over a synthetic tree: what it lists, what it ignores, and how it
// reports links that were deleted or do not say what their directory says.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FilesystemSource, locateDistributionTree } from '../../src/import/fs-source.ts';
import { DistributionLayout } from '../../src/import/layout.ts';
import { SourceReadError } from '../../src/import/source.ts';
import { tempDir } from '../helpers/processes.ts';
import { DistTree, sha256 } from './dist-tree.ts';

describe('distribution layout reader', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let tree: DistTree;
  let layout: DistributionLayout;

  before(async () => {
    dir = await tempDir('import-reader');
    tree = new DistTree(join(dir.path, 'registry'));
    await tree.image('alpine', { tag: 'latest' });
    await tree.image('team', { tag: 'v1' });
    await tree.image('team/app', { tag: 'v2' });
    await tree.image('team/app/deep', {});
    await tree.upload('team/app');
    // An intermediate directory that is not a repository itself.
    await tree.image('org/group/svc', { tag: 'x' });
    layout = new DistributionLayout(new FilesystemSource(tree.v2));
  });
  after(() => dir.cleanup());

  it('accepts the rootdirectory or its docker/registry/v2 directory, and nothing else', async () => {
    assert.equal(await locateDistributionTree(tree.root), tree.v2);
    assert.equal(await locateDistributionTree(tree.v2), tree.v2);
    await assert.rejects(() => locateDistributionTree(dir.path), /does not look like registry:2 storage/);
    await assert.rejects(() => locateDistributionTree(join(dir.path, 'nope')), /is not a directory/);
  });

  it('finds nested repositories and skips distribution directories (_uploads, _layers, ...)', async () => {
    assert.deepEqual(await layout.repositories(), ['alpine', 'org/group/svc', 'team', 'team/app', 'team/app/deep']);
  });

  it('lists layer links, revisions and tags with their link state', async () => {
    const img = await tree.image('links', { tag: 'a', layers: 2 });
    await tree.tag('links', 'b', img.digest);
    const layers = await layout.layers('links');
    assert.deepEqual(layers.digests.sort(), [...img.layers, img.config].sort());
    assert.deepEqual(layers.invalid, []);
    assert.deepEqual((await layout.revisions('links')).digests, [img.digest]);
    assert.deepEqual(await layout.tags('links'), ['a', 'b']);
    assert.equal(await layout.tagCurrent('links', 'a'), img.digest);
    assert.equal(await layout.tagCurrent('links', 'nope'), undefined);
    assert.equal(await layout.revisionLink('links', img.digest), 'ok');
    assert.equal(await layout.layerLink('links', img.layers[0]!), 'ok');

    await tree.deleteRevision('links', img.digest);
    assert.deepEqual((await layout.revisions('links')).digests, [img.digest], 'the directory stays behind');
    assert.equal(await layout.revisionLink('links', img.digest), 'absent');

    const other = sha256('other');
    await writeFile(join(tree.v2, 'repositories', 'links', '_layers', 'sha256', img.layers[1]!.slice(7), 'link'), other);
    assert.equal(await layout.layerLink('links', img.layers[1]!), 'mismatch');
  });

  it('reports directories that do not name a digest separately', async () => {
    await mkdir(join(tree.v2, 'repositories', 'odd', '_layers', 'sha256', 'NOT-HEX'), { recursive: true });
    await mkdir(join(tree.v2, 'repositories', 'odd', '_layers', 'md5', 'abcd'), { recursive: true });
    const layers = await layout.layers('odd');
    assert.deepEqual(layers.digests, []);
    assert.deepEqual(layers.invalid.sort(), ['md5/abcd', 'sha256/NOT-HEX']);
  });

  it('maps blob paths as distribution does and streams blob data', async () => {
    const digest = await tree.blob('hello blob');
    const path = layout.blobDataPath(digest);
    assert.equal(path, `blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}/data`);
    const source = layout.source;
    assert.deepEqual(await source.stat(path), { size: 10 });
    assert.equal(await source.stat('blobs/sha256/00/none/data'), undefined);
    const chunks: Buffer[] = [];
    for await (const c of await source.open(path)) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'hello blob');
    await assert.rejects(() => source.open('blobs/sha256/00/none/data'), SourceReadError);
  });
});
