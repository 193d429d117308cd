// GPG simple signatures stored in berth through the X-Registry-Supports-Signatures API extension
// (issue 12), judged by the real clients: skopeo --sign-by stores the signature in berth with no
// lookaside configured, and skopeo/podman with a `signedBy` policy verify it from berth (and
// refuse another key's policy, unsigned images and another tag, each for the reason they give);
// berth verify agrees with them. The clients run over plain HTTP, over TLS from `berth tls init`,
// and through berth's token service (a writer signs, a reader verifies, anonymous callers read a
// public image's signatures but may not store one): see signing-setups.ts. Also: the store on
// SQLite and PostgreSQL (signatures go with their manifest, whichever way it is deleted), the
// HTTP contract, access control through berth's token service, and berth copy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCommand, run, startDistribution, tempDir, type RunResult, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout } from '../helpers/images.ts';
import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { openPostgresMetadata } from '../../src/metadata/postgres.ts';
import type { MetadataStore, NewManifest } from '../../src/metadata/store.ts';
import { MAX_SIGNATURES_PER_MANIFEST } from '../../src/metadata/signatures/store.ts';
import { startTestRegistry, pushImage as pushTestImage, type TestRegistry } from '../http/harness.ts';
import { basic, errorBody, pushImage as pushAuthImage, startTokenRegistry, type AuthRegistry } from '../auth/harness.ts';
import { berthCli } from '../cli/helpers.ts';
import { gpgHome, signedByPolicy, type GpgHome, type GpgKey } from './gpg-helpers.ts';
import { SETUPS, USERS, startSigningSetup, type SigningSetup, type Who } from './signing-setups.ts';

