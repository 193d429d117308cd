// GPG simple signatures stored in berth through the X-Registry-Supports-Signatures API extension
// (issue 12), judged by the real clients: skopeo --sign-by stores the signature in berth with no
// lookaside configured, and skopeo/podman with a `signedBy` policy verify it from berth (and
// refuse another key's policy and unsigned images); berth verify agrees with them. Also: the
// store on SQLite and PostgreSQL (signatures go with their manifest, whichever way it is
// deleted), the HTTP contract, access control through berth's token service, and berth copy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { clientSandbox, hasCommand, run, startBerth, startDistribution, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
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

  it('works with skopeo through the token flow: the writer signs, the reader verifies', { skip: !(hasCommand('skopeo') && hasCommand('gpg')) && 'skopeo or gpg missing' }, async () => {
    const work = await tempDir('sig-auth');
    const sb = await clientSandbox('sig-auth', [r.url.replace(/^http:\/\//, '')]);
    const gpg = await gpgHome(work.path);
    try {
      const host = r.url.replace(/^http:\/\//, '');
      const key = await gpg.generate('ci');
      const regd = join(work.path, 'registries.d');
      await mkdir(regd);
      const src = await makeOciLayout(join(work.path, 'src'), { tag: 'v1', layers: 1, layerBytes: 2048 });
      const env = { ...sb.env, ...gpg.env };
      await run('skopeo', ['--registries.d', regd, '--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', `writer:${USERS.writer}`, '--sign-by', key.fingerprint, `oci:${src.dir}:v1`, `docker://${host}/team/signed:v1`], { env });
      const signedDigest = src.digest;
      const stored = await fetch(`${r.url}/extensions/v2/team/signed/signatures/${signedDigest}`, { headers: { Authorization: basic('reader', USERS.reader) } });
      assert.equal(((await stored.json()) as { signatures: unknown[] }).signatures.length, 1, 'stored in berth through the token flow');
      const policy = await signedByPolicy(join(work.path, 'policy.json'), `${host}/team/signed`, key.exported);
      const out = join(work.path, 'out');
      await run('skopeo', ['--registries.d', regd, '--policy', policy, 'copy', '--quiet', '--src-tls-verify=false', '--src-creds', `reader:${USERS.reader}`, `docker://${host}/team/signed:v1`, `dir:${out}`], { env });
      // Without credentials the reader's side cannot even read the signatures.
      const anon = await run('skopeo', ['--registries.d', regd, '--policy', policy, 'copy', '--quiet', '--src-tls-verify=false', `docker://${host}/team/signed:v1`, `dir:${out}-anon`], { env, allowFail: true });
      assert.notEqual(anon.code, 0);
    } finally {
      await gpg.close();
      await sb.cleanup();
      await work.cleanup();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The real clients against a berth server process

const missing = ['skopeo', 'podman', 'gpg'].filter((c) => !hasCommand(c));

describe('skopeo and podman GPG simple signing with berth', { skip: missing.length > 0 && `not installed: ${missing.join(', ')}` }, () => {
  let server: RunningServer;
  let second: RunningServer;
  let sb: ClientSandbox;
  let work: { path: string; cleanup(): Promise<void> };
  let gpg: GpgHome;
  let trusted: GpgKey;
  let other: GpgKey;
  let regd: string;
  let srcDir: string;
  let signedDigest: string;
  let berth: ReturnType<typeof berthCli>;

  const env = () => ({ ...sb.env, ...gpg.env });
  const skopeo = (args: string[], allowFail = false) => run('skopeo', ['--registries.d', regd, ...args], { env: env(), allowFail });
  const podman = (args: string[], allowFail = false) => run('podman', [...sb.podmanFlags, ...args], { env: env(), allowFail });
  const policyFor = (name: string, key: GpgKey, scope = server.host) => signedByPolicy(join(work.path, `${name}.json`), scope, key.exported);
  const listSignatures = async (host: RunningServer, repo: string, digest: string) => {
    const res = await fetch(`${host.url}/extensions/v2/${repo}/signatures/${digest}`);
    return { status: res.status, body: res.status === 200 ? ((await res.json()) as { signatures: { name: string; content: string }[] }) : undefined };
  };

  before(async () => {
    server = await startBerth();
    second = await startBerth();
    sb = await clientSandbox('simple-signing', [server.host, second.host]);
    work = await tempDir('simple-signing');
    gpg = await gpgHome(work.path);
    trusted = await gpg.generate('release');
    other = await gpg.generate('stranger');
    // No lookaside anywhere: an empty registries.d for skopeo, and for podman (whose per-user
    // directory, when present, replaces /etc/containers/registries.d).
    regd = join(work.path, 'registries.d');
    await mkdir(regd);
    await mkdir(join(sb.env.XDG_CONFIG_HOME!, 'containers', 'registries.d'), { recursive: true });
    const src = await makeOciLayout(join(work.path, 'src'), { tag: 'v1', layers: 2, layerBytes: 4096 });
    srcDir = src.dir;
    signedDigest = src.digest;
    berth = berthCli(sb.env);
  });
  after(async () => {
    await server?.stop();
    await second?.stop();
    await gpg?.close();
    await sb?.cleanup();
    await work?.cleanup();
  });

  it('skopeo copy --sign-by stores the signature in berth (no lookaside)', async () => {
    const res = await skopeo(['--insecure-policy', 'copy', '--dest-tls-verify=false', '--sign-by', trusted.fingerprint, `oci:${srcDir}:v1`, `docker://${server.host}/simple/app:v1`]);
    assert.match(res.stdout + res.stderr, /Storing signatures/);
    const listed = await listSignatures(server, 'simple/app', signedDigest);
    assert.equal(listed.status, 200);
    assert.equal(listed.body?.signatures.length, 1);
    assert.match(listed.body!.signatures[0]!.name, new RegExp(`^${signedDigest}@[0-9a-f]{32}$`));
    // The same image in another repository, pushed without --sign-by: signatures are per repository.
    await skopeo(['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${srcDir}:v1`, `docker://${server.host}/simple/unsigned:v1`]);
    assert.deepEqual((await listSignatures(server, 'simple/unsigned', signedDigest)).body, { signatures: [] });
  });

  it('skopeo and podman verify it from berth with a signedBy policy', async () => {
    const policy = await policyFor('trusted', trusted);
    await skopeo(['--policy', policy, 'copy', '--quiet', '--src-tls-verify=false', `docker://${server.host}/simple/app:v1`, `dir:${join(work.path, 'verified')}`]);
    await podman(['pull', '--quiet', '--tls-verify=false', '--signature-policy', policy, `${server.host}/simple/app:v1`]);
    const ok = await berth(['verify', `${server.host}/simple/app:v1`, '--gpg-keyring', trusted.exported, '--insecure']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`GPG signature .* by ${trusted.fingerprint}: ok, signed as ${server.host}/simple/app:v1`));
  });

  it("refuses the image under another key's policy, as berth verify does", async () => {
    const policy = await policyFor('stranger', other);
    const s = await skopeo(['--policy', policy, 'copy', '--quiet', '--src-tls-verify=false', `docker://${server.host}/simple/app:v1`, `dir:${join(work.path, 'refused')}`], true);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /Source image rejected|signature/i);
    const p = await podman(['pull', '--quiet', '--tls-verify=false', '--signature-policy', policy, `${server.host}/simple/app:v1`], true);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /rejected|signature/i);
    const v = await berth(['verify', `${server.host}/simple/app:v1`, '--gpg-keyring', other.exported, '--insecure', '--json']);
    assert.equal(v.code, 1);
    const report = JSON.parse(v.stdout) as { verified: boolean; signatures: { kind: string; ok: boolean; reason: string }[] };
    assert.equal(report.verified, false);
    assert.match(report.signatures[0]!.reason, /not a trusted key/);
  });

  it('refuses an unsigned image, as berth verify does', async () => {
    const policy = await policyFor('trusted-unsigned', trusted);
    const s = await skopeo(['--policy', policy, 'copy', '--quiet', '--src-tls-verify=false', `docker://${server.host}/simple/unsigned:v1`, `dir:${join(work.path, 'unsigned')}`], true);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /no signature exists|signature was required/i);
    const p = await podman(['pull', '--quiet', '--tls-verify=false', '--signature-policy', policy, `${server.host}/simple/unsigned:v1`], true);
    assert.notEqual(p.code, 0);
    const v = await berth(['verify', `${server.host}/simple/unsigned:v1`, '--gpg-keyring', trusted.exported, '--insecure']);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /no signatures found/);
  });

  it('a signature names its image: another tag of the same digest is refused by skopeo and berth verify', async () => {
    await skopeo(['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${server.host}/simple/app:v1`, `docker://${server.host}/simple/app:v2`]);
    const policy = await policyFor('trusted-v2', trusted);
    const s = await skopeo(['--policy', policy, 'copy', '--quiet', '--src-tls-verify=false', `docker://${server.host}/simple/app:v2`, `dir:${join(work.path, 'v2')}`], true);
    assert.notEqual(s.code, 0, 'signed as :v1, pulled as :v2');
    const v = await berth(['verify', `${server.host}/simple/app:v2`, '--gpg-keyring', trusted.exported, '--insecure']);
    assert.equal(v.code, 1);
    assert.match(v.stderr, /signed for .*simple\/app:v1/);
    // By digest, the repository is what counts (containers/image's matchRepoDigestOrExact).
    const byDigest = await berth(['verify', `${server.host}/simple/app@${signedDigest}`, '--gpg-keyring', trusted.exported, '--insecure']);
    assert.equal(byDigest.code, 0, byDigest.stderr);
  });

  it('berth copy brings the signatures along to another berth, where skopeo verifies them', async () => {
    const res = await berth(['copy', `${server.host}/simple/app:v1`, `${second.host}/mirror/app:v1`, '--insecure', '--json']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as { signatures: number }).signatures, 1);
    const copied = await listSignatures(second, 'mirror/app', signedDigest);
    assert.deepEqual(
      copied.body?.signatures.map((s) => s.content),
      (await listSignatures(server, 'simple/app', signedDigest)).body?.signatures.map((s) => s.content),
    );
    // Copied again: nothing new.
    const again = await berth(['copy', `${server.host}/simple/app:v1`, `${second.host}/mirror/app:v1`, '--insecure', '--json']);
    assert.equal((JSON.parse(again.stdout) as { signatures: number }).signatures, 0);
    // The signature names simple/app:v1, so the copy verifies under that name's identity rule only
    // by digest with a policy that accepts the repository it was signed for.
    const policy = join(work.path, 'mirror.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      policy,
      JSON.stringify({
        default: [{ type: 'insecureAcceptAnything' }],
        transports: {
          docker: {
            [`${second.host}/mirror/app`]: [
              { type: 'signedBy', keyType: 'GPGKeys', keyPath: trusted.exported, signedIdentity: { type: 'remapIdentity', prefix: `${second.host}/mirror`, signedPrefix: `${server.host}/simple` } },
            ],
          },
        },
      }),
    );
    await skopeo(['--policy', policy, 'copy', '--quiet', '--src-tls-verify=false', `docker://${second.host}/mirror/app:v1`, `dir:${join(work.path, 'mirror')}`]);
  });

  it('berth copy to a registry without the extension says the signatures stayed behind', { skip: !hasCommand('docker-registry') && 'docker-registry is not installed' }, async () => {
    const dist = await startDistribution();
    try {
      const res = await berth(['copy', `${server.host}/simple/app:v1`, `${dist.host}/plain/app:v1`, '--insecure']);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout + res.stderr, /1 simple signature not copied: .* does not store signatures/);
    } finally {
      await dist.stop();
    }
  });

  it('the signature disappears with its manifest', async () => {
    await skopeo(['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--sign-by', trusted.fingerprint, `oci:${srcDir}:v1`, `docker://${server.host}/simple/gone:v1`]);
    assert.equal((await listSignatures(server, 'simple/gone', signedDigest)).body?.signatures.length, 1);
    await skopeo(['delete', '--tls-verify=false', `docker://${server.host}/simple/gone@${signedDigest}`]);
    assert.equal((await listSignatures(server, 'simple/gone', signedDigest)).status, 404);
    // Pushed again unsigned: no signature comes back, and the policy refuses it.
    await skopeo(['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', `oci:${srcDir}:v1`, `docker://${server.host}/simple/gone:v1`]);
    assert.deepEqual((await listSignatures(server, 'simple/gone', signedDigest)).body, { signatures: [] });
    const policy = await policyFor('trusted-gone', trusted);
    const s = await skopeo(['--policy', policy, 'copy', '--quiet', '--src-tls-verify=false', `docker://${server.host}/simple/gone:v1`, `dir:${join(work.path, 'gone')}`], true);
    assert.notEqual(s.code, 0);
  });
});
