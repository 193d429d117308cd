// The usage queries behind quotas (src/metadata/lifecycle/usage-queries.ts) and the tag lookup
// behind immutable tags, on SQLite and on a real PostgreSQL 15: both engines must read the glob
// patterns alike (SQLite through the regexp function berth registers, PostgreSQL with `~`).
import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MetadataStore } from '../../src/metadata/store.ts';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import { globToRegExp } from '../../src/lifecycle/globs.ts';
import { Quotas } from '../../src/lifecycle/quotas.ts';
import { RegistryError } from '../../src/registry/errors.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const scope = (...globs: string[]) => globs.map((g) => globToRegExp(g).source).join('|');

async function link(store: MetadataStore, repository: string, content: string, size: number): Promise<string> {
  const digest = digestOf(content);
  await store.reserveBlob(digest, size);
  await store.linkBlob(repository, digest, size);
  return digest;
}

function usageContract(name: string, open: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>, options: { skip?: string | false } = {}): void {
  describe(`usage queries: ${name}`, { skip: options.skip }, () => {
    let store: MetadataStore;
    let cleanup: () => Promise<void>;
    let shared: string;
    before(async () => {
      ({ store, cleanup } = await open());
      shared = await link(store, 'team-a/one', 'shared', 1000);
      await store.linkBlob('team-a/two/deep', shared, 1000);
      await link(store, 'team-a/one', 'one-only', 200);
      await link(store, 'team-a', 'ns-itself', 30);
      await link(store, 'team-ab/x', 'sibling', 5000);
      await link(store, 'a.b/c', 'dotted', 7);
      await link(store, 'axb/c', 'not-dotted', 11);
      await link(store, 'team-x/app', 'star', 3);
      await link(store, 'team-x/y/app', 'not-star', 4);
      // Reserved but never linked or stored: pending blobs are not usage.
      await store.reserveBlob(digestOf('pending'), 99999);
    });
    after(() => cleanup?.());

    it('counts each live blob once per scope, the namespace itself included', async () => {
      const u = await store.lifecycle.usage.scopeUsage(scope('team-a/**'));
      assert.deepEqual([u.blobs, u.bytes], [3, 1230]);
    });

    it('says whether a blob is already counted in the scope', async () => {
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('team-a/**'), shared)).counted, true);
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('team-ab/**'), shared)).counted, false);
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('team-a/**'), digestOf('pending'))).counted, false);
    });

    it('reads globs the same way as the matcher: * within a segment, literal dots, several globs', async () => {
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('team-*/app'))).bytes, 3);
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('a.b/**'))).bytes, 7);
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('a.b/c', 'axb/*'))).bytes, 18);
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('nothing/**'))).bytes, 0);
    });

    it('lists usage per repository and per top-level namespace', async () => {
      const repos = await store.lifecycle.usage.repositoryUsage(scope('team-a/**'));
      assert.deepEqual(
        repos.map((r) => [r.repository, r.bytes]),
        [
          ['team-a', 30],
          ['team-a/one', 1200],
          ['team-a/two/deep', 1000],
        ],
      );
      const namespaces = await store.lifecycle.usage.namespaceUsage();
      assert.deepEqual(
        namespaces.map((n) => [n.namespace, n.bytes]),
        [
          ['a.b', 7],
          ['axb', 11],
          ['team-a', 1230],
          ['team-ab', 5000],
          ['team-x', 7],
        ],
      );
    });

    it('gives the space back once the last link in the scope goes', async () => {
      await store.unlinkBlob('team-a/one', shared);
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('team-a/**'))).bytes, 1230);
      await store.unlinkBlob('team-a/two/deep', shared);
      assert.equal((await store.lifecycle.usage.scopeUsage(scope('team-a/**'))).bytes, 230);
    });

    it('Quotas.checkAdd refuses with the numbers and lets counted blobs through', async () => {
      const quotas = new Quotas([{ repositories: ['team-ab/**'], limitBytes: 5100 }], store.lifecycle);
      await quotas.checkAdd('team-ab/y', digestOf('small'), 100, 'upload');
      await link(store, 'team-ab/y', 'small', 100);
      await quotas.checkAdd('team-ab/y', digestOf('sibling'), 5000, 'mount');
      await new Promise((r) => setTimeout(r, 5));
      await assert.rejects(quotas.checkAdd('team-ab/y', digestOf('big'), 1, 'upload'), (e: unknown) => {
        assert.ok(e instanceof RegistryError);
        assert.equal(e.code, 'DENIED');
        assert.equal(e.message, 'quota exceeded for team-ab/**: 5.0 KiB of 5.0 KiB used, this upload needs 1 B');
        return true;
      });
    });

    it('finds the tags pointing at a manifest', async () => {
      const m = 'manifest-bytes';
      const digest = await link(store, 'team-a/tags', m, m.length);
      const manifest = { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: m.length, blobs: [], children: [] };
      for (const tag of ['v2', 'v1']) await store.putManifest('team-a/tags', manifest, tag);
      assert.deepEqual(await store.lifecycle.tags.tagsOf('team-a/tags', digest), ['v1', 'v2']);
      assert.deepEqual(await store.lifecycle.tags.tagsOf('team-a/other', digest), []);
    });
  });
}

usageContract('sqlite', () => tempSqliteStore('berth-usage'));

let server: PostgresServer | undefined;
after(() => server?.stop());
usageContract(
  'postgres',
  async () => {
    server ??= await startPostgres();
    const store = await openPostgresMetadata({ url: await server.createDatabase('usage'), poolSize: 4 });
    return { store, cleanup: () => store.close() };
  },
  { skip: postgresSkip() },
);