const d = (s: string | Buffer = randomBytes(8)) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const sigName = (digest: string) => `${digest}@${randomBytes(16).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// The store, on both databases

function signatureStoreContract(name: string, open: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>, skip: string | false = false): void {
  describe(`signature store: ${name}`, { skip }, () => {
    let store: MetadataStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(() => cleanup?.());

    async function manifest(repo: string, tag?: string, extra: Partial<NewManifest> = {}): Promise<string> {
      const blob = d();
      await store.linkBlob(repo, blob, 10);
      const m: NewManifest = { digest: d(), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 100, blobs: [blob], children: [], configDigest: blob, ...extra };
      assert.deepEqual(await store.putManifest(repo, m, tag), { missingBlobs: [], missingChildren: [] });
      return m.digest;
    }

    it('adds, lists in order, is idempotent for the same bytes and keeps names unique', async () => {
      const m = await manifest('sig/a', 'v1');
      assert.deepEqual(await store.signatures.list('sig/a', m), []);
      const first = { name: sigName(m), type: 'atomic', content: randomBytes(300), createdBy: 'alice' };
      assert.equal(await store.signatures.add('sig/a', m, first), 'added');
      assert.equal(await store.signatures.add('sig/a', m, { ...first, name: sigName(m) }), 'exists', 'same bytes under another name');
      assert.equal(await store.signatures.add('sig/a', m, { ...first, content: randomBytes(10) }), 'name-taken');
      const second = { name: sigName(m), type: 'atomic', content: randomBytes(200) };
      assert.equal(await store.signatures.add('sig/a', m, second), 'added');
      const list = await store.signatures.list('sig/a', m);
      assert.deepEqual(
        list?.map((s) => [s.name, s.type, s.content, s.createdBy]),
        [
          [first.name, 'atomic', first.content, 'alice'],
          [second.name, 'atomic', second.content, null],
        ],
      );
      assert.deepEqual([...(await store.signatures.signed('sig/a', [m, d()]))], [m]);
      // Per repository: the same digest elsewhere has none.
      assert.equal(await store.signatures.list('sig/other', m), undefined);
    });

    it('refuses a signature for a manifest the repository does not have, and more than the limit', async () => {
      const m = await manifest('sig/b', 'v1');
      assert.equal(await store.signatures.add('sig/b', d(), { name: sigName(m), type: 'atomic', content: randomBytes(5) }), 'manifest-unknown');
      assert.equal(await store.signatures.add('sig/nothing', m, { name: sigName(m), type: 'atomic', content: randomBytes(5) }), 'manifest-unknown');
      for (let i = 0; i < MAX_SIGNATURES_PER_MANIFEST; i++) assert.equal(await store.signatures.add('sig/b', m, { name: sigName(m), type: 'atomic', content: randomBytes(20) }), 'added');
      assert.equal(await store.signatures.add('sig/b', m, { name: sigName(m), type: 'atomic', content: randomBytes(20) }), 'full');
    });

    it('keeps the signatures while the manifest lives (untagged too) and deletes them with it', async () => {
      const m = await manifest('sig/c', 'v1');
      await store.signatures.add('sig/c', m, { name: sigName(m), type: 'atomic', content: randomBytes(64) });
      assert.equal(await store.deleteTag('sig/c', 'v1'), true);
      assert.equal((await store.signatures.list('sig/c', m))?.length, 1, 'kept while the manifest lives');
      assert.equal(await store.deleteManifest('sig/c', m), true);
      assert.equal(await store.signatures.list('sig/c', m), undefined);
      // Pushed again: it starts unsigned.
      const again = { digest: m, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 100, blobs: [], children: [] };
      assert.deepEqual(await store.putManifest('sig/c', again, 'v1'), { missingBlobs: [], missingChildren: [] });
      assert.deepEqual(await store.signatures.list('sig/c', m), []);
    });

    it("goes with the manifest when GC/retention deletes it and when the repository is deleted", async () => {
      const untagged = await manifest('sig/d');
      await store.signatures.add('sig/d', untagged, { name: sigName(untagged), type: 'atomic', content: randomBytes(64) });
      assert.equal(await store.lifecycle.deleteUnreferencedManifest('sig/d', untagged, Date.now() + 60_000), true);
      assert.equal(await store.signatures.list('sig/d', untagged), undefined);

      const kept = await manifest('sig/e', 'v1');
      await store.signatures.add('sig/e', kept, { name: sigName(kept), type: 'atomic', content: randomBytes(64) });
      assert.ok(await store.console.deleteRepository('sig/e'));
      assert.equal(await store.signatures.list('sig/e', kept), undefined);
      const fresh = await manifest('sig/e', 'v1');
      assert.deepEqual([...(await store.signatures.signed('sig/e', [kept, fresh]))], []);
    });
  });
}

signatureStoreContract('sqlite', () => tempSqliteStore('berth-signatures'));

let pgServer: PostgresServer | undefined;
after(() => pgServer?.stop());
signatureStoreContract(
  'postgres',
  async () => {
    pgServer ??= await startPostgres();
    const url = await pgServer.createDatabase('signatures');
    const store = await openPostgresMetadata({ url, poolSize: 4 });
    return { store, cleanup: () => store.close() };
  },
  postgresSkip(),
);

// ---------------------------------------------------------------------------------------------
// The HTTP contract of the extension

describe('signatures API extension over HTTP', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r?.stop());
  const url = (repo: string, digest: string) => `${r.url}/extensions/v2/${repo}/signatures/${digest}`;
  const put = (repo: string, digest: string, body: unknown) =>
    fetch(url(repo, digest), { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('announces the extension on GET /v2/', async () => {
    const res = await fetch(`${r.url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-registry-supports-signatures'), '1');
  });

  it('lists nothing for an unsigned manifest and 404s an unknown one', async () => {
    const img = await pushTestImage(r.url, 'ext/app', 'v1');
    const empty = await fetch(url('ext/app', img.digest));
    assert.equal(empty.status, 200);
    assert.match(empty.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await empty.json(), { signatures: [] });
    const unknown = await fetch(url('ext/app', d()));
    assert.equal(unknown.status, 404);
    assert.equal((await errorBody(unknown))[0]?.code, 'MANIFEST_UNKNOWN');
    assert.equal((await fetch(url('ext/none', img.digest))).status, 404);
    assert.equal((await fetch(url('ext/app', 'sha256:nothex'))).status, 400);
    assert.equal((await fetch(`${r.url}/extensions/v2/ext/app/other/${img.digest}`)).status, 404);
    assert.equal((await fetch(url('ext/app', img.digest), { method: 'DELETE' })).status, 405);
  });

  it('stores the exact bytes once, answering 201 as containers/image expects', async () => {
    const img = await pushTestImage(r.url, 'ext/put', 'v1');
    const content = randomBytes(700);
    const sig = { schemaVersion: 2, name: sigName(img.digest), type: 'atomic', content: content.toString('base64') };
    const res = await put('ext/put', img.digest, sig);
    assert.equal(res.status, 201, await res.clone().text());
    assert.equal((await put('ext/put', img.digest, { ...sig, name: sigName(img.digest) })).status, 201, 'the same bytes again');
    const listed = (await (await fetch(url('ext/put', img.digest))).json()) as { signatures: { schemaVersion: number; name: string; type: string; content: string }[] };
    assert.deepEqual(listed.signatures, [sig]);
    assert.deepEqual(Buffer.from(listed.signatures[0]!.content, 'base64'), content);
    const clash = await put('ext/put', img.digest, { ...sig, content: randomBytes(10).toString('base64') });
    assert.equal(clash.status, 409);
    assert.equal((await errorBody(clash))[0]?.code, 'SIGNATURE_EXISTS');
  });

  it('validates the body: schemaVersion 2, type atomic, base64 content, the name, the size', async () => {
    const img = await pushTestImage(r.url, 'ext/bad', 'v1');
    const good = { schemaVersion: 2, name: sigName(img.digest), type: 'atomic', content: randomBytes(32).toString('base64') };
    const cases: [string, unknown][] = [
      ['not JSON', '{nope'],
      ['schemaVersion 1', { ...good, schemaVersion: 1 }],
      ['another type', { ...good, type: 'sigstore' }],
      ['content not base64', { ...good, content: 'not base64!' }],
      ['empty content', { ...good, content: '' }],
      ['name of another digest', { ...good, name: sigName(d()) }],
      ['name without the random part', { ...good, name: img.digest }],
      ['content over 64 KiB', { ...good, content: randomBytes(64 * 1024 + 1).toString('base64') }],
    ];
    for (const [what, body] of cases) {
      const res = await put('ext/bad', img.digest, body);
      assert.ok(res.status === 400 || res.status === 413, `${what}: ${res.status}`);
      assert.match((await errorBody(res))[0]?.code ?? '', /SIGNATURE_INVALID|SIZE_INVALID/, what);
    }
    const big = await put('ext/bad', img.digest, 'x'.repeat(200 * 1024));
    assert.equal(big.status, 413);
    assert.deepEqual(await (await fetch(url('ext/bad', img.digest))).json(), { signatures: [] });
    assert.equal((await put('ext/bad', d(), { ...good })).status, 400, 'the name must match the URL');
    const missing = d();
    assert.equal((await put('ext/bad', missing, { ...good, name: sigName(missing) })).status, 404);
  });
});

