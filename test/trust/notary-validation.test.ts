// The Notary server's update validation, case by case, on a real (SQLite) metadata store: what a
// notary server accepts (first publish with a client-held snapshot, a server-made snapshot,
// delegations, root rotation) and every rejection with the error the notary client reads back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import type { KyselyMetadataStore } from '../../src/metadata/kysely-store.ts';
import { NotaryError } from '../../src/trust/notary/errors.ts';
import { KeyVault } from '../../src/trust/notary/key-vault.ts';
import { ServerKeys } from '../../src/trust/notary/server-keys.ts';
import { NotaryService } from '../../src/trust/notary/service.ts';
import { signedFile as serverSignedFile, SNAPSHOT_LIFETIME_MS, timestampBody } from '../../src/trust/notary/generate.ts';
import { loadNotaryState } from '../../src/trust/policy/notary.ts';
import { canonicalBytes } from '../../src/trust/notary/canonical.ts';
import { parseKey, type TufKey } from '../../src/trust/notary/keys.ts';
import { plainKey, rootBody, rootKey, signedFile, snapshotBody, targetsBody, type KeyPair } from './notary-fixtures.ts';

const GUN = 'localhost:5000/team/app';

function rejectsWith(p: Promise<unknown>, code: string, kind?: string, message?: RegExp): Promise<void> {
  return assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NotaryError, `not a NotaryError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (kind) assert.equal(e.validation?.kind, kind, e.message);
    if (message) assert.match(e.message, message);
    // The body the client reads back: exactly one error with the serialised validation error.
    const json = e.toJSON();
    assert.equal(json.errors.length, 1);
    if (e.status === 400) assert.ok((json.errors[0]!.detail as { Name?: string }).Name);
    assert.ok(JSON.stringify(json).length < 1024);
    return true;
  });
}

describe('Notary update validation', () => {
  let store: KyselyMetadataStore;
  let cleanup: () => Promise<void>;
  let dir: string;
  let service: NotaryService;
  let n = 0;
  /** A fresh GUN per test, on the same store. */
  const gun = () => `${GUN}${++n}`;

  before(async () => {
    ({ store, cleanup } = await tempSqliteStore('notary-validation'));
    dir = await mkdtemp(join(tmpdir(), 'notary-keys-'));
    service = new NotaryService(store.notary, new ServerKeys(store.notary, new KeyVault({ keyfile: join(dir, 'server.key') })), pino({ level: 'silent' }));
  });
  after(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /** A repository as `notary init` makes it: root key (certificate), targets and snapshot keys, the server's timestamp key. */
  async function initRepo(g: string, opts: { serverSnapshot?: boolean; rootKeys?: KeyPair[]; rootThreshold?: number } = {}) {
    const root = opts.rootKeys ?? [await rootKey(g)];
    const targets = plainKey();
    const snapshot = opts.serverSnapshot ? undefined : plainKey();
    const timestampKey = await service.publicKey(g, 'timestamp');
    const snapshotKey: TufKey = snapshot ? snapshot.tuf : await service.publicKey(g, 'snapshot');
    const roles = {
      root: { keys: root.map((k) => k.tuf), threshold: opts.rootThreshold ?? 1 },
      targets: { keys: [targets.tuf] },
      snapshot: { keys: [snapshotKey] },
      timestamp: { keys: [timestampKey] },
    };
    return { g, root, targets, snapshot, timestampKey, snapshotKey, roles };
  }

  function firstPublish(r: Awaited<ReturnType<typeof initRepo>>, files: Record<string, Buffer> = {}) {
    const rootFile = signedFile(rootBody(r.roles, 1), r.root);
    const targetsFile = signedFile(targetsBody(1, files), [r.targets]);
    const uploads = new Map([
      ['root', rootFile],
      ['targets', targetsFile],
    ]);
    if (r.snapshot) uploads.set('snapshot', signedFile(snapshotBody({ root: rootFile, targets: targetsFile }, 1), [r.snapshot]));
    return { uploads, rootFile, targetsFile };
  }

  it('accepts a first publish with a client-held snapshot and signs a timestamp over the stored snapshot bytes', async () => {
    const r = await initRepo(gun());
    const { uploads } = firstPublish(r, { v1: Buffer.from('image one') });
    await service.update(r.g, uploads);
    for (const role of ['root', 'targets', 'snapshot']) assert.deepEqual((await service.current(r.g, role))!.data, uploads.get(role));
    const ts = (await service.current(r.g, 'timestamp'))!;
    const doc = JSON.parse(ts.data.toString()) as { signed: { _type: string; version: number; meta: { snapshot: { length: number; hashes: Record<string, string> } } }; signatures: { keyid: string; method: string; sig: string }[] };
    assert.equal(doc.signed._type, 'Timestamp');
    assert.equal(doc.signed.version, 1);
    const snap = uploads.get('snapshot')!;
    assert.equal(doc.signed.meta.snapshot.length, snap.length);
    assert.equal(doc.signed.meta.snapshot.hashes.sha256, createHash('sha256').update(snap).digest('base64'));
    assert.equal(doc.signed.meta.snapshot.hashes.sha512, createHash('sha512').update(snap).digest('base64'));
    // Signed with the key the root lists for the timestamp role: raw r||s over the canonical JSON.
    const key = parseKey(r.timestampKey);
    assert.equal(doc.signatures[0]!.keyid, key.id);
    assert.equal(doc.signatures[0]!.method, 'ecdsa');
    const sig = Buffer.from(doc.signatures[0]!.sig, 'base64');
    assert.equal(sig.length, 64);
    assert.ok(verify('sha256', canonicalBytes(doc.signed), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, sig));
    // By checksum and by version, the same bytes.
    assert.deepEqual((await service.byChecksum(r.g, 'snapshot', createHash('sha256').update(snap).digest('hex')))!.data, snap);
    assert.deepEqual((await service.byVersion(r.g, 'root', 1))!.data, uploads.get('root'));
  });

  it('refuses a root whose certificate CN is not the GUN', async () => {
    const g = gun();
    const r = await initRepo(g, { rootKeys: [await rootKey(g, { cn: 'localhost:5000/other/app' })] });
    await rejectsWith(service.update(g, firstPublish(r).uploads), 'INVALID_UPDATE', 'ErrBadRoot', /does not match the GUN/);
    assert.equal(await service.exists(g), false);
  });

  it('refuses a root whose certificate has expired (or is not yet valid)', async () => {
    const g = gun();
    const expired = await rootKey(g, { notBefore: new Date(Date.now() - 400 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    await rejectsWith(service.update(g, firstPublish(await initRepo(g, { rootKeys: [expired] })).uploads), 'INVALID_UPDATE', 'ErrBadRoot', /expired or not yet valid/);
    const future = await rootKey(g, { notBefore: new Date(Date.now() + 3 * 86_400_000), notAfter: new Date(Date.now() + 400 * 86_400_000) });
    await rejectsWith(service.update(g, firstPublish(await initRepo(g, { rootKeys: [future] })).uploads), 'INVALID_UPDATE', 'ErrBadRoot');
  });

  it('refuses a root signed by fewer root keys than its threshold', async () => {
    const g = gun();
    const keys = [await rootKey(g), await rootKey(g)];
    const r = await initRepo(g, { rootKeys: keys, rootThreshold: 2 });
    const { uploads } = firstPublish(r);
    uploads.set('root', signedFile(rootBody(r.roles, 1), [keys[0]!]));
    await rejectsWith(service.update(g, uploads), 'INVALID_UPDATE', 'ErrBadRoot', /threshold/);
    // Both keys sign: accepted (the snapshot must cover the root as uploaded).
    const root = signedFile(rootBody(r.roles, 1), keys);
    uploads.set('root', root);
    uploads.set('snapshot', signedFile(snapshotBody({ root, targets: uploads.get('targets')! }, 1), [r.snapshot!]));
    await service.update(g, uploads);
  });

  it('accepts an RSA (rsa-x509, rsapss) root and ed25519 targets keys', async () => {
    const g = gun();
    const root = await rootKey(g, { rsa: true });
    const r = await initRepo(g, { rootKeys: [root] });
    const targets = plainKey('ed25519');
    r.roles.targets = { keys: [targets.tuf] };
    const rootFile = signedFile(rootBody(r.roles, 1), [root]);
    const targetsFile = signedFile(targetsBody(1), [targets]);
    const snap = signedFile(snapshotBody({ root: rootFile, targets: targetsFile }, 1), [r.snapshot!]);
    await service.update(g, new Map([['root', rootFile], ['targets', targetsFile], ['snapshot', snap]]));
  });

  it('rotates the root only when the new root is signed by the old root keys as well as the new ones', async () => {
    const r = await initRepo(gun());
    const first = firstPublish(r);
    await service.update(r.g, first.uploads);
    const newRoot = await rootKey(r.g);
    const roles = { ...r.roles, root: { keys: [newRoot.tuf] } };
    const snapFor = (root: Buffer, version: number) => signedFile(snapshotBody({ root, targets: first.targetsFile }, version), [r.snapshot!]);

    const onlyNew = signedFile(rootBody(roles, 2), [newRoot]);
    await rejectsWith(service.update(r.g, new Map([['root', onlyNew], ['snapshot', snapFor(onlyNew, 2)]])), 'INVALID_UPDATE', 'ErrBadRoot', /rotate/);
    const onlyOld = signedFile(rootBody(roles, 2), r.root);
    await rejectsWith(service.update(r.g, new Map([['root', onlyOld], ['snapshot', snapFor(onlyOld, 2)]])), 'INVALID_UPDATE', 'ErrBadRoot', /integrity/);
    // Skipping a version is refused too.
    const skipped = signedFile(rootBody(roles, 3), [...r.root, newRoot]);
    await rejectsWith(service.update(r.g, new Map([['root', skipped], ['snapshot', snapFor(skipped, 2)]])), 'INVALID_UPDATE', 'ErrBadRoot', /increment/);

    const both = signedFile(rootBody(roles, 2), [...r.root, newRoot]);
    await service.update(r.g, new Map([['root', both], ['snapshot', snapFor(both, 2)]]));
    assert.deepEqual((await service.current(r.g, 'root'))!.data, both);
    assert.deepEqual((await service.byVersion(r.g, 'root', 1))!.data, first.rootFile);
  });

  it('refuses targets signed by a key the root does not list for targets', async () => {
    const r = await initRepo(gun());
    const first = firstPublish(r);
    await service.update(r.g, first.uploads);
    const intruder = plainKey();
    const targets = signedFile(targetsBody(2, { evil: Buffer.from('x') }), [intruder]);
    const snap = signedFile(snapshotBody({ root: first.rootFile, targets }, 2), [r.snapshot!]);
    await rejectsWith(service.update(r.g, new Map([['targets', targets], ['snapshot', snap]])), 'INVALID_UPDATE', 'ErrBadTargets', /threshold/);
    // Expired targets are refused as well.
    const old = signedFile(targetsBody(2, {}, [], -1), [r.targets]);
    await rejectsWith(service.update(r.g, new Map([['targets', old], ['snapshot', signedFile(snapshotBody({ root: first.rootFile, targets: old }, 2), [r.snapshot!])]])), 'INVALID_UPDATE', 'ErrBadTargets', /expired/);
  });

  it('refuses a role whose version is not above the stored one (400 VERSION)', async () => {
    const r = await initRepo(gun());
    const first = firstPublish(r);
    await service.update(r.g, first.uploads);
    const again = signedFile(targetsBody(1, { other: Buffer.from('y') }), [r.targets]);
    await rejectsWith(service.update(r.g, new Map([['targets', again], ['snapshot', signedFile(snapshotBody({ root: first.rootFile, targets: again }, 2), [r.snapshot!])]])), 'VERSION');
    const snapAgain = signedFile(snapshotBody({ root: first.rootFile, targets: first.targetsFile }, 1), [r.snapshot!]);
    await rejectsWith(service.update(r.g, new Map([['snapshot', snapAgain]])), 'VERSION');
  });

  it('refuses an uploaded snapshot whose hashes do not match the exact bytes, or that the snapshot key did not sign', async () => {
    const r = await initRepo(gun());
    const first = firstPublish(r);
    await service.update(r.g, first.uploads);
    const targets = signedFile(targetsBody(2, { v2: Buffer.from('two') }), [r.targets]);
    // The same JSON with a space added: other bytes, so other hashes.
    const reformatted = Buffer.concat([Buffer.from(' '), targets]);
    const wrong = signedFile(snapshotBody({ root: first.rootFile, targets: reformatted }, 2), [r.snapshot!]);
    await rejectsWith(service.update(r.g, new Map([['targets', targets], ['snapshot', wrong]])), 'INVALID_UPDATE', 'ErrBadSnapshot', /checksum mismatch/);
    const notSigned = signedFile(snapshotBody({ root: first.rootFile, targets }, 2), [r.targets]);
    await rejectsWith(service.update(r.g, new Map([['targets', targets], ['snapshot', notSigned]])), 'INVALID_UPDATE', 'ErrBadSnapshot', /threshold/);
    // Without a snapshot, when the client holds the snapshot key: the server cannot make one.
    await rejectsWith(service.update(r.g, new Map([['targets', targets]])), 'INVALID_UPDATE', 'ErrBadHierarchy');
  });

  it('refuses a delegation that is not a direct child of its parent, or that its parent does not delegate', async () => {
    const r = await initRepo(gun(), { serverSnapshot: true });
    const delegate = plainKey();
    const first = firstPublish(r);
    await service.update(r.g, first.uploads);
    // targets delegating to a grandchild
    const grandchild = signedFile(targetsBody(2, {}, [{ name: 'targets/a/b', keys: [delegate.tuf] }]), [r.targets]);
    await rejectsWith(service.update(r.g, new Map([['targets', grandchild]])), 'INVALID_UPDATE', 'ErrBadTargets', /direct child/);
    // a delegation file nobody delegated to
    const stray = signedFile(targetsBody(1, { x: Buffer.from('x') }), [delegate]);
    await rejectsWith(service.update(r.g, new Map([['targets/releases', stray]])), 'INVALID_UPDATE', 'ErrBadTargets', /not delegated/);
    // a delegation under a parent that does not exist
    await rejectsWith(service.update(r.g, new Map([['targets/a/b', stray]])), 'INVALID_UPDATE', 'ErrBadTargets', /must be published/);
    // delegated, but signed by the wrong key
    const delegating = signedFile(targetsBody(2, {}, [{ name: 'targets/releases', keys: [delegate.tuf] }]), [r.targets]);
    await service.update(r.g, new Map([['targets', delegating]]));
    await rejectsWith(service.update(r.g, new Map([['targets/releases', signedFile(targetsBody(1, { x: Buffer.from('x') }), [r.targets])]])), 'INVALID_UPDATE', 'ErrBadTargets', /threshold/);
    // and by the delegate: accepted, and the server's snapshot lists it
    await service.update(r.g, new Map([['targets/releases', stray]]));
    const snap = JSON.parse((await service.current(r.g, 'snapshot'))!.data.toString()) as { signed: { meta: Record<string, { hashes: { sha256: string } }>; version: number } };
    assert.deepEqual(Object.keys(snap.signed.meta).sort(), ['root', 'targets', 'targets/releases']);
    assert.equal(snap.signed.meta['targets/releases']!.hashes.sha256, createHash('sha256').update(stray).digest('base64'));
  });

  it('makes the snapshot when the server holds its key, and refuses an update without a root anywhere', async () => {
    const r = await initRepo(gun(), { serverSnapshot: true });
    await rejectsWith(service.update(r.g, new Map([['targets', signedFile(targetsBody(1), [r.targets])]])), 'INVALID_UPDATE', 'ErrValidation', /no pre-existing root/);
    const first = firstPublish(r, { v1: Buffer.from('one') });
    assert.equal(first.uploads.has('snapshot'), false);
    await service.update(r.g, first.uploads);
    const snap = (await service.current(r.g, 'snapshot'))!;
    const doc = JSON.parse(snap.data.toString()) as { signed: { _type: string; version: number; meta: Record<string, { length: number; hashes: Record<string, string> }> }; signatures: { keyid: string; sig: string }[] };
    assert.equal(doc.signed._type, 'Snapshot');
    assert.equal(doc.signed.version, 1);
    assert.equal(doc.signed.meta.root!.hashes.sha256, createHash('sha256').update(first.rootFile).digest('base64'));
    assert.equal(doc.signed.meta.targets!.length, first.targetsFile.length);
    const key = parseKey(r.snapshotKey);
    assert.ok(verify('sha256', canonicalBytes(doc.signed), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(doc.signatures[0]!.sig, 'base64')));
  });

  it('refuses malformed files with MALFORMED_JSON', async () => {
    const r = await initRepo(gun());
    await rejectsWith(service.update(r.g, new Map([['root', Buffer.from('{"signed":')]])), 'MALFORMED_JSON');
    await rejectsWith(service.update(r.g, new Map([['root', Buffer.from('{"signed":{"version":"one"},"signatures":[]}')]])), 'MALFORMED_JSON');
  });

  it('re-signs the timestamp when it has expired or no longer names the current snapshot; versions only grow', async () => {
    const r = await initRepo(gun(), { serverSnapshot: true });
    await service.update(r.g, firstPublish(r).uploads);
    const ts1 = (await service.current(r.g, 'timestamp'))!;
    // Served as stored while fresh.
    assert.deepEqual((await service.current(r.g, 'timestamp'))!.data, ts1.data);

    // An expired timestamp (written directly, as if two weeks had passed).
    const keys = new ServerKeys(store.notary, new KeyVault({ keyfile: join(dir, 'server.key') }));
    const held = await keys.held(r.g, 'timestamp', [parseKey(r.timestampKey).id]);
    const snap = (await service.current(r.g, 'snapshot'))!;
    const stale = await serverSignedFile(timestampBody(ts1.version + 1, snap.data, Date.now() - 15 * 86_400_000), held, keys);
    await store.notary.write(r.g, [{ role: 'timestamp', version: ts1.version + 1, sha256: createHash('sha256').update(stale).digest('hex'), data: stale }]);
    const ts3 = (await service.current(r.g, 'timestamp'))!;
    assert.equal(ts3.version, ts1.version + 2);
    const doc = JSON.parse(ts3.data.toString()) as { signed: { expires: string; version: number } };
    assert.ok(Date.parse(doc.signed.expires) > Date.now() + 13 * 86_400_000);
    assert.equal(doc.signed.version, ts3.version);

    // A snapshot stored without a timestamp naming it (a replica crashed between): re-signed on GET.
    const snap2 = Buffer.from(snap.data);
    const newer = JSON.parse(snap2.toString()) as { signed: { version: number } };
    newer.signed.version = snap.version + 1;
    const bytes = Buffer.from(JSON.stringify(newer));
    await store.notary.write(r.g, [{ role: 'snapshot', version: snap.version + 1, sha256: createHash('sha256').update(bytes).digest('hex'), data: bytes }]);
    const ts4 = (await service.current(r.g, 'timestamp'))!;
    assert.equal(ts4.version, ts3.version + 1);
    const meta = (JSON.parse(ts4.data.toString()) as { signed: { meta: { snapshot: { hashes: { sha256: string } } } } }).signed.meta.snapshot;
    assert.equal(meta.hashes.sha256, createHash('sha256').update(bytes).digest('base64'));
  });

  it('re-signs an expired server-held snapshot (version + 1, same meta) with a new timestamp; an expired client-held one is left alone', async () => {
    type Doc = { signed: { _type: string; expires: string; version: number; meta: Record<string, { length: number; hashes: Record<string, string> }> }; signatures: { keyid: string; sig: string }[] };
    const doc = (b: Buffer) => JSON.parse(b.toString()) as Doc;
    const keys = new ServerKeys(store.notary, new KeyVault({ keyfile: join(dir, 'server.key') }));
    const record = (role: string, version: number, data: Buffer) => ({ role, version, sha256: createHash('sha256').update(data).digest('hex'), data });
    // What the policy makes of the chain (it reads the timestamp through the service, as the server wires it).
    const policyView = (g: string) => loadNotaryState({ current: (gg, role) => store.notary.current(gg, role), timestamp: (gg) => service.current(gg, 'timestamp') }, g);

    const r = await initRepo(gun(), { serverSnapshot: true });
    await service.update(r.g, firstPublish(r, { v1: Buffer.from('image one') }).uploads);
    const snap1 = (await service.current(r.g, 'snapshot'))!;
    const ts1 = (await service.current(r.g, 'timestamp'))!;
    // The snapshot as the server signed it a little over three years ago (expired an hour ago), and
    // a timestamp, fresh and naming exactly that snapshot: only the snapshot's expiry is due.
    const snapHeld = await keys.held(r.g, 'snapshot', [parseKey(r.snapshotKey).id]);
    const tsHeld = await keys.held(r.g, 'timestamp', [parseKey(r.timestampKey).id]);
    const old = doc(snap1.data).signed;
    const expiredSnap = await serverSignedFile({ ...old, expires: new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'), version: snap1.version + 1 }, snapHeld, keys);
    const tsForExpired = await serverSignedFile(timestampBody(ts1.version + 1, expiredSnap, Date.now()), tsHeld, keys);
    await store.notary.write(r.g, [record('snapshot', snap1.version + 1, expiredSnap), record('timestamp', ts1.version + 1, tsForExpired)]);
    assert.ok(Date.parse(doc((await store.notary.current(r.g, 'snapshot'))!.data).signed.expires) < Date.now(), 'the stored snapshot has expired');

    const ts = (await service.current(r.g, 'timestamp'))!;
    assert.equal(ts.version, ts1.version + 2, 'a new timestamp');
    const snap = (await service.current(r.g, 'snapshot'))!;
    assert.equal(snap.version, snap1.version + 2, 'a new snapshot');
    const s = doc(snap.data);
    assert.equal(s.signed._type, 'Snapshot');
    assert.equal(s.signed.version, snap.version);
    assert.ok(Date.parse(s.signed.expires) > Date.now() + SNAPSHOT_LIFETIME_MS - 86_400_000, `expires ${s.signed.expires}`);
    assert.deepEqual(s.signed.meta, old.meta, 'root and targets as before');
    const snapKey = parseKey(r.snapshotKey);
    assert.equal(s.signatures[0]!.keyid, snapKey.id);
    assert.ok(verify('sha256', canonicalBytes(s.signed), { key: snapKey.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s.signatures[0]!.sig, 'base64')));
    assert.equal(doc(ts.data).signed.meta.snapshot!.hashes.sha256, createHash('sha256').update(snap.data).digest('base64'), 'the timestamp names the new snapshot');
    // Served again as is; and the policy finds a valid chain.
    assert.deepEqual((await service.current(r.g, 'timestamp'))!.data, ts.data);
    const view = await policyView(r.g);
    assert.equal(view.failure, undefined);
    assert.ok(view.roles.get('targets')?.targets.has('v1'));

    // The client holds the snapshot key: the server cannot renew its snapshot, and does not touch
    // a fresh timestamp; the policy says the snapshot expired.
    const c = await initRepo(gun());
    await service.update(c.g, firstPublish(c).uploads);
    const cts = (await service.current(c.g, 'timestamp'))!;
    const cSnap = (await service.current(c.g, 'snapshot'))!;
    const cExpired = signedFile({ ...doc(cSnap.data).signed, expires: new Date(Date.now() - 3_600_000).toISOString(), version: cSnap.version + 1 }, [c.snapshot!]);
    const cTsHeld = await keys.held(c.g, 'timestamp', [parseKey(c.timestampKey).id]);
    const cTs = await serverSignedFile(timestampBody(cts.version + 1, cExpired, Date.now()), cTsHeld, keys);
    await store.notary.write(c.g, [record('snapshot', cSnap.version + 1, cExpired), record('timestamp', cts.version + 1, cTs)]);
    assert.deepEqual((await service.current(c.g, 'timestamp'))!.data, cTs);
    assert.deepEqual((await service.current(c.g, 'snapshot'))!.data, cExpired);
    assert.match((await policyView(c.g)).failure ?? '', /^snapshot of .* expired at /);
  });

  it('hands out server keys by the pending-key rules and rotates them', async () => {
    const g = gun();
    const k1 = await service.publicKey(g, 'snapshot');
    assert.deepEqual(Object.keys(k1), ['keytype', 'keyval']);
    assert.equal(k1.keytype, 'ecdsa');
    assert.equal(k1.keyval.private, null);
    // Before a root exists, the same pending key again.
    assert.deepEqual(await service.publicKey(g, 'snapshot'), k1);
    const r = await initRepo(g, { serverSnapshot: true });
    assert.deepEqual(r.snapshotKey, k1);
    await service.update(g, firstPublish(r).uploads);
    // A rotation makes a new pending key; GET keeps answering with the key the root lists until a root lists the new one.
    const k2 = await service.rotateKey(g, 'snapshot');
    assert.notDeepEqual(k2, k1);
    assert.deepEqual(await service.publicKey(g, 'snapshot'), k1);
    const roles = { ...r.roles, snapshot: { keys: [k2] } };
    const root2 = signedFile(rootBody(roles, 2), r.root);
    await service.update(g, new Map([['root', root2]]));
    assert.deepEqual(await service.publicKey(g, 'snapshot'), k2);
    // The retired key is gone from the store; no private key is ever in a row unencrypted.
    const rows = await store.notary.keys(g, 'snapshot');
    assert.deepEqual(rows.map((k) => k.keyId), [parseKey(k2).id]);
    assert.doesNotMatch(rows[0]!.privateEncrypted, /PRIVATE KEY/);
    // Deleting the GUN removes its metadata and its keys.
    await service.delete(g);
    assert.equal(await service.exists(g), false);
    assert.deepEqual(await store.notary.keys(g, 'snapshot'), []);
  });
});
