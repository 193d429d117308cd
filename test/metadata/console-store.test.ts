// The console's data layer (src/metadata/console/) on SQLite and on a real PostgreSQL 15: content is
// pushed through the store API (manifest bytes parsed as a PUT parses them), then every field of
// the repository list, a repository's page and a manifest's page is checked, with paging both
// ways, search, `within`, namespaces, accessories (the same on a tag row and a manifest's page),
// shared and unique bytes, sessions, settings, secrets, repository create/delete, and migration
// 0005 over data written before it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrate } from '../../src/metadata/migrations.ts';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import { newManifest, type MetadataStore } from '../../src/metadata/store.ts';
import type { Accessory, Page, RepositoryListRequest, RepositorySummary, TagRow, TagSort } from '../../src/metadata/console/console-store.ts';
import { parseManifest } from '../../src/oci/manifest.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';

const sha = (b: string | Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const T0 = 1_700_000_000_000;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const COSIGN_SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const NOTARY = 'application/vnd.cncf.notary.signature';
const SPDX = 'application/spdx+json';

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

/** Runs `work` with Date.now() reading `t` (the store stamps pushes with it). */
async function at<T>(t: number | undefined, work: () => Promise<T>): Promise<T> {
  if (t === undefined) return work();
  const real = Date.now;
  Date.now = () => t;
  try {
    return await work();
  } finally {
    Date.now = real;
  }
}

/** Pushes blobs and manifests into one repository through the store, as the registry's handlers do. */
class Pusher {
  /** Every blob linked (manifests included): digest -> size. */
  readonly linked = new Map<string, number>();
  lastPush: number | null = null;

  constructor(
    private readonly store: MetadataStore,
    readonly repo: string,
  ) {}

  async blob(label: string, size: number, mediaType = LAYER): Promise<Desc> {
    // Distinct content per repository and label (hex of their hash, repeated to the size); the
    // OCI empty blob is the real one.
    const hex = createHash('sha256').update(`${this.repo}:${label}`).digest('hex');
    const bytes = Buffer.from(label === 'empty' ? '{}' : hex.repeat(Math.ceil(size / 64)).slice(0, size));
    assert.equal(bytes.length, size);
    const digest = sha(bytes);
    await this.store.reserveBlob(digest, size);
    await this.store.linkBlob(this.repo, digest, size);
    this.linked.set(digest, size);
    return { mediaType, digest, size };
  }

  async put(body: Record<string, unknown>, tag?: string, time?: number): Promise<Desc> {
    const bytes = Buffer.from(JSON.stringify(body));
    const digest = sha(bytes);
    const parsed = parseManifest(bytes, body.mediaType as string);
    await this.store.reserveBlob(digest, bytes.length);
    const res = await at(time, () => this.store.putManifest(this.repo, newManifest(parsed, digest, bytes.length), tag));
    assert.deepEqual(res, { missingBlobs: [], missingChildren: [] });
    this.linked.set(digest, bytes.length);
    if (time !== undefined) this.lastPush = Math.max(this.lastPush ?? 0, time);
    return { mediaType: body.mediaType as string, digest, size: bytes.length };
  }

  image(config: Desc, layers: Desc[], extra: { artifactType?: string; subject?: Desc; annotations?: Record<string, string> } = {}): Record<string, unknown> {
    return { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers, ...extra };
  }

  index(children: { m: Desc; platform?: Record<string, string> }[], extra: { subject?: Desc } = {}): Record<string, unknown> {
    return { schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c) => ({ ...c.m, ...(c.platform ? { platform: c.platform } : {}) })), ...extra };
  }

  get size(): number {
    let total = 0;
    for (const s of this.linked.values()) total += s;
    return total;
  }
}

const cosignTag = (d: Desc, suffix: string) => `sha256-${d.digest.slice(7)}.${suffix}`;
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Opened {
  store: MetadataStore;
  /** A second store instance on the same database. */
  another(): Promise<MetadataStore>;
  cleanup(): Promise<void>;
}