// ---------------------------------------------------------------------------------------------
// Access control: berth's token service, a writer and a reader

describe('signatures extension access control (token service)', () => {
  const USERS = { admin: 'admin-password-1', writer: 'writer-password-1', reader: 'reader-password-1' };
  let r: AuthRegistry;
  let digest: string;
  const sigUrl = (repo = 'team/app') => `${r.url}/extensions/v2/${repo}/signatures/${digest}`;
  const body = () => JSON.stringify({ schemaVersion: 2, name: sigName(digest), type: 'atomic', content: randomBytes(50).toString('base64') });
  const token = async (user: keyof typeof USERS, scope: string) => {
    const res = await fetch(`${r.url}/auth/token?service=berth-test&scope=${encodeURIComponent(scope)}`, { headers: { Authorization: basic(user, USERS[user]) } });
    return ((await res.json()) as { token: string }).token;
  };

  before(async () => {
    r = await startTokenRegistry(USERS, (c) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
    });
    const api = (path: string, json: unknown) =>
      fetch(`${r.url}/api/v1${path}`, { method: 'POST', headers: { Authorization: basic('admin', USERS.admin), 'Content-Type': 'application/json' }, body: JSON.stringify(json) });
    for (const [user, role] of [['writer', 'write'], ['reader', 'read']] as const) {
      assert.equal((await api('/users', { name: user })).status, 201);
      const grant = await api('/permissions', { subject: { kind: 'user', name: user }, scope: { kind: 'namespace', name: 'team' }, role });
      assert.equal(grant.status, 201, await grant.text());
    }
    digest = await pushAuthImage(r.url, 'team/app', 'v1', basic('writer', USERS.writer));
  });
  after(() => r?.stop());

  it('challenges anonymous callers like /v2, with the repository scope the operation needs', async () => {
    const base = await fetch(`${r.url}/v2/`);
    assert.equal(base.status, 401);
    assert.equal(base.headers.get('x-registry-supports-signatures'), '1', 'on the 401 of the ping too');
    const get = await fetch(sigUrl());
    assert.equal(get.status, 401);
    assert.match(get.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+\/auth\/token",service="berth-test",scope="repository:team\/app:pull"/);
    const put = await fetch(sigUrl(), { method: 'PUT', body: body() });
    assert.equal(put.status, 401);
    assert.match(put.headers.get('www-authenticate') ?? '', /scope="repository:team\/app:pull,push"/);
  });

  it('lets pull read and only push write', async () => {
    const readerPull = await token('reader', 'repository:team/app:pull');
    assert.equal((await fetch(sigUrl(), { headers: { Authorization: `Bearer ${readerPull}` } })).status, 200);
    // The reader asks for push: the token comes back with pull only, and the write is refused.
    const readerPush = await token('reader', 'repository:team/app:pull,push');
    const refused = await fetch(sigUrl(), { method: 'PUT', headers: { Authorization: `Bearer ${readerPush}` }, body: body() });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    assert.equal((await fetch(sigUrl(), { method: 'PUT', headers: { Authorization: basic('reader', USERS.reader) }, body: body() })).status, 403);
    const writer = await token('writer', 'repository:team/app:pull,push');
    assert.equal((await fetch(sigUrl(), { method: 'PUT', headers: { Authorization: `Bearer ${writer}` }, body: body() })).status, 201);
    // Another namespace: no grant.
    assert.equal((await fetch(sigUrl('other/app'), { headers: { Authorization: basic('reader', USERS.reader) } })).status, 403);
  });

  it("gives a site administrator named in berth.auth.accesscontrol.admins tokens that work (no grant needed)", async () => {
    // The token says admin, as the login did: the registry re-checks a token's principal and,
    // limited to the token's scopes, does not consult the admins list again.
    const admin = await token('admin', 'repository:team/app:pull,push');
    assert.equal((await fetch(sigUrl(), { headers: { Authorization: `Bearer ${admin}` } })).status, 200);
    assert.equal((await fetch(sigUrl(), { method: 'PUT', headers: { Authorization: `Bearer ${admin}` }, body: body() })).status, 201);
  });
});

