// `berth import` as a command: exit codes (0 clean, 2 skipped, 1 fatal), text and JSON reports,
// --dry-run and --quiet, the target taken from config.yml or REGISTRY_* like `berth serve`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImportReport } from '../../src/import/report.ts';
import { repoRoot, run, tempDir } from '../helpers/processes.ts';
import { DistTree } from './dist-tree.ts';

const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'import', ...args], { allowFail: true, env });

describe('berth import command', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let tree: DistTree;
  let corruptLayer: string;

  before(async () => {
    dir = await tempDir('import-cli');
    tree = new DistTree(join(dir.path, 'registry'));
    await tree.image('ok/app', { tag: 'v1' });
    const bad = await tree.image('bad', { tag: 'v1' });
    corruptLayer = bad.layers[0]!;
    await tree.corrupt(corruptLayer);
  });
  after(() => dir.cleanup());

  it('--dry-run --json: exit 2 with the skipped items, and nothing written', async () => {
    const root = join(dir.path, 'dry');
    const res = await cli([tree.root, '--dry-run', '--json'], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root });
    assert.equal(res.code, 2, res.stderr);
    const report = JSON.parse(res.stdout) as ImportReport;
    assert.equal(report.dryRun, true);
    assert.equal(report.target, root);
    assert.equal(report.imported.manifests, 1);
    assert.deepEqual(
      report.skipped.map((s) => [s.kind, s.repository, s.code]),
      [
        ['layer', 'bad', 'digest-mismatch'],
        ['manifest', 'bad', 'manifest-blob-missing'],
        ['tag', 'bad', 'tag-manifest-skipped'],
      ],
    );
    assert.equal(report.skipped[0]!.ref, corruptLayer);
    assert.deepEqual(await readdir(join(root, 'blobs')), []);
  });

  it('text summary lists skips; --quiet prints only them, on stderr; the config file names the target', async () => {
    const root = join(dir.path, 'text');
    const config = join(dir.path, 'text.yml');
    await writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n`);
    const res = await cli([tree.root, '--config', config]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stdout, /imported: 1 manifests, 1 tags, 5 blobs, .*, 5 blob links/);
    assert.match(res.stdout, new RegExp(`layer bad@${corruptLayer}: \\[digest-mismatch\\] data hashes to sha256:`));
    assert.match(res.stdout, /tag bad:v1: \[tag-manifest-skipped\]/);

    const quiet = await cli([tree.root, '--config', config, '--quiet']);
    assert.equal(quiet.code, 2);
    assert.equal(quiet.stdout, '');
    assert.equal(quiet.stderr.trim().split('\n').length, 3, quiet.stderr);
    assert.match(quiet.stderr, /skipped layer bad/);
  });

  it('exit 0 when nothing is skipped; exit 1 with a message on a fatal error', async () => {
    const clean = new DistTree(join(dir.path, 'clean-registry'));
    await clean.image('x', { tag: 'v1' });
    const root = join(dir.path, 'clean');
    const ok = await cli([join(clean.root, 'docker', 'registry', 'v2'), '--quiet'], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout + ok.stderr, '');

    const missing = await cli([join(dir.path, 'nowhere')], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /berth: .*nowhere is not a directory/);
    const notRegistry = await cli([dir.path], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root });
    assert.equal(notRegistry.code, 1);
    assert.match(notRegistry.stderr, /does not look like registry:2 storage/);
    const inside = await cli([clean.root], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(clean.v2, 'x') });
    assert.equal(inside.code, 1);
    assert.match(inside.stderr, /must not be inside the registry:2 tree/);
  });
});