function consoleContract(name: string, open: () => Promise<Opened>, options: { skip?: string | false } = {}): void {
  describe(`console store: ${name}`, { skip: options.skip }, () => {
    let store: MetadataStore;
    let opened: Opened;
    /** Pushed-at per repository in the list fixture (null: never pushed). */
    const pushed = new Map<string, number | null>();
    /** Bytes linked per repository in the list fixture. */
    const sizes = new Map<string, number>();
    let app: Pusher;
    const f = {} as Record<'image1' | 'amd' | 'arm' | 'index' | 'v2' | 'old' | 'sigTag' | 'attTag' | 'sbomTag' | 'cosignRef' | 'notation' | 'sbomRef' | 'sbomSig', Desc> & {
      sizes: Record<string, number>;
    };

    before(async () => {
      opened = await open();
      store = opened.store;

      // The repository with everything in it.
      app = new Pusher(store, 'team-a/app');
      const c1 = await app.blob('c1', 100, OCI_CONFIG);
      const l1 = await app.blob('l1', 1000);
      const l2 = await app.blob('l2', 2000);
      f.old = await app.put(app.image(await app.blob('c5', 10, OCI_CONFIG), [await app.blob('l6', 20)]), undefined, T0 + 500);
      // Layers listed out of digest order: the manifest page keeps the manifest's order.
      f.image1 = await app.put(app.image(c1, [l2, l1], { annotations: { 'org.opencontainers.image.title': 'one' } }), 'v1', T0 + 1000);
      await app.put(app.image(c1, [l2, l1], { annotations: { 'org.opencontainers.image.title': 'one' } }), 'latest', T0 + 2000);
      f.amd = await app.put(app.image(await app.blob('c2', 50, OCI_CONFIG), [await app.blob('l3', 500), l1]), undefined, T0 + 3000);
      f.arm = await app.put(app.image(await app.blob('c3', 60, OCI_CONFIG), [await app.blob('l4', 700)]), undefined, T0 + 3000);
      f.index = await app.put(
        app.index([
          { m: f.amd, platform: { os: 'linux', architecture: 'amd64' } },
          { m: f.arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ]),
        'multi',
        T0 + 4000,
      );
      f.v2 = await app.put(app.image(await app.blob('c4', 30, OCI_CONFIG), [await app.blob('l5', 300)]), 'v2', T0 + 5000);
      // cosign's tag scheme, next to v2.
      const simple = 'application/vnd.dev.cosign.simplesigning.v1+json';
      f.sigTag = await app.put(app.image(await app.blob('sig-config', 40, OCI_CONFIG), [await app.blob('sig', 90, simple)]), cosignTag(f.v2, 'sig'), T0 + 6000);
      f.attTag = await app.put(app.image(await app.blob('att-config', 41, OCI_CONFIG), [await app.blob('att', 91, 'application/vnd.dsse.envelope.v1+json')]), cosignTag(f.v2, 'att'), T0 + 6001);
      f.sbomTag = await app.put(app.image(await app.blob('sbom-config', 42, OCI_CONFIG), [await app.blob('sbom', 92, SPDX)]), cosignTag(f.v2, 'sbom'), T0 + 6002);
      // OCI 1.1 referrers: a cosign signature of image1, a notation signature (the older kind:
      // its config media type says what it is) of the index, an SBOM of v2 signed in turn.
      const empty = await app.blob('empty', 2, 'application/vnd.oci.empty.v1+json');
      f.cosignRef = await app.put(app.image(empty, [await app.blob('cosign-bundle', 80, 'application/vnd.dev.sigstore.bundle.v0.3+json')], { artifactType: COSIGN_SIG, subject: f.image1 }), undefined, T0 + 7000);
      f.notation = await app.put(app.image(await app.blob('notary', 70, NOTARY), [await app.blob('jws', 60, 'application/jose+json')], { subject: f.index }), undefined, T0 + 7001);
      f.sbomRef = await app.put(app.image(empty, [await app.blob('spdx', 200, SPDX)], { artifactType: SPDX, subject: f.v2 }), undefined, T0 + 7002);
      f.sbomSig = await app.put(app.image(empty, [await app.blob('sbom-sig', 81, 'application/octet-stream')], { artifactType: COSIGN_SIG, subject: f.sbomRef }), undefined, T0 + 7003);
      f.sizes = { image1: 3100, amd: 1550, arm: 760, index: 2310, v2: 330 };
      pushed.set(app.repo, T0 + 7003);

      // The list: ties on the push time, never-pushed repositories, names with % and _.
      const simpleRepo = async (repo: string, time: number | null) => {
        const p = new Pusher(store, repo);
        if (time === null) await p.blob('only', 10);
        else await p.put(p.image(await p.blob('cfg', 20, OCI_CONFIG), [await p.blob('layer', 30)]), 'latest', time);
        pushed.set(repo, time);
        sizes.set(repo, p.size);
      };
      await simpleRepo('team-a', T0 + 100);
      await simpleRepo('team-ab/x', T0 + 200);
      await simpleRepo('team-a/api', T0 + 300);
      await simpleRepo('team-a/sub/deep', T0 + 300);
      await simpleRepo('lib/a%b', T0 + 50);
      await simpleRepo('lib/a_b', T0 + 50);
      await simpleRepo('lib/axb', T0 + 50);
      await simpleRepo('blobs/only', null);
      for (let i = 0; i < 15; i++) await simpleRepo(`bulk/r${String(i).padStart(2, '0')}`, T0 + 10 + (i % 4) * 10);
      assert.equal(await store.console.createRepository('empty/created', T0), true);
      pushed.set('empty/created', null);
      sizes.set('empty/created', 0);
      sizes.set(app.repo, app.size);
    });
    after(() => opened?.cleanup());

    const names = (p: Page<RepositorySummary>) => p.items.map((i) => i.name);
    const expectedOrder = (sort: 'name' | 'pushed', keep: (name: string) => boolean = () => true) =>
      [...pushed.entries()]
        .filter(([n]) => keep(n))
        .sort(([a, ta], [b, tb]) => (sort === 'pushed' ? (tb ?? 0) - (ta ?? 0) : 0) || byteOrder(a, b))
        .map(([n]) => n);

    /** Walks every page forward, then back from the last one; both walks must give `expected`. */
    async function walk<T>(fetch: (cursor?: string) => Promise<Page<T>>, key: (t: T) => string, expected: string[], limit: number): Promise<void> {
      const forward: string[] = [];
      const pages: Page<T>[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 100; i++) {
        const page = await fetch(cursor);
        pages.push(page);
        assert.ok(page.items.length <= limit);
        forward.push(...page.items.map(key));
        if (i === 0) assert.equal(page.prev, undefined, 'the first page has no prev');
        else assert.ok(page.prev, 'a later page has a prev');
        if (!page.next) break;
        assert.equal(page.items.length, limit, 'only the last page is short');
        cursor = page.next;
      }
      assert.deepEqual(forward, expected);
      // Back from the last page, by prev cursors: the same pages in reverse.
      const backward: string[][] = [];
      let page = pages[pages.length - 1]!;
      backward.unshift(page.items.map(key));
      while (page.prev) {
        page = await fetch(page.prev);
        backward.unshift(page.items.map(key));
        assert.ok(page.next, 'a page reached by prev has a next');
      }
      assert.equal(page.prev, undefined);
      assert.deepEqual(backward.flat(), expected);
      assert.deepEqual(
        backward,
        pages.map((p) => p.items.map(key)),
      );
    }

    it('lists every repository with its summary', async () => {
      const page = await store.console.repositories({ sort: 'name', limit: 200 });
      assert.deepEqual(names(page), expectedOrder('name'));
      assert.equal(page.next, undefined);
      assert.equal(page.prev, undefined);
      for (const item of page.items) {
        const tagCount = item.name === app.repo ? 4 : pushed.get(item.name) === null ? 0 : 1;
        assert.deepEqual(item, { name: item.name, tagCount, size: sizes.get(item.name), pushedAt: pushed.get(item.name), description: null, visibility: null });
      }
      assert.equal(sizes.get('blobs/only'), 10);
      assert.ok(sizes.get('team-a')! > 50, 'the manifest counts too');
    });

    it('sorts by last push, newest first, never pushed last, ties by name', async () => {
      const page = await store.console.repositories({ sort: 'pushed', limit: 200 });
      assert.deepEqual(names(page), expectedOrder('pushed'));
      assert.deepEqual(names(page).slice(-2), ['blobs/only', 'empty/created']);
      for (const item of page.items) assert.equal(item.pushedAt, pushed.get(item.name));
    });

    for (const sort of ['name', 'pushed'] as const) {
      for (const limit of [1, 3, 7]) {
        it(`pages by ${sort}, ${limit} at a time, forward and back, without gaps or repeats`, async () => {
          await walk((cursor) => store.console.repositories({ sort, limit, cursor }), (s) => s.name, expectedOrder(sort), limit);
        });
      }
      it(`pages a search by ${sort}`, async () => {
        await walk((cursor) => store.console.repositories({ sort, limit: 4, q: 'BULK/', cursor }), (s) => s.name, expectedOrder(sort, (n) => n.startsWith('bulk/')), 4);
      });
      it(`pages within namespaces by ${sort}`, async () => {
        const within = ['bulk/', 'team-a'];
        await walk((cursor) => store.console.repositories({ sort, limit: 2, within, cursor }), (s) => s.name, expectedOrder(sort, (n) => n.startsWith('bulk/') || n === 'team-a'), 2);
      });
    }

    it('searches substrings case-insensitively, % and _ literally', async () => {
      const search = async (q: string, extra: Partial<RepositoryListRequest> = {}) => names(await store.console.repositories({ sort: 'name', limit: 50, q, ...extra }));
      assert.deepEqual(await search('TEAM-A/'), ['team-a/api', 'team-a/app', 'team-a/sub/deep']);
      assert.deepEqual(await search('App'), ['team-a/app']);
      assert.deepEqual(await search('%'), ['lib/a%b']);
      assert.deepEqual(await search('_'), ['lib/a_b']);
      assert.deepEqual(await search('a_b'), ['lib/a_b']);
      assert.deepEqual(await search('a%'), ['lib/a%b']);
      assert.deepEqual(await search('nothing-like-it'), []);
      assert.deepEqual(await search('team', { sort: 'pushed' }), ['team-a/app', 'team-a/api', 'team-a/sub/deep', 'team-ab/x', 'team-a']);
      assert.deepEqual(await search('a', { within: ['lib/'] }), ['lib/a%b', 'lib/a_b', 'lib/axb']);
    });

    it('keeps to `within`: namespaces (ending in /) and exact names', async () => {
      const within = async (w: string[], extra: Partial<RepositoryListRequest> = {}) => names(await store.console.repositories({ sort: 'name', limit: 50, within: w, ...extra }));
      assert.deepEqual(await within(['team-a/']), ['team-a/api', 'team-a/app', 'team-a/sub/deep']);
      assert.deepEqual(await within(['team-a']), ['team-a']);
      assert.deepEqual(await within(['team-a/sub/']), ['team-a/sub/deep']);
      assert.deepEqual(await within(['team-a/app', 'lib/a%b', 'no/such']), ['lib/a%b', 'team-a/app']);
      assert.deepEqual(await within(['team-ab/', 'team-a']), ['team-a', 'team-ab/x']);
      assert.deepEqual(await within(['team-']), []);
      assert.deepEqual(await within([]), []);
      assert.deepEqual(await within(['lib/'], { q: 'x' }), ['lib/axb']);
    });

    it('narrows the list to a namespace, with `within` and a search', async () => {
      const ns = async (namespace: string, extra: Partial<RepositoryListRequest> = {}) => names(await store.console.repositories({ sort: 'name', limit: 50, namespace, ...extra }));
      assert.deepEqual(await ns('team-a'), ['team-a/api', 'team-a/app', 'team-a/sub/deep'], 'not team-a itself, not team-ab/x');
      assert.deepEqual(await ns('team-a/'), ['team-a/api', 'team-a/app', 'team-a/sub/deep']);
      assert.deepEqual(await ns('team-a/sub'), ['team-a/sub/deep']);
      assert.deepEqual(await ns('team'), []);
      assert.deepEqual(await ns('team-a', { q: 'ap' }), ['team-a/api', 'team-a/app']);
      assert.deepEqual(await ns('team-a', { within: ['team-a/app', 'lib/'] }), ['team-a/app']);
      assert.deepEqual(await ns('lib', { within: ['team-a/'] }), []);
      for (const sort of ['name', 'pushed'] as const) {
        await walk((cursor) => store.console.repositories({ sort, limit: 4, namespace: 'bulk', cursor }), (r) => r.name, expectedOrder(sort, (n) => n.startsWith('bulk/')), 4);
      }
    });

    it('lists namespaces with repository counts, one page at a time both ways', async () => {
      // In the order of 'ns/': team-a/ before team-ab/; team-a (no '/') is in none.
      const all = ['blobs', 'bulk', 'empty', 'lib', 'team-a', 'team-ab'];
      const page = await store.console.namespaces({ limit: 50, counts: true });
      assert.deepEqual(
        page.items.map((n) => [n.name, n.repositoryCount]),
        [
          ['blobs', 1],
          ['bulk', 15],
          ['empty', 1],
          ['lib', 3],
          ['team-a', 3],
          ['team-ab', 1],
        ],
      );
      assert.equal(page.next, undefined);
      for (const limit of [1, 2, 4]) await walk((cursor) => store.console.namespaces({ limit, cursor, counts: true }), (n) => n.name, all, limit);
      // Within the viewer's scopes: only namespaces holding something they may list, counted the same way.
      const within = await store.console.namespaces({ limit: 50, within: ['team-a/', 'lib/axb', 'team-a'], counts: true });
      assert.deepEqual(within.items, [
        { name: 'lib', repositoryCount: 1 },
        { name: 'team-a', repositoryCount: 3 },
      ]);
      assert.deepEqual((await store.console.namespaces({ limit: 50, within: [], counts: true })).items, []);
      // Paged both ways within scopes; a scope naming nothing that exists shows no namespace.
      const scopes = ['team-a/', 'lib/axb', 'bulk/', 'team-ab/x', 'nothing/here', 'team-a', 'empty/created/'];
      for (const limit of [1, 2, 3]) await walk((cursor) => store.console.namespaces({ limit, cursor, within: scopes, counts: false }), (n) => n.name, ['bulk', 'lib', 'team-a', 'team-ab'], limit);
      const uncounted = await store.console.namespaces({ limit: 2, counts: false });
      assert.deepEqual(uncounted.items, [
        { name: 'blobs', repositoryCount: null },
        { name: 'bulk', repositoryCount: null },
      ]);
      // A cursor of another list is the first page.
      assert.deepEqual((await store.console.namespaces({ limit: 1, cursor: uncounted.next!.replace(/^./, 'x'), counts: false })).items[0]?.name, 'blobs');
    });

    it('splits a repository size into bytes shared with other repositories and its own', async () => {
      const one = new Pusher(store, 'share/one');
      const two = new Pusher(store, 'share/two');
      const base = await one.blob('base', 5000);
      await one.put(one.image(await one.blob('cfg', 20, OCI_CONFIG), [base, await one.blob('own', 300)]), 'v1', T0 + 10);
      // share/two mounts the base layer (the same digest) and adds its own.
      await store.linkBlob('share/two', base.digest, base.size);
      two.linked.set(base.digest, base.size);
      await two.put(two.image(await two.blob('cfg', 21, OCI_CONFIG), [base, await two.blob('mine', 700)]), 'v1', T0 + 11);
      const d1 = (await store.console.repository('share/one', { sort: 'name', limit: 10 }))!;
      const d2 = (await store.console.repository('share/two', { sort: 'name', limit: 10 }))!;
      assert.deepEqual(d1.storage, { shared: 5000, unique: d1.summary.size - 5000 });
      assert.deepEqual(d2.storage, { shared: 5000, unique: d2.summary.size - 5000 });
      assert.equal(d1.summary.size, one.size);
      await store.console.deleteRepository('share/two');
      assert.deepEqual((await store.console.repository('share/one', { sort: 'name', limit: 10 }))!.storage, { shared: 0, unique: one.size }, 'unique again once the other repository is gone');
      await store.console.deleteRepository('share/one');
    });

    it('clamps the page size and takes a bad or foreign cursor for the first page', async () => {
      assert.equal((await store.console.repositories({ sort: 'name', limit: 0 })).items.length, 1);
      assert.equal((await store.console.repositories({ sort: 'name', limit: 1000 })).items.length, pushed.size);
      const first = names(await store.console.repositories({ sort: 'name', limit: 3 }));
      const byPush = await store.console.repositories({ sort: 'pushed', limit: 3 });
      for (const cursor of ['garbage', '', 'eyJ4Ijo', byPush.next!, Buffer.from('["r","name","n",5]').toString('base64url')]) {
        const page = await store.console.repositories({ sort: 'name', limit: 3, cursor });
        assert.deepEqual(names(page), first, cursor);
        assert.equal(page.prev, undefined);
      }
    });

    it('gives a prev cursor back from past the end', async () => {
      const all = expectedOrder('name');
      // A next cursor from a page that then lost its followers: an empty page that leads back.
      const beyond = Buffer.from(JSON.stringify(['r', 'name', 'n', all[all.length - 1]])).toString('base64url');
      const empty = await store.console.repositories({ sort: 'name', limit: 3, cursor: beyond });
      assert.deepEqual(empty.items, []);
      assert.equal(empty.next, undefined);
      assert.deepEqual(names(await store.console.repositories({ sort: 'name', limit: 3, cursor: empty.prev })), all.slice(-3));
    });

    it('shows a repository: summary, counts and one page of tags with everything', async () => {
      const detail = await store.console.repository('team-a/app', { sort: 'name', limit: 50 });
      assert.ok(detail);
      assert.deepEqual(detail.summary, { name: 'team-a/app', tagCount: 4, size: app.size, pushedAt: T0 + 7003, description: null, visibility: null });
      assert.equal(detail.tagCount, 4);
      assert.equal(detail.untaggedCount, 1);
      assert.equal(detail.tags.next, undefined);
      assert.equal(detail.tags.prev, undefined);
      const cosignRef = { kind: 'signature', digest: f.cosignRef.digest, artifactType: COSIGN_SIG };
      const expected: TagRow[] = [
        {
          name: 'latest',
          digest: f.image1.digest,
          mediaType: OCI_MANIFEST,
          artifactType: null,
          size: f.sizes.image1!,
          platforms: [],
          pushedAt: T0 + 2000,
          pulledAt: null,
          sameDigest: ['v1'],
          accessories: [cosignRef as TagRow['accessories'][number]],
          signed: true,
        },
        {
          name: 'multi',
          digest: f.index.digest,
          mediaType: OCI_INDEX,
          artifactType: null,
          size: f.sizes.index!,
          platforms: [
            { os: 'linux', architecture: 'amd64', digest: f.amd.digest, size: f.sizes.amd! },
            { os: 'linux', architecture: 'arm64', variant: 'v8', digest: f.arm.digest, size: f.sizes.arm! },
          ],
          pushedAt: T0 + 4000,
          pulledAt: null,
          sameDigest: [],
          accessories: [{ kind: 'signature', digest: f.notation.digest, artifactType: NOTARY }],
          signed: true,
        },
        {
          name: 'v1',
          digest: f.image1.digest,
          mediaType: OCI_MANIFEST,
          artifactType: null,
          size: f.sizes.image1!,
          platforms: [],
          pushedAt: T0 + 1000,
          pulledAt: null,
          sameDigest: ['latest'],
          accessories: [cosignRef as TagRow['accessories'][number]],
          signed: true,
        },
        {
          name: 'v2',
          digest: f.v2.digest,
          mediaType: OCI_MANIFEST,
          artifactType: null,
          size: f.sizes.v2!,
          platforms: [],
          pushedAt: T0 + 5000,
          pulledAt: null,
          sameDigest: [],
          accessories: [
            { kind: 'sbom', digest: f.sbomRef.digest, artifactType: SPDX },
            { kind: 'attestation', digest: f.attTag.digest, artifactType: null, tag: cosignTag(f.v2, 'att') },
            { kind: 'sbom', digest: f.sbomTag.digest, artifactType: null, tag: cosignTag(f.v2, 'sbom') },
            { kind: 'signature', digest: f.sigTag.digest, artifactType: null, tag: cosignTag(f.v2, 'sig') },
          ],
          signed: true,
        },
      ];
      assert.deepEqual(detail.tags.items, expected);
      // Nothing of team-a/app is linked elsewhere (the empty blob is only here so far).
      assert.deepEqual(detail.storage, { shared: 0, unique: app.size });
    });

    it('tells unsigned images apart and shows pulls', async () => {
      const p = new Pusher(store, 'team-a/unsigned');
      const m = await p.put(p.image(await p.blob('cfg', 20, OCI_CONFIG), [await p.blob('layer', 30)]), 'v1', T0 + 100);
      // An accessory tag for a digest that is not in the repository is an orphan: listed as a tag of its own.
      await p.put(p.image(await p.blob('att-cfg', 21, OCI_CONFIG), [await p.blob('att', 31)]), `sha256-${'0'.repeat(64)}.att`, T0 + 101);
      // An attestation by subject is not a signature.
      await p.put(p.image(await p.blob('empty', 2, 'application/vnd.oci.empty.v1+json'), [await p.blob('dsse', 40)], { artifactType: 'application/vnd.dsse.envelope.v1+json', subject: m }), undefined, T0 + 102);
      await store.lifecycle.retention.recordPulls([{ repository: 'team-a/unsigned', digest: m.digest, tag: 'v1', at: T0 + 999 }]);
      const detail = await store.console.repository('team-a/unsigned', { sort: 'pushed', limit: 10 });
      assert.equal(detail?.tagCount, 2);
      assert.equal(detail?.untaggedCount, 0);
      assert.deepEqual(detail!.tags.items.map((t) => t.name), [`sha256-${'0'.repeat(64)}.att`, 'v1']);
      const row = detail!.tags.items.find((t) => t.name === 'v1');
      assert.equal(row!.signed, false);
      assert.equal(row!.pulledAt, T0 + 999);
      assert.equal(row!.size, 50);
      assert.deepEqual(row!.accessories.map((a) => a.kind), ['attestation']);
      await store.console.deleteRepository('team-a/unsigned');
    });

    for (const sort of ['name', 'pushed'] as const) {
      it(`pages tags by ${sort} both ways, accessory tags left out`, async () => {
        const expected = sort === 'name' ? ['latest', 'multi', 'v1', 'v2'] : ['v2', 'multi', 'latest', 'v1'];
        for (const limit of [1, 3]) {
          await walk(
            async (cursor) => (await store.console.repository('team-a/app', { sort, limit, cursor }))!.tags,
            (t) => t.name,
            expected,
            limit,
          );
        }
      });
    }

    it('searches tags case-insensitively', async () => {
      const tags = async (q: string, sort: TagSort = 'name') => (await store.console.repository('team-a/app', { sort, limit: 10, q }))!.tags.items.map((t) => t.name);
      assert.deepEqual(await tags('V'), ['v1', 'v2']);
      assert.deepEqual(await tags('v', 'pushed'), ['v2', 'v1']);
      assert.deepEqual(await tags('sha256'), []);
      assert.deepEqual(await tags('%'), []);
      const detail = await store.console.repository('team-a/app', { sort: 'name', limit: 10, q: 'V' });
      assert.equal(detail!.tagCount, 4, 'the count is of every tag, not of the search');
    });

    it('shows a manifest: references in order with sizes, tags, referrers two levels deep', async () => {
      const m = await store.console.manifest('team-a/app', f.image1.digest);
      const bySize = (size: number) => [...app.linked.entries()].find(([, s]) => s === size)![0];
      assert.deepEqual(m, {
        repository: 'team-a/app',
        digest: f.image1.digest,
        mediaType: OCI_MANIFEST,
        artifactType: null,
        size: f.image1.size,
        configDigest: bySize(100),
        subject: null,
        annotations: { 'org.opencontainers.image.title': 'one' },
        pushedAt: T0 + 2000,
        pulledAt: null,
        tags: ['latest', 'v1'],
        references: [
          { kind: 'blob', digest: bySize(100), size: 100 },
          { kind: 'blob', digest: bySize(2000), size: 2000 },
          { kind: 'blob', digest: bySize(1000), size: 1000 },
        ],
        accessories: [{ kind: 'signature', digest: f.cosignRef.digest, artifactType: COSIGN_SIG }],
        signed: true,
        referrers: [{ digest: f.cosignRef.digest, artifactType: COSIGN_SIG, mediaType: OCI_MANIFEST, size: f.cosignRef.size, tags: [], referrers: [] }],
      });

      const index = await store.console.manifest('team-a/app', f.index.digest);
      assert.deepEqual(index?.references, [
        { kind: 'manifest', digest: f.amd.digest, size: f.amd.size, platform: { os: 'linux', architecture: 'amd64' } },
        { kind: 'manifest', digest: f.arm.digest, size: f.arm.size, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ]);
      assert.equal(index?.configDigest, null);
      assert.deepEqual(index?.tags, ['multi']);
      assert.deepEqual(index?.referrers.map((r) => r.digest), [f.notation.digest]);
      assert.equal(index?.referrers[0]!.artifactType, NOTARY);

      assert.deepEqual(index?.accessories, [{ kind: 'signature', digest: f.notation.digest, artifactType: NOTARY }]);
      assert.equal(index?.signed, true);

      const v2 = await store.console.manifest('team-a/app', f.v2.digest);
      assert.deepEqual(v2?.referrers, [{ digest: f.sbomRef.digest, artifactType: SPDX, mediaType: OCI_MANIFEST, size: f.sbomRef.size, tags: [], referrers: [{ digest: f.sbomSig.digest, artifactType: COSIGN_SIG }] }]);
      // The cosign-style tags are attached too, exactly as on v2's tag row: one list for both pages.
      const v2Row = (await store.console.repository('team-a/app', { sort: 'name', limit: 10, q: 'v2' }))!.tags.items[0]!;
      assert.deepEqual(v2?.accessories, v2Row.accessories);
      assert.deepEqual(
        v2?.accessories.map((a: Accessory) => [a.kind, a.tag ?? null]),
        [
          ['sbom', null],
          ['attestation', cosignTag(f.v2, 'att')],
          ['sbom', cosignTag(f.v2, 'sbom')],
          ['signature', cosignTag(f.v2, 'sig')],
        ],
      );
      assert.equal(v2?.signed, v2Row.signed);
      assert.equal(v2?.signed, true);
      // A plain image has no artifact type; an artifact keeps its own.
      assert.equal(v2?.artifactType, null);
      assert.equal((await store.console.manifest('team-a/app', f.sbomRef.digest))?.artifactType, SPDX);
      assert.equal((await store.console.manifest('team-a/app', f.notation.digest))?.artifactType, NOTARY);
      const sig = await store.console.manifest('team-a/app', f.sigTag.digest);
      assert.deepEqual(sig?.tags, [cosignTag(f.v2, 'sig')]);
      const sbomSig = await store.console.manifest('team-a/app', f.sbomSig.digest);
      assert.equal(sbomSig?.subject, f.sbomRef.digest);

      assert.equal(await store.console.manifest('team-a/app', `sha256:${'f'.repeat(64)}`), undefined);
      assert.equal(await store.console.manifest('no/such', f.image1.digest), undefined);
      assert.equal(await store.console.manifest('team-a/api', f.image1.digest), undefined);
    });

    it('keeps repository settings and shows them in the list and the page', async () => {
      assert.equal(await store.console.settings.get('team-a/app'), undefined);
      await store.console.settings.put({ repository: 'team-a/app', description: '# App\nThe app.', visibility: 'public', updatedAt: T0 + 1, updatedBy: 'alice' });
      await store.console.settings.put({ repository: 'team-a/api', description: null, visibility: 'private', updatedAt: T0 + 2, updatedBy: null });
      await store.console.settings.put({ repository: 'lib/axb', description: 'only words', visibility: null, updatedAt: T0 + 3, updatedBy: 'bob' });
      assert.deepEqual(await store.console.settings.get('team-a/app'), { repository: 'team-a/app', description: '# App\nThe app.', visibility: 'public', updatedAt: T0 + 1, updatedBy: 'alice' });
      await store.console.settings.put({ repository: 'team-a/app', description: 'The app.', visibility: 'private', updatedAt: T0 + 4, updatedBy: 'carol' });
      assert.deepEqual(await store.console.settings.get('team-a/app'), { repository: 'team-a/app', description: 'The app.', visibility: 'private', updatedAt: T0 + 4, updatedBy: 'carol' });
      assert.deepEqual(await store.console.settings.visibilities(), [
        { repository: 'team-a/api', visibility: 'private' },
        { repository: 'team-a/app', visibility: 'private' },
      ]);
      const list = await store.console.repositories({ sort: 'name', limit: 50, within: ['team-a/', 'lib/axb'] });
      assert.deepEqual(
        list.items.map((i) => [i.name, i.description, i.visibility]),
        [
          ['lib/axb', 'only words', null],
          ['team-a/api', null, 'private'],
          ['team-a/app', 'The app.', 'private'],
          ['team-a/sub/deep', null, null],
        ],
      );
      assert.equal((await store.console.repository('team-a/app', { sort: 'name', limit: 1 }))?.summary.description, 'The app.');
      // Settings before the first push: the page exists, empty.
      await store.console.settings.put({ repository: 'future/repo', description: 'soon', visibility: 'public', updatedAt: T0 + 5, updatedBy: 'alice' });
      assert.deepEqual(await store.console.repository('future/repo', { sort: 'name', limit: 10 }), {
        summary: { name: 'future/repo', tagCount: 0, size: 0, pushedAt: null, description: 'soon', visibility: 'public' },
        tags: { items: [] },
        tagCount: 0,
        untaggedCount: 0,
        storage: { shared: 0, unique: 0 },
      });
      assert.equal(await store.console.repository('no/such', { sort: 'name', limit: 10 }), undefined);
      for (const r of ['team-a/app', 'team-a/api', 'lib/axb', 'future/repo']) await store.console.settings.delete(r);
      assert.deepEqual(await store.console.settings.visibilities(), []);
      assert.equal(await store.console.settings.get('lib/axb'), undefined);
    });

    it('keeps console sessions until they expire, are touched on, or deleted', async () => {
      const s = store.console.sessions;
      const principal = { kind: 'user', name: 'alice', teams: ['ops', 'dev'], source: 'local' };
      const session = (idHash: string, userName: string, expiresAt: number) => ({ idHash, userName, principal, csrf: `csrf-${idHash}`, createdAt: T0, expiresAt, lastSeenAt: T0 });
      await s.create(session('a1', 'alice', T0 + 1000));
      await s.create(session('a2', 'alice', T0 + 2000));
      await s.create(session('b1', 'bob', T0 + 500));
      await s.create(session('c1', 'carol', T0 + 3000));
      assert.deepEqual(await s.get('a1', T0 + 10), session('a1', 'alice', T0 + 1000));
      assert.equal(await s.get('a1', T0 + 1000), undefined, 'expired at expiresAt');
      assert.equal(await s.get('nope', T0), undefined);
      await s.touch('a1', T0 + 900, T0 + 5000);
      assert.deepEqual(await s.get('a1', T0 + 1000), { ...session('a1', 'alice', T0 + 5000), lastSeenAt: T0 + 900 });
      assert.equal(await s.purgeExpired(T0 + 2500), 2, 'a2 and b1');
      assert.equal(await s.get('b1', T0), undefined);
      assert.ok(await s.get('a1', T0));
      await s.create(session('a3', 'alice', T0 + 9000));
      assert.equal(await s.deleteForUser('alice'), 2);
      assert.equal(await s.get('a3', T0), undefined);
      assert.equal(await s.deleteForUser('alice'), 0);
      await s.delete('c1');
      assert.equal(await s.get('c1', T0), undefined);
      await s.delete('c1');
    });

    it('creates a secret once and shares it across store instances', async () => {
      let calls = 0;
      const make = (v: string) => () => (calls++, v);
      assert.equal(await store.console.secret('csrf-key', make('first')), 'first');
      assert.equal(await store.console.secret('csrf-key', make('second')), 'first');
      const other = await opened.another();
      try {
        assert.equal(await other.console.secret('csrf-key', make('third')), 'first');
        assert.equal(await other.console.secret('other-key', make('fourth')), 'fourth');
      } finally {
        await other.close();
      }
      assert.equal(await store.console.secret('other-key', make('fifth')), 'fourth');
      assert.equal(calls, 2);
    });

    it('creates empty repositories and deletes repositories with everything in them', async () => {
      assert.equal(await store.console.createRepository('empty/created', T0), false);
      assert.equal(await store.repositoryExists('empty/created'), true);
      assert.ok(!(await store.listRepositories({})).includes('empty/created'), 'the catalog lists repositories with manifests');
      assert.deepEqual(await store.console.repository('empty/created', { sort: 'pushed', limit: 10 }), {
        summary: { name: 'empty/created', tagCount: 0, size: 0, pushedAt: null, description: null, visibility: null },
        tags: { items: [] },
        tagCount: 0,
        untaggedCount: 0,
        storage: { shared: 0, unique: 0 },
      });

      const p = new Pusher(store, 'doomed/repo');
      const cfg = await p.blob('cfg', 20, OCI_CONFIG);
      const layer = await p.blob('layer', 30);
      const a = await p.put(p.image(cfg, [layer]), 'a', T0);
      await p.put(p.image(cfg, [layer]), 'b', T0);
      const amd = await p.put(p.image(cfg, [layer, await p.blob('l2', 40)]), undefined, T0);
      const idx = await p.put(p.index([{ m: amd, platform: { os: 'linux', architecture: 'amd64' } }]), 'c', T0);
      await store.console.settings.put({ repository: 'doomed/repo', description: 'x', visibility: 'public', updatedAt: T0, updatedBy: null });
      // The same blob in another repository: its link there stays.
      const keeper = new Pusher(store, 'doomed/keeper');
      await store.linkBlob(keeper.repo, layer.digest, layer.size);

      const gone = await store.console.deleteRepository('doomed/repo');
      assert.deepEqual(gone, { manifests: [a.digest, amd.digest, idx.digest].sort(byteOrder), tags: 3, links: p.linked.size });
      assert.equal(await store.repositoryExists('doomed/repo'), false);
      assert.ok(!(await store.listRepositories({})).includes('doomed/repo'));
      assert.ok((await store.listRepositories({})).includes('team-a/app'));
      assert.equal(await store.console.repository('doomed/repo', { sort: 'name', limit: 10 }), undefined);
      assert.equal(await store.console.manifest('doomed/repo', a.digest), undefined);
      assert.equal(await store.resolveTag('doomed/repo', 'a'), undefined);
      assert.equal(await store.console.settings.get('doomed/repo'), undefined);
      assert.ok(!names(await store.console.repositories({ sort: 'name', limit: 200 })).includes('doomed/repo'));
      // Blob rows stay for the garbage collector: still live (their bytes are still stored).
      for (const [digest, size] of p.linked) assert.equal(await store.reserveBlob(digest, size), 'live');
      assert.equal((await store.repositoryBlob(keeper.repo, layer.digest))?.size, layer.size);
      assert.equal(await store.console.deleteRepository('doomed/repo'), undefined);
      assert.equal(await store.console.deleteRepository('no/such'), undefined);

      // The name can be used again, from scratch.
      const again = new Pusher(store, 'doomed/repo');
      await again.put(again.image(await again.blob('cfg', 20, OCI_CONFIG), [await again.blob('layer', 30)]), 'a', T0 + 10);
      const detail = await store.console.repository('doomed/repo', { sort: 'name', limit: 10 });
      assert.deepEqual(detail?.tags.items.map((t) => t.name), ['a']);
      assert.equal(detail?.summary.pushedAt, T0 + 10);
      assert.deepEqual(await store.console.deleteRepository('doomed/repo').then((g) => g?.tags), 1);
      await store.console.deleteRepository('doomed/keeper');
    });

    it('lists a cosign accessory tag as a tag once its image has no tag of its own, and counts it', async () => {
      const p = new Pusher(store, 'orphans/app');
      const cfg = await p.blob('cfg', 20, OCI_CONFIG);
      const img = await p.put(p.image(cfg, [await p.blob('layer', 30)]), 'gone', T0);
      const sig = await p.put(p.image(cfg, [await p.blob('sig', 40)]), cosignTag(img, 'sig'), T0 + 1);
      // A tag that only looks like one (not 64 hex digits) is an ordinary tag.
      await p.put(p.image(cfg, [await p.blob('odd', 50)]), 'sha256-abc.sig', T0 + 2);
      const listed = async () => {
        const detail = (await store.console.repository('orphans/app', { sort: 'name', limit: 10 }))!;
        const summary = (await store.console.repositories({ sort: 'name', limit: 10, q: 'orphans/app' })).items.find((r) => r.name === 'orphans/app')!;
        return { tags: detail.tags.items.map((t) => t.name), count: detail.tagCount, listCount: summary.tagCount };
      };
      assert.deepEqual(await listed(), { tags: ['gone', 'sha256-abc.sig'], count: 2, listCount: 2 });
      assert.equal(await store.deleteTag('orphans/app', 'gone'), true);
      assert.deepEqual(await listed(), { tags: ['sha256-abc.sig', cosignTag(img, 'sig')].sort(byteOrder), count: 2, listCount: 2 });
      assert.equal((await store.console.repository('orphans/app', { sort: 'name', limit: 10 }))!.tags.items.find((t) => t.digest === sig.digest)?.name, cosignTag(img, 'sig'));
      await store.console.deleteRepository('orphans/app');
    });
  });
}

/** Rows as a berth before 0005 wrote them: no pushed_at on repositories, no platform or position on references. */
async function fillBefore0005(db: Kysely<any>): Promise<Record<string, string>> {
  const d = (s: string) => sha(s);
  const ids: Record<string, number> = {};
  for (const name of ['old/one', 'old/two', 'old/empty']) {
    const row = await db.insertInto('repositories').values({ name, created_at: T0 }).returning('id').executeTakeFirstOrThrow();
    ids[name] = Number(row.id);
  }
  const dg = { cfg: d('cfg'), layerB: d('layer-b'), layerA: d('layer-a'), image: d('image'), image2: d('image2'), index: d('index'), other: d('other') };
  // The layer digests sort opposite to their order in the manifest; the config sorts last.
  const [first, second] = [dg.layerA, dg.layerB].sort(byteOrder);
  const blobs = [
    [dg.cfg, 10],
    [first!, 100],
    [second!, 1000],
    [dg.image, 5],
    [dg.image2, 6],
    [dg.index, 7],
    [dg.other, 8],
  ] as const;
  for (const [digest, size] of blobs) await db.insertInto('blobs').values({ digest, size, created_at: T0, touched_at: T0 }).execute();
  const one = ids['old/one']!;
  for (const [digest] of blobs.slice(0, 6)) await db.insertInto('repository_blobs').values({ repository_id: one, digest, created_at: T0 }).execute();
  await db.insertInto('repository_blobs').values({ repository_id: ids['old/two'], digest: dg.other, created_at: T0 }).execute();
  const manifest = (repository_id: number, digest: string, media_type: string, pushed_at: number, config_digest: string | null = null) => ({
    repository_id,
    digest,
    media_type,
    size: 5,
    created_at: pushed_at,
    pushed_at,
    config_digest,
  });
  await db
    .insertInto('manifests')
    .values([
      manifest(one, dg.image, OCI_MANIFEST, T0 + 100, dg.cfg),
      manifest(one, dg.image2, OCI_MANIFEST, T0 + 300, dg.cfg),
      manifest(one, dg.index, OCI_INDEX, T0 + 200),
      manifest(ids['old/two']!, dg.other, OCI_MANIFEST, T0 + 50),
    ])
    .execute();
  await db
    .insertInto('manifest_references')
    .values([
      { repository_id: one, parent_digest: dg.image, child_digest: dg.cfg, kind: 'blob' },
      { repository_id: one, parent_digest: dg.image, child_digest: first, kind: 'blob' },
      { repository_id: one, parent_digest: dg.image, child_digest: second, kind: 'blob' },
      { repository_id: one, parent_digest: dg.image2, child_digest: dg.cfg, kind: 'blob' },
      { repository_id: one, parent_digest: dg.index, child_digest: dg.image, kind: 'manifest' },
      { repository_id: one, parent_digest: dg.index, child_digest: dg.image2, kind: 'manifest' },
    ])
    .execute();
  await db.insertInto('tags').values({ repository_id: one, name: 'multi', digest: dg.index, updated_at: T0 + 200 }).execute();
  return { ...dg, first: first!, second: second! };
}

function migrationContract(name: string, open: () => Promise<{ before: Kysely<any>; dialect: 'sqlite' | 'postgres'; after(): Promise<MetadataStore>; cleanup(): Promise<void> }>, options: { skip?: string | false } = {}): void {
  describe(`migration 0005_console over older data: ${name}`, { skip: options.skip }, () => {
    it('backfills pushed_at from the manifests, and reads references without platforms or positions', async () => {
      const o = await open();
      let store: MetadataStore | undefined;
      try {
        await migrate(o.before, { dialect: o.dialect, to: '0004_lifecycle' });
        const dg = await fillBefore0005(o.before);
        await o.before.destroy();
        store = await o.after();
        const list = await store.console.repositories({ sort: 'pushed', limit: 10 });
        assert.deepEqual(
          list.items.map((i) => [i.name, i.pushedAt, i.tagCount, i.size]),
          [
            ['old/one', T0 + 300, 1, 10 + 100 + 1000 + 5 + 6 + 7],
            ['old/two', T0 + 50, 0, 8],
            ['old/empty', null, 0, 0],
          ],
        );
        const detail = await store.console.repository('old/one', { sort: 'name', limit: 10 });
        assert.equal(detail?.untaggedCount, 0, 'both images are children of the index');
        assert.deepEqual(
          detail?.tags.items.map((t) => [t.name, t.size, t.platforms]),
          [['multi', 1110 + 10, []]],
        );
        const image = await store.console.manifest('old/one', dg.image!);
        // No recorded order: the config first, then by digest.
        assert.deepEqual(
          image?.references.map((r) => [r.digest, r.size]),
          [
            [dg.cfg, 10],
            [dg.first, 100],
            [dg.second, 1000],
          ],
        );
        // A push after the migration moves the repository's time and records the rest.
        const p = new Pusher(store, 'old/two');
        await p.put(p.image(await p.blob('cfg', 20, OCI_CONFIG), [await p.blob('layer', 30)]), 'new', T0 + 400);
        assert.deepEqual(names((await store.console.repositories({ sort: 'pushed', limit: 10 })).items), ['old/two', 'old/one', 'old/empty']);
      } finally {
        await store?.close();
        await o.cleanup();
      }
    });
  });
}

const names = (items: RepositorySummary[]) => items.map((i) => i.name);

async function sqliteDir(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-console-'));
  return { path: join(dir, 'berth.sqlite'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

consoleContract('sqlite', async () => {
  const dir = await sqliteDir();
  const store = await openSqliteMetadata(dir.path);
  return {
    store,
    another: () => openSqliteMetadata(dir.path),
    async cleanup() {
      await store.close();
      await dir.cleanup();
    },
  };
});

migrationContract('sqlite', async () => {
  const dir = await sqliteDir();
  const sqlite = new BetterSqlite3(dir.path);
  sqlite.pragma('foreign_keys = ON');
  return { before: new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: 'sqlite', after: () => openSqliteMetadata(dir.path), cleanup: dir.cleanup };
});

const skip = postgresSkip();
let server: PostgresServer | undefined;
let starting: Promise<PostgresServer> | undefined;
const getServer = () => (starting ??= startPostgres().then((s) => (server = s)));
after(() => server?.stop());

consoleContract(
  'postgres',
  async () => {
    const url = await (await getServer()).createDatabase('console');
    const store = await openPostgresMetadata({ url, poolSize: 4 });
    return { store, another: () => openPostgresMetadata({ url, poolSize: 2 }), cleanup: () => store.close() };
  },
  { skip },
);

migrationContract(
  'postgres',
  async () => {
    const url = await (await getServer()).createDatabase('console_migration');
    return {
      before: new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }) }),
      dialect: 'postgres',
      after: () => openPostgresMetadata({ url, poolSize: 2 }),
      cleanup: async () => undefined,
    };
  },
  { skip },
);