// ---------------------------------------------------------------------------------------------
// The real clients against berth server processes, in each setup of signing-setups.ts: plain
// HTTP, TLS from `berth tls init`, and the token service with a writer, a reader and anonymous.

const missing = ['skopeo', 'podman', 'gpg'].filter((c) => !hasCommand(c));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// What containers/image says when a policy refuses an image (skopeo and podman alike). Each
// refusal below must say this, so that a network, TLS or auth failure can never pass as one.
const REFUSED = {
  unsigned: /Source image rejected: A signature was required, but no signature exists/,
  // gpgme's verdict on a signature by `fingerprint` checked against a keyring without that key (err 0x9: GPG_ERR_NO_PUBKEY).
  otherKey: (fingerprint: string) => new RegExp(`Source image rejected: Invalid GPG signature: gpgme\\.Signature\\{.*Fingerprint:\\\\?"${fingerprint}\\\\?", Status:gpgme\\.Error\\{err:0x9\\}`),
  identity: (ref: string) => new RegExp(`Source image rejected: Signature for identity ${escape(ref)} is not accepted`),
};

/** How containers/image reports berth's 401 insufficient_scope on `what` (it adds "denied" to berth's own message). */
const accessDenied = (what: string) => new RegExp(`${escape(what)}: [\\s\\S]*denied: requested access to the resource is denied[\\s\\S]*insufficient scope: the token does not grant this operation`);

function assertRefused(r: RunResult, why: RegExp, what: string): void {
  assert.notEqual(r.code, 0, `${what}: the client accepted it\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, why, `${what}: refused for another reason`);
}

for (const { kind, title } of SETUPS) {
  describe(`skopeo and podman GPG simple signing with berth: ${title}`, { skip: missing.length > 0 && `not installed: ${missing.join(', ')}` }, () => {
    let s: SigningSetup;
    let host: string;
    let work: { path: string; cleanup(): Promise<void> };
    let gpg: GpgHome;
    let trusted: GpgKey;
    let other: GpgKey;
    let regd: string;
    let srcDir: string;
    let signedDigest: string;
    let berth: ReturnType<typeof berthCli>;

    const env = () => ({ ...s.sandbox.env, ...gpg.env });
    const skopeo = (args: string[], allowFail = false) => run('skopeo', ['--registries.d', regd, ...args], { env: env(), allowFail });
    const podman = (args: string[], allowFail = false) => run('podman', [...s.sandbox.podmanFlags, ...args], { env: env(), allowFail });
    const policyFor = (name: string, key: GpgKey, scope = host) => signedByPolicy(join(work.path, `${name}.json`), scope, key.exported);
    // The writer pushes and signs; the reader pulls and verifies (with the token service; nobody logs in otherwise).
    const signAndPush = (src: string, dest: string, key = trusted) =>
      skopeo(['--insecure-policy', 'copy', ...s.skopeoAs('dest', 'writer'), '--sign-by', key.fingerprint, src, `docker://${dest}`]);
    const pushUnsigned = (src: string, dest: string) => skopeo(['--insecure-policy', 'copy', '--quiet', ...s.skopeoAs('dest', 'writer'), src, `docker://${dest}`]);
    const skopeoPull = (policy: string, ref: string, who: Who = 'reader') =>
      skopeo(['--policy', policy, 'copy', '--quiet', ...s.skopeoAs('src', who), `docker://${ref}`, `dir:${join(work.path, `pulled-${randomBytes(4).toString('hex')}`)}`], true);
    const podmanPull = (policy: string, ref: string, who: Who = 'reader') => podman(['pull', '--quiet', ...s.podmanAs(who), '--signature-policy', policy, ref], true);
    const verify = (ref: string, key: GpgKey, extra: string[] = [], who: Who = 'reader') => berth(['verify', ref, '--gpg-keyring', key.exported, ...s.berthAs(who), ...extra]);
    const signatures = async (on: RunningServer, repo: string, digest: string) => (await s.listSignatures(on, repo, digest)).body?.signatures;

    before(async () => {
      work = await tempDir(`simple-signing-${kind}`);
      s = await startSigningSetup(kind, work.path);
      host = s.server.host;
      gpg = await gpgHome(work.path);
      trusted = await gpg.generate('release');
      other = await gpg.generate('stranger');
      // No lookaside anywhere: an empty registries.d for skopeo, and for podman (whose per-user
      // directory, when present, replaces /etc/containers/registries.d).
      regd = join(work.path, 'registries.d');
      await mkdir(regd);
      await mkdir(join(s.sandbox.env.XDG_CONFIG_HOME!, 'containers', 'registries.d'), { recursive: true });
      const src = await makeOciLayout(join(work.path, 'src'), { tag: 'v1', layers: 2, layerBytes: 4096 });
      srcDir = src.dir;
      signedDigest = src.digest;
      berth = berthCli(s.sandbox.env);
    });
    after(async () => {
      await s?.stop();
      await gpg?.close();
      await work?.cleanup();
    });

    it('skopeo copy --sign-by stores the signature in berth (no lookaside)', async () => {
      const res = await signAndPush(`oci:${srcDir}:v1`, `${host}/simple/app:v1`);
      assert.match(res.stdout + res.stderr, /Storing signatures/);
      const listed = await s.listSignatures(s.server, 'simple/app', signedDigest);
      assert.equal(listed.status, 200);
      assert.equal(listed.body?.signatures.length, 1);
      assert.match(listed.body!.signatures[0]!.name, new RegExp(`^${signedDigest}@[0-9a-f]{32}$`));
      // The same image in another repository, pushed without --sign-by: signatures are per repository.
      await pushUnsigned(`oci:${srcDir}:v1`, `${host}/simple/unsigned:v1`);
      assert.deepEqual(await signatures(s.server, 'simple/unsigned', signedDigest), []);
    });

    it('skopeo and podman verify it from berth with a signedBy policy, as berth verify does', async () => {
      const policy = await policyFor('trusted', trusted);
      const sk = await skopeoPull(policy, `${host}/simple/app:v1`);
      assert.equal(sk.code, 0, sk.stderr);
      const pd = await podmanPull(policy, `${host}/simple/app:v1`);
      assert.equal(pd.code, 0, pd.stderr);
      const ok = await verify(`${host}/simple/app:v1`, trusted);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, new RegExp(`GPG signature .* by ${trusted.fingerprint}: ok, signed as ${escape(host)}/simple/app:v1`));
    });

    it("refuses the image under another key's policy, as berth verify does", async () => {
      const policy = await policyFor('stranger', other);
      assertRefused(await skopeoPull(policy, `${host}/simple/app:v1`), REFUSED.otherKey(trusted.fingerprint), 'skopeo');
      assertRefused(await podmanPull(policy, `${host}/simple/app:v1`), REFUSED.otherKey(trusted.fingerprint), 'podman');
      const v = await verify(`${host}/simple/app:v1`, other, ['--json']);
      assert.equal(v.code, 1, v.stderr);
      const report = JSON.parse(v.stdout) as { verified: boolean; signatures: { kind: string; ok: boolean; reason: string }[] };
      assert.equal(report.verified, false);
      assert.equal(report.signatures.length, 1);
      assert.match(report.signatures[0]!.reason, /not a trusted key/);
    });

    it('refuses an unsigned image, as berth verify does', async () => {
      const policy = await policyFor('trusted-unsigned', trusted);
      assertRefused(await skopeoPull(policy, `${host}/simple/unsigned:v1`), REFUSED.unsigned, 'skopeo');
      assertRefused(await podmanPull(policy, `${host}/simple/unsigned:v1`), REFUSED.unsigned, 'podman');
      const v = await verify(`${host}/simple/unsigned:v1`, trusted);
      assert.equal(v.code, 1);
      assert.match(v.stderr, /no signatures found .*\(looked at: the signatures extension\)/);
    });

    it('a signature names its image: another tag of the same digest is refused by skopeo, podman and berth verify', async () => {
      await skopeo(['--insecure-policy', 'copy', '--quiet', ...s.skopeoAs('src', 'writer'), ...s.skopeoAs('dest', 'writer'), `docker://${host}/simple/app:v1`, `docker://${host}/simple/app:v2`]);
      const policy = await policyFor('trusted-v2', trusted);
      const signedAs = REFUSED.identity(`${host}/simple/app:v1`);
      assertRefused(await skopeoPull(policy, `${host}/simple/app:v2`), signedAs, 'skopeo: signed as :v1, pulled as :v2');
      assertRefused(await podmanPull(policy, `${host}/simple/app:v2`), signedAs, 'podman: signed as :v1, pulled as :v2');
      const v = await verify(`${host}/simple/app:v2`, trusted);
      assert.equal(v.code, 1);
      assert.match(v.stderr, /signed for .*simple\/app:v1/);
      // By digest, the repository is what counts (containers/image's matchRepoDigestOrExact).
      const byDigest = await verify(`${host}/simple/app@${signedDigest}`, trusted);
      assert.equal(byDigest.code, 0, byDigest.stderr);
      const sk = await skopeoPull(policy, `${host}/simple/app@${signedDigest}`);
      assert.equal(sk.code, 0, sk.stderr);
    });

    it('berth copy brings the signatures along to another berth, where skopeo verifies them', async () => {
      const copy = (args: string[]) => berth(['copy', `${host}/simple/app:v1`, `${s.second.host}/mirror/app:v1`, ...s.berthAs('reader', 'src-'), ...s.berthAs('writer', 'dest-'), ...args]);
      const res = await copy(['--json']);
      assert.equal(res.code, 0, res.stderr);
      assert.equal((JSON.parse(res.stdout) as { signatures: number }).signatures, 1);
      const copied = await signatures(s.second, 'mirror/app', signedDigest);
      assert.equal(copied?.length, 1);
      assert.deepEqual(
        copied?.map((x) => x.content),
        (await signatures(s.server, 'simple/app', signedDigest))?.map((x) => x.content),
      );
      // Copied again: nothing new.
      const again = await copy(['--json']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((JSON.parse(again.stdout) as { signatures: number }).signatures, 0);
      // The signature names simple/app:v1 on the first server: the copy verifies with a policy that
      // maps the mirror's names to the signed ones, and not under the default identity rule.
      const remap = join(work.path, 'mirror.json');
      await writeFile(
        remap,
        JSON.stringify({
          default: [{ type: 'insecureAcceptAnything' }],
          transports: {
            docker: {
              [`${s.second.host}/mirror/app`]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: trusted.exported, signedIdentity: { type: 'remapIdentity', prefix: `${s.second.host}/mirror`, signedPrefix: `${host}/simple` } }],
            },
          },
        }),
      );
      const ok = await skopeoPull(remap, `${s.second.host}/mirror/app:v1`);
      assert.equal(ok.code, 0, ok.stderr);
      const strict = await policyFor('mirror-strict', trusted, s.second.host);
      assertRefused(await skopeoPull(strict, `${s.second.host}/mirror/app:v1`), REFUSED.identity(`${host}/simple/app:v1`), 'skopeo, default identity rule on the mirror');
    });

    it('berth copy to a registry without the extension says the signatures stayed behind', { skip: !hasCommand('docker-registry') && 'docker-registry is not installed' }, async () => {
      const dist = await startDistribution();
      try {
        const res = await berth(['copy', `${host}/simple/app:v1`, `${dist.host}/plain/app:v1`, ...s.berthAs('reader', 'src-'), '--dest-insecure']);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout + res.stderr, /1 simple signature not copied: .* does not store signatures/);
      } finally {
        await dist.stop();
      }
    });

    it('the signature disappears with its manifest', async () => {
      await signAndPush(`oci:${srcDir}:v1`, `${host}/simple/gone:v1`);
      assert.equal((await signatures(s.server, 'simple/gone', signedDigest))?.length, 1);
      await skopeo(['delete', ...s.skopeoAs('', 'admin'), `docker://${host}/simple/gone@${signedDigest}`]);
      assert.equal((await s.listSignatures(s.server, 'simple/gone', signedDigest)).status, 404);
      // Pushed again unsigned: no signature comes back, and the policy refuses it for that reason.
      await pushUnsigned(`oci:${srcDir}:v1`, `${host}/simple/gone:v1`);
      assert.deepEqual(await signatures(s.server, 'simple/gone', signedDigest), []);
      const policy = await policyFor('trusted-gone', trusted);
      assertRefused(await skopeoPull(policy, `${host}/simple/gone:v1`), REFUSED.unsigned, 'skopeo');
    });

    // Logins exist only with the token service.
    if (kind === 'token') it('anonymous callers read the signatures of a public image but may not store one; a reader may not either', async () => {
      await signAndPush(`oci:${srcDir}:v1`, `${host}/pub/app:v1`);
      const policy = await policyFor('trusted-pub', trusted);
      // Reading: `pub` is public, so skopeo, podman and berth verify check the signature with no login at all.
      const sk = await skopeoPull(policy, `${host}/pub/app:v1`, 'anonymous');
      assert.equal(sk.code, 0, sk.stderr);
      const pd = await podmanPull(policy, `${host}/pub/app:v1`, 'anonymous');
      assert.equal(pd.code, 0, pd.stderr);
      const v = await verify(`${host}/pub/app:v1`, trusted, [], 'anonymous');
      assert.equal(v.code, 0, v.stderr);
      assertRefused(await skopeoPull(await policyFor('stranger-pub', other), `${host}/pub/app:v1`, 'anonymous'), REFUSED.otherKey(trusted.fingerprint), 'skopeo, anonymous, another key');

      // Writing: the extension itself answers an anonymous PUT with the challenge for push, an
      // anonymous token (which the token service grants pull only) with insufficient_scope, and a
      // user who may only pull with 403, while it serves the GET to all of them.
      const url = `${s.server.url}/extensions/v2/pub/app/signatures/${signedDigest}`;
      const sig = JSON.stringify({ schemaVersion: 2, name: sigName(signedDigest), type: 'atomic', content: randomBytes(64).toString('base64') });
      const anonGet = await fetch(url);
      assert.equal(anonGet.status, 200);
      assert.equal(((await anonGet.json()) as { signatures: unknown[] }).signatures.length, 1);
      const anonPut = await fetch(url, { method: 'PUT', body: sig });
      assert.equal(anonPut.status, 401);
      assert.match(anonPut.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+\/auth\/token",service="berth-signing",scope="repository:pub\/app:pull,push"/);
      const tokenRes = await fetch(`${s.server.url}/auth/token?service=berth-signing&scope=${encodeURIComponent('repository:pub/app:pull,push')}`);
      assert.equal(tokenRes.status, 200);
      const anonToken = ((await tokenRes.json()) as { token: string }).token;
      assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${anonToken}` } })).status, 200, 'the anonymous token reads');
      const scoped = await fetch(url, { method: 'PUT', headers: { Authorization: `Bearer ${anonToken}` }, body: sig });
      assert.equal(scoped.status, 401);
      assert.match(scoped.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      const readerPut = await fetch(url, { method: 'PUT', headers: { Authorization: basic('reader', USERS.reader) }, body: sig });
      assert.equal(readerPut.status, 403);
      assert.equal((await errorBody(readerPut))[0]?.code, 'DENIED');

      // With the clients: skopeo --sign-by of the image they may pull, into its own repository.
      // containers/image writes the manifest before the signatures, so the registry refuses the
      // manifest first; what counts is that the refusal is about access and nothing got stored.
      const anonSign = await skopeo(['--insecure-policy', 'copy', ...s.skopeoAs('src', 'anonymous'), ...s.skopeoAs('dest', 'anonymous'), '--sign-by', other.fingerprint, `docker://${host}/pub/app:v1`, `docker://${host}/pub/app:v1`], true);
      // (containers/image turns the 401 insufficient_scope into "denied" and adds berth's own message.)
      const pushDenied = (repo: string) => accessDenied(`writing manifest: uploading manifest v1 to ${host}/${repo}`);
      assertRefused(anonSign, pushDenied('pub/app'), 'skopeo --sign-by, anonymous');
      const readerSign = await skopeo(['--insecure-policy', 'copy', ...s.skopeoAs('src', 'reader'), ...s.skopeoAs('dest', 'reader'), '--sign-by', other.fingerprint, `docker://${host}/simple/app:v1`, `docker://${host}/simple/app:v1`], true);
      assertRefused(readerSign, pushDenied('simple/app'), 'skopeo --sign-by, reader');
      assert.equal((await signatures(s.server, 'pub/app', signedDigest))?.length, 1);
      assert.equal((await signatures(s.server, 'simple/app', signedDigest))?.length, 1);

      // A private namespace stays closed to anonymous callers: refused as unauthorised, before any signature is looked at.
      const privatePolicy = await policyFor('trusted-private', trusted);
      const anonPrivate = await skopeoPull(privatePolicy, `${host}/simple/app:v1`, 'anonymous');
      const pullDenied = accessDenied(`reading manifest v1 in ${host}/simple/app`);
      assertRefused(anonPrivate, pullDenied, 'skopeo, anonymous, private namespace');
      assert.doesNotMatch(anonPrivate.stderr, /signature/i);
      const podmanPrivate = await podmanPull(privatePolicy, `${host}/simple/app:v1`, 'anonymous');
      assertRefused(podmanPrivate, pullDenied, 'podman, anonymous, private namespace');
      assert.doesNotMatch(podmanPrivate.stderr, /signature/i);
    });
  });
}
