// The server-side pull policy (issue 12, docs/trust.md "Pull policy"): a manifest GET of an image
// that no trusted key signed is refused with 403 DENIED and a message that says why, for each kind
// of signature berth stores (cosign tag and referrers, GPG simple signatures, Notary trust data)
// and for each refusal the issue names: a key not in the policy, a tampered signature, a
// signature for another digest, a Notary target whose hash does not match, an expired Notary
// timestamp. Signatures and trust data stay readable; index children are served under a signed
// index; namespace policies through the admin API; key files re-read when they change. The real
// clients (skopeo, podman; SQLite and PostgreSQL) are in policy-clients.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../helpers/processes.ts';
import { berthCli } from '../cli/helpers.ts';
import { OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, putManifest, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { makeLayerTar } from '../helpers/images.ts';
import { signatureTag } from '../../src/trust/cosign/layout.ts';
import { sha256Hex } from '../../src/trust/notary/generate.ts';
import {
  cosignKeyPair,
  cosignSign,
  notaryPublish,
  notaryRepo,
  pgpKey,
  putSimpleSignature,
  rootFile,
  serverTimestampKey,
  simpleSignature,
  snapshotFile,
  targetsFile,
  timestampFile,
  type PgpKey,
} from './policy-fixtures.ts';

const OWN_HOST = 'registry.test';

interface Refusal {
  status: number;
  code?: string;
  message?: string;
}

async function get(base: string, repo: string, ref: string, method = 'GET'): Promise<Refusal> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, { method, headers: { Accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
  const text = await res.text();
  if (res.status < 400 || method === 'HEAD') return { status: res.status };
  const err = (JSON.parse(text) as { errors: { code: string; message: string }[] }).errors[0]!;
  return { status: res.status, code: err.code, message: err.message };
}

describe('pull policy', () => {
  let r: TestRegistry;
  let base: string;
  let work: { path: string; cleanup(): Promise<void> };
  const trusted = cosignKeyPair();
  const stranger = cosignKeyPair();
  const rotated = cosignKeyPair();
  let pgpTrusted: PgpKey;
  let pgpStranger: PgpKey;
  let rotatingKey: string;

  before(async () => {
    work = await tempDir('trust-policy');
    pgpTrusted = await pgpKey('release');
    pgpStranger = await pgpKey('stranger');
    const file = async (name: string, data: string | Buffer) => {
      const p = join(work.path, name);
      await writeFile(p, data);
      return p;
    };
    const cosignPub = await file('cosign.pub', trusted.pem);
    const gpgKeys = await file('release.gpg', pgpTrusted.binary);
    rotatingKey = await file('rotating.pub', trusted.pem);
    const pin = await file('pin.pub', stranger.pem);
    r = await startTestRegistry((c) => {
      c.berth.trust.hostnames = [OWN_HOST];
      c.berth.trust.policies = [
        { repositories: ['cosign/**'], require: 'cosign', keys: [cosignPub], notaryRoles: ['targets', 'targets/releases'] },
        { repositories: ['gpg/**'], require: 'gpg', keys: [gpgKeys], notaryRoles: ['targets', 'targets/releases'] },
        { repositories: ['notary/**'], require: 'notary', keys: [], notaryRoles: ['targets', 'targets/releases'] },
        { repositories: ['releases/**'], require: 'notary', keys: [], notaryRoles: ['targets/releases'] },
        { repositories: ['pinned/**'], require: 'notary', keys: [pin], notaryRoles: ['targets'] },
        { repositories: ['any/**'], require: 'any', keys: [cosignPub, gpgKeys], notaryRoles: ['targets'] },
        { repositories: ['rotate/**'], require: 'cosign', keys: [rotatingKey], notaryRoles: ['targets'] },
      ];
    });
    base = r.url;
  });
  after(async () => {
    await r?.stop();
    await work?.cleanup();
  });

  describe('cosign', () => {
    it('refuses an unsigned image with 403 DENIED and why; HEAD still answers; other repositories are not concerned', async () => {
      const img = await pushImage(base, 'cosign/unsigned', 'v1');
      const res = await get(base, 'cosign/unsigned', 'v1');
      assert.equal(res.status, 403);
      assert.equal(res.code, 'DENIED');
      assert.equal(res.message, `no signature by a trusted key for ${img.digest} (cosign: no cosign signature)`);
      assert.equal((await get(base, 'cosign/unsigned', img.digest)).status, 403, 'by digest too');
      assert.equal((await get(base, 'cosign/unsigned', 'v1', 'HEAD')).status, 200, 'HEAD: headers only, so signing tools can resolve the digest');
      await pushImage(base, 'elsewhere/app', 'v1');
      assert.equal((await get(base, 'elsewhere/app', 'v1')).status, 200);
    });

    it('serves an image signed by a key of the policy (signature tag), by tag and by digest, and its signature', async () => {
      const img = await pushImage(base, 'cosign/app', 'v1');
      assert.equal((await get(base, 'cosign/app', 'v1')).status, 403);
      await cosignSign(base, 'cosign/app', img.digest, trusted.privateKey);
      // The refusal was cached; the signature's arrival clears it.
      assert.equal((await get(base, 'cosign/app', 'v1')).status, 200);
      assert.equal((await get(base, 'cosign/app', img.digest)).status, 200);
      assert.equal((await get(base, 'cosign/app', signatureTag(img.digest))).status, 200, 'the signature stays readable');
    });

    it('serves an image signed as an OCI 1.1 referrer; the referrer stays readable', async () => {
      const img = await pushImage(base, 'cosign/ref', 'v1');
      const referrer = await cosignSign(base, 'cosign/ref', img.digest, trusted.privateKey, { referrer: { mediaType: OCI_MANIFEST, size: img.size } });
      assert.equal((await get(base, 'cosign/ref', 'v1')).status, 200);
      assert.equal((await get(base, 'cosign/ref', referrer)).status, 200);
    });

    it('refuses an image signed by a key not in the policy', async () => {
      const img = await pushImage(base, 'cosign/stranger', 'v1');
      await cosignSign(base, 'cosign/stranger', img.digest, stranger.privateKey);
      const res = await get(base, 'cosign/stranger', 'v1');
      assert.equal(res.status, 403);
      assert.match(res.message!, /^no signature by a trusted key for sha256:[0-9a-f]{64} \(cosign: the signature does not verify with the key/);
    });

    it('refuses a tampered signature', async () => {
      const img = await pushImage(base, 'cosign/tampered', 'v1');
      await cosignSign(base, 'cosign/tampered', img.digest, trusted.privateKey, { tamper: true });
      const res = await get(base, 'cosign/tampered', 'v1');
      assert.equal(res.status, 403);
      assert.match(res.message!, /cosign: the signature does not verify with the key/);
    });

    it('refuses a signature made for another digest', async () => {
      const img = await pushImage(base, 'cosign/other', 'v1');
      const other = await pushImage(base, 'cosign/other', 'v2');
      await cosignSign(base, 'cosign/other', img.digest, trusted.privateKey, { payloadDigest: other.digest });
      const res = await get(base, 'cosign/other', 'v1');
      assert.equal(res.status, 403);
      assert.match(res.message!, new RegExp(`cosign: the payload is for ${other.digest}, not ${img.digest}`));
    });

    it('does not serve a runnable image pushed under an accessory tag', async () => {
      const img = await pushImage(base, 'cosign/sneaky', `sha256-${'ab'.repeat(32)}.sig`);
      const res = await get(base, 'cosign/sneaky', `sha256-${'ab'.repeat(32)}.sig`);
      assert.equal(res.status, 403);
      assert.equal((await get(base, 'cosign/sneaky', img.digest)).status, 403);
    });

    it('does not serve a runnable image disguised as a signature: filesystem layers under an artifact media type', async () => {
      // podman pulls such an image and unpacks its layers (containers/image sniffs the compression,
      // it does not look at the media type), so the layer bytes decide, not what the manifest says.
      const tar = await makeLayerTar(300, 'payload.sh');
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha256Hex(tar)}`] }, config: { Cmd: ['/payload.sh'] } }));
      const configDigest = await pushBlob(base, 'cosign/disguised', config);
      const disguised = async (layer: Buffer, ref: string, extra: Record<string, unknown> = {}) => {
        const layerDigest = await pushBlob(base, 'cosign/disguised', layer);
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
            layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: layerDigest, size: layer.length }],
            ...extra,
          }),
        );
        assert.equal((await putManifest(base, 'cosign/disguised', ref, manifest, OCI_MANIFEST)).status, 201);
        return `sha256:${sha256Hex(manifest)}`;
      };
      const subject = await pushImage(base, 'cosign/disguised', 'v1');
      const cases = [
        { what: 'gzip under a .sig tag', tag: `sha256-${'cd'.repeat(32)}.sig`, layer: gzipSync(tar) },
        { what: 'plain tar under a .att tag', tag: `sha256-${'ef'.repeat(32)}.att`, layer: tar },
        { what: 'gzip as a referrer', tag: 'ref', layer: gzipSync(Buffer.concat([tar, Buffer.from('x')])), extra: { subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size } } },
      ];
      for (const c of cases) {
        const digest = await disguised(c.layer, c.tag, c.extra);
        if (c.tag !== 'ref') assert.equal((await get(base, 'cosign/disguised', c.tag)).status, 403, `${c.what}: by tag`);
        assert.equal((await get(base, 'cosign/disguised', digest)).status, 403, `${c.what}: by digest`);
      }
      // A real signature (a JSON payload) under the same media type stays readable.
      const sig = await cosignSign(base, 'cosign/disguised', subject.digest, stranger.privateKey);
      assert.equal((await get(base, 'cosign/disguised', signatureTag(subject.digest))).status, 200);
      assert.equal((await get(base, 'cosign/disguised', sig)).status, 200);
    });

    it('serves the children of a signed index (each fetched by digest), not those of an unsigned one', async () => {
      const a = await pushImage(base, 'cosign/multi', 'a');
      const b = await pushImage(base, 'cosign/multi', 'b');
      const index = (children: { digest: string; size: number }[]) =>
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((c, i) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.size, platform: { os: 'linux', architecture: i ? 'arm64' : 'amd64' } })) }));
      const signed = index([a, b]);
      assert.equal((await putManifest(base, 'cosign/multi', 'v1', signed, OCI_INDEX)).status, 201);
      const lone = await pushImage(base, 'cosign/multi', 'c');
      assert.equal((await putManifest(base, 'cosign/multi', 'v2', index([lone]), OCI_INDEX)).status, 201);
      await cosignSign(base, 'cosign/multi', `sha256:${sha256Hex(signed)}`, trusted.privateKey);
      assert.equal((await get(base, 'cosign/multi', 'v1')).status, 200);
      assert.equal((await get(base, 'cosign/multi', a.digest)).status, 200);
      assert.equal((await get(base, 'cosign/multi', b.digest)).status, 200);
      assert.equal((await get(base, 'cosign/multi', 'v2')).status, 403);
      assert.equal((await get(base, 'cosign/multi', lone.digest)).status, 403);
    });

    it('re-reads a key file when it changes', async () => {
      const img = await pushImage(base, 'rotate/app', 'v1');
      await cosignSign(base, 'rotate/app', img.digest, trusted.privateKey);
      assert.equal((await get(base, 'rotate/app', 'v1')).status, 200);
      await writeFile(rotatingKey, rotated.pem);
      let status = 200;
      for (let i = 0; i < 50 && status === 200; i++) {
        await new Promise((ok) => setTimeout(ok, 200));
        status = (await get(base, 'rotate/app', 'v1')).status;
      }
      assert.equal(status, 403, 'signed by the key the file no longer holds');
      await cosignSign(base, 'rotate/app', img.digest, rotated.privateKey);
      assert.equal((await get(base, 'rotate/app', 'v1')).status, 200);
    });
  });

  describe('GPG simple signatures', () => {
    const reference = (repo: string) => `${new URL(base).host}/${repo}:v1`;

    it('refuses an unsigned image and serves one signed by a key of the policy', async () => {
      const img = await pushImage(base, 'gpg/app', 'v1');
      const res = await get(base, 'gpg/app', 'v1');
      assert.equal(res.status, 403);
      assert.equal(res.message, `no signature by a trusted key for ${img.digest} (gpg: no GPG simple signature)`);
      assert.equal((await putSimpleSignature(base, 'gpg/app', img.digest, await simpleSignature(pgpTrusted, reference('gpg/app'), img.digest))).status, 201);
      assert.equal((await get(base, 'gpg/app', 'v1')).status, 200);
      assert.equal((await fetch(`${base}/extensions/v2/gpg/app/signatures/${img.digest}`)).status, 200, 'the signatures stay readable');
    });

    it('refuses a signature by a key not in the policy', async () => {
      const img = await pushImage(base, 'gpg/stranger', 'v1');
      await putSimpleSignature(base, 'gpg/stranger', img.digest, await simpleSignature(pgpStranger, reference('gpg/stranger'), img.digest));
      const res = await get(base, 'gpg/stranger', 'v1');
      assert.equal(res.status, 403);
      assert.match(res.message!, /\(gpg: signed by key [0-9A-F]{16}, which is not a trusted key\)$/);
    });

    it('refuses a tampered signature', async () => {
      const img = await pushImage(base, 'gpg/tampered', 'v1');
      await putSimpleSignature(base, 'gpg/tampered', img.digest, await simpleSignature(pgpTrusted, reference('gpg/tampered'), img.digest, { tamper: true }));
      const res = await get(base, 'gpg/tampered', 'v1');
      assert.equal(res.status, 403);
      assert.match(res.message!, /\(gpg: signature does not verify: /);
    });

    it('refuses a signature made for another digest', async () => {
      const img = await pushImage(base, 'gpg/other', 'v1');
      const other = await pushImage(base, 'gpg/other', 'v2');
      await putSimpleSignature(base, 'gpg/other', img.digest, await simpleSignature(pgpTrusted, reference('gpg/other'), other.digest));
      const res = await get(base, 'gpg/other', 'v1');
      assert.equal(res.status, 403);
      assert.match(res.message!, new RegExp(`gpg: the signature is for ${other.digest}, not ${img.digest}`));
    });
  });

  describe('Notary', () => {
    const gunOf = (repo: string) => `${new URL(base).host}/${repo}`;

    it('serves an image whose tag is a target of the trust data, refuses one whose target hash does not match', async () => {
      const img = await pushImage(base, 'notary/app', 'v1');
      const moved = await pushImage(base, 'notary/app', 'v2');
      const gun = gunOf('notary/app');
      const res0 = await get(base, 'notary/app', 'v1');
      assert.equal(res0.status, 403);
      assert.equal(res0.message, `notary: no trust data for ${gun}`);
      const repo = await notaryRepo(gun, await serverTimestampKey(base, gun));
      const root = rootFile(repo);
      // v2's target names other bytes than the manifest v2 now points at.
      const targets = targetsFile(repo, 'targets', { v1: img.bytes, v2: randomBytes(moved.size) });
      await notaryPublish(base, gun, { root, targets, snapshot: snapshotFile(repo, { root, targets }) });
      assert.equal((await get(base, 'notary/app', 'v1')).status, 200);
      assert.equal((await get(base, 'notary/app', img.digest)).status, 200, 'by digest: a target with its hash');
      const res = await get(base, 'notary/app', 'v2');
      assert.equal(res.status, 403);
      assert.equal(res.message, `notary: target hash does not match for ${gun}:v2`);
      assert.equal((await get(base, 'notary/app', 'v3')).status, 404);
      // The trust data itself stays readable.
      assert.equal((await fetch(`${base}/v2/${gun}/_trust/tuf/targets.json`)).status, 200);
    });

    it('refuses an image when the timestamp has expired (and the server cannot re-sign it)', async () => {
      const img = await pushImage(base, 'notary/expired', 'v1');
      const gun = gunOf('notary/expired');
      const repo = await notaryRepo(gun, 'own');
      const root = rootFile(repo);
      const targets = targetsFile(repo, 'targets', { v1: img.bytes });
      const snapshot = snapshotFile(repo, { root, targets });
      const timestamp = timestampFile(repo, snapshot, { expiredAgoMs: 60_000 });
      const rec = (role: string, data: Buffer) => ({ role, version: 1, sha256: sha256Hex(data), data });
      await r.services.metadata.notary.write(gun, [rec('root', root), rec('targets', targets), rec('snapshot', snapshot), rec('timestamp', timestamp)]);
      const res = await get(base, 'notary/expired', 'v1');
      assert.equal(res.status, 403);
      assert.match(res.message!, new RegExp(`^notary: timestamp of ${gun.replace(/\./g, '\\.')} expired at \\d{4}-`));
      // The same files with a current timestamp pass: only the expiry made the difference.
      const fresh = timestampFile(repo, snapshot);
      await r.services.metadata.notary.write(gun, [{ ...rec('timestamp', fresh), version: 2 }]);
      r.services.trust!.invalidate();
      assert.equal((await get(base, 'notary/expired', 'v1')).status, 200);
    });

    it('counts the roles the policy names: a delegation (targets/releases), within its paths', async () => {
      const img = await pushImage(base, 'releases/app', 'v1');
      const other = await pushImage(base, 'releases/app', 'v2');
      const gun = gunOf('releases/app');
      const repo = await notaryRepo(gun, await serverTimestampKey(base, gun));
      const root = rootFile(repo);
      // v2 only in targets (not a role of this policy); v1 in targets/releases.
      const targets = targetsFile(repo, 'targets', { v2: other.bytes }, { name: 'targets/releases', key: repo.releasesKey, paths: ['v1'] });
      const releases = targetsFile(repo, 'targets/releases', { v1: img.bytes, v2: other.bytes.subarray(1) });
      await notaryPublish(base, gun, { root, targets, 'targets/releases': releases, snapshot: snapshotFile(repo, { root, targets, 'targets/releases': releases }) });
      assert.equal((await get(base, 'releases/app', 'v1')).status, 200);
      const res = await get(base, 'releases/app', 'v2');
      assert.equal(res.status, 403);
      assert.equal(res.message, `notary: no target v2 in the trust data of ${gun} (roles targets/releases)`, 'outside the delegation paths, and targets is not trusted here');
    });

    it('with keys in the policy, a target counts only when one of them is a root key or signed its role', async () => {
      const img = await pushImage(base, 'pinned/app', 'v1');
      // Under one of the registry's own names (berth.trust.hostnames) as the GUN's host.
      const gun = `${OWN_HOST}/pinned/app`;
      const repo = await notaryRepo(gun, await serverTimestampKey(base, gun));
      const root = rootFile(repo);
      const targets = targetsFile(repo, 'targets', { v1: img.bytes });
      await notaryPublish(base, gun, { root, targets, snapshot: snapshotFile(repo, { root, targets }) });
      const res = await get(base, 'pinned/app', 'v1');
      assert.equal(res.status, 403);
      assert.equal(res.message, `notary: the target for ${img.digest} in ${gun} is not signed by a key of the policy`);
    });
  });

  describe('require: any', () => {
    it('is satisfied by any one kind, and says what each lacked', async () => {
      const img = await pushImage(base, 'any/app', 'v1');
      const res = await get(base, 'any/app', 'v1');
      assert.equal(res.status, 403);
      assert.equal(res.message, `no signature by a trusted key for ${img.digest} (cosign: no cosign signature; gpg: no GPG simple signature; notary: no trust data for ${new URL(base).host}/any/app)`);
      await putSimpleSignature(base, 'any/app', img.digest, await simpleSignature(pgpTrusted, `${new URL(base).host}/any/app:v1`, img.digest));
      assert.equal((await get(base, 'any/app', 'v1')).status, 200);
    });
  });

  describe('namespace policies through the admin API', () => {
    const api = (path: string, init: RequestInit = {}) => fetch(`${base}/api/v1/trust/policies${path}`, { ...init, headers: { 'Content-Type': 'application/json' } });

    it('PUT applies at once to the namespace and below, DELETE lifts it; bad keys are refused', async () => {
      const img = await pushImage(base, 'team/sub/app', 'v1');
      assert.equal((await get(base, 'team/sub/app', 'v1')).status, 200);
      let res = await api('/team', { method: 'PUT', body: JSON.stringify({ require: 'cosign', keys: [trusted.pem] }) });
      assert.equal(res.status, 200, await res.clone().text());
      const shown = (await res.json()) as { namespace: string; repositories: string[]; require: string; notaryroles: string[] };
      assert.deepEqual([shown.namespace, shown.repositories, shown.require, shown.notaryroles], ['team', ['team/**'], 'cosign', ['targets', 'targets/releases']]);
      assert.equal((await get(base, 'team/sub/app', 'v1')).status, 403);
      await cosignSign(base, 'team/sub/app', img.digest, trusted.privateKey);
      assert.equal((await get(base, 'team/sub/app', 'v1')).status, 200);
      const unsigned = await pushImage(base, 'team/other', 'v1');
      assert.equal((await get(base, 'team/other', unsigned.digest)).status, 403);

      const all = (await (await api('')).json()) as { policies: { source: string; namespace?: string }[] };
      assert.ok(all.policies.some((p) => p.source === 'config'));
      assert.ok(all.policies.some((p) => p.source === 'api' && p.namespace === 'team'));
      assert.equal((await api('/team')).status, 200);

      res = await api('/team', { method: 'PUT', body: JSON.stringify({ require: 'cosign', keys: ['not a key'] }) });
      assert.equal(res.status, 400);
      res = await api('/team', { method: 'PUT', body: JSON.stringify({ require: 'cosign', keys: [pgpTrusted.armored] }) });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /require: cosign needs at least one PEM public key/);
      res = await api('/team', { method: 'PUT', body: JSON.stringify({ require: 'sometimes' }) });
      assert.equal(res.status, 400);

      assert.equal((await api('/team', { method: 'DELETE' })).status, 204);
      assert.equal((await get(base, 'team/other', unsigned.digest)).status, 200);
      assert.equal((await api('/team')).status, 404);
    });

    it('a namespace policy adds to the config: both must be satisfied', async () => {
      const img = await pushImage(base, 'cosign/both/app', 'v1');
      await cosignSign(base, 'cosign/both/app', img.digest, trusted.privateKey);
      assert.equal((await get(base, 'cosign/both/app', 'v1')).status, 200);
      assert.equal((await api('/cosign/both', { method: 'PUT', body: JSON.stringify({ require: 'gpg', keys: [pgpTrusted.armored] }) })).status, 200);
      const res = await get(base, 'cosign/both/app', 'v1');
      assert.equal(res.status, 403);
      assert.match(res.message!, /gpg: no GPG simple signature/);
      assert.equal((await api('/cosign/both', { method: 'DELETE' })).status, 204);
    });
  });

  describe('console', () => {
    const page = async (path: string, lang = 'en') => {
      const res = await fetch(`${base}/ui/${path}`, { headers: { 'Accept-Language': lang } });
      assert.equal(res.status, 200, path);
      return res.text();
    };

    it('a signature tag deleted from the console stops vouching at once, as one deleted through the registry API does', async () => {
      const cookies = new Map<string, string>();
      const keep = (res: Response) => {
        for (const c of res.headers.getSetCookie()) cookies.set(c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1, c.indexOf(';') < 0 ? undefined : c.indexOf(';')));
        return res;
      };
      const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const post = async (path: string, form: Record<string, string>) => {
        const confirm = keep(await fetch(`${base}${path}?${new URLSearchParams(form)}`, { headers: { cookie: cookie() } }));
        const token = /name="_csrf" value="([^"]+)"/.exec(await confirm.text())?.[1];
        assert.ok(token, `no _csrf on ${path}`);
        return keep(await fetch(`${base}${path}`, { method: 'POST', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: token, ...form }), redirect: 'manual' }));
      };
      const img = await pushImage(base, 'cosign/console-revoke', 'v1');
      await cosignSign(base, 'cosign/console-revoke', img.digest, trusted.privateKey);
      assert.equal((await get(base, 'cosign/console-revoke', 'v1')).status, 200, 'signed: served (and the verdict cached)');
      assert.equal((await post('/ui/repo/cosign/console-revoke/-/delete-tags', { tag: signatureTag(img.digest) })).status, 303);
      assert.equal((await get(base, 'cosign/console-revoke', 'v1')).status, 403, 'the signature is gone: refused now, not a minute later');
    });

    it("the image page lists each signature of every kind with its status against the policy's keys", async () => {
      const img = await pushImage(base, 'any/console', 'v1');
      await cosignSign(base, 'any/console', img.digest, trusted.privateKey);
      await cosignSign(base, 'any/console', img.digest, stranger.privateKey, { referrer: { mediaType: OCI_MANIFEST, size: img.size } });
      await putSimpleSignature(base, 'any/console', img.digest, await simpleSignature(pgpStranger, `${new URL(base).host}/any/console:v1`, img.digest));
      const text = await page(`repo/any/console/-/manifest/${img.digest}`);
      const card = text.slice(text.indexOf('id="signatures-title"'));
      assert.match(card, /Pull policy/);
      assert.match(card, /A pull of this manifest is served\./);
      assert.match(card, /signature tag<\/td>[\s\S]*?badge-ok[^>]*>[\s\S]*?verified</);
      assert.match(card, /OCI referrer<\/td>[\s\S]*?badge-danger">unverified</);
      assert.match(card, /GPG simple signature[\s\S]*?not a trusted key/);
      const zh = await page(`repo/any/console/-/manifest/${img.digest}`, 'zh-CN');
      assert.match(zh, /拉取策略/);
    });

    it('the image page lists the Notary target of the tag with its status; a target whose hash does not match is unverified and says why', async () => {
      const img = await pushImage(base, 'notary/console', 'v1');
      const moved = await pushImage(base, 'notary/console', 'v2');
      const gun = `${new URL(base).host}/notary/console`;
      const repo = await notaryRepo(gun, await serverTimestampKey(base, gun));
      const root = rootFile(repo);
      // v2's target names other bytes than the manifest v2 points at.
      const targets = targetsFile(repo, 'targets', { v1: img.bytes, v2: randomBytes(moved.size) });
      await notaryPublish(base, gun, { root, targets, snapshot: snapshotFile(repo, { root, targets }) });
      const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      const card = (text: string) => text.slice(text.indexOf('id="signatures-title"'), text.indexOf('</section>', text.indexOf('id="signatures-title"')));

      const v1 = card(await page(`repo/notary/console/-/manifest/${img.digest}`));
      assert.match(v1, /Pull policy/);
      assert.match(v1, /A pull of this manifest is served\./);
      assert.match(v1, new RegExp(`<td>Notary target</td><td>targets</td><td><span class="mono">${esc(gun)}:v1</span>[\\s\\S]*?badge-ok[^>]*>[\\s\\S]*?verified</span></td></tr>`));
      assert.equal(v1.match(/Notary target/g)?.length, 1, 'one row: the target v1');

      const v2 = card(await page(`repo/notary/console/-/manifest/${moved.digest}`));
      // The verdict is the page's: for the digest (no target has its hash); the row is the tag's target.
      assert.match(v2, new RegExp(`A pull of this manifest is refused: notary: no target of ${esc(gun)} has the hash of ${moved.digest}`));
      assert.match(v2, new RegExp(`<td>Notary target</td><td>targets</td><td><span class="mono">${esc(gun)}:v2</span>[\\s\\S]*?badge-danger">unverified</span><div class="muted">target hash does not match for ${esc(gun)}:v2</div>`));
      assert.doesNotMatch(v2, /badge-ok[^>]*>[^<]*<[^>]*>[^<]*verified<\/span><\/td><\/tr>/, 'no verified row');

      assert.match(await page(`repo/notary/console/-/manifest/${img.digest}`, 'zh-CN'), /Notary 目标/);
      const list = await page('repo/notary/console');
      const row = (tag: string) => list.slice(list.indexOf(`data-row="${tag}"`), list.indexOf('</tr>', list.indexOf(`data-row="${tag}"`)));
      assert.match(row('v1'), /badge-ok[^>]*>.*verified</);
      assert.match(row('v2'), /signed, not verified/);
    });

    it('the image page shows a refused image and says why; without a policy, signatures are listed unverified', async () => {
      const img = await pushImage(base, 'cosign/console-unsigned', 'v1');
      assert.match(await page(`repo/cosign/console-unsigned/-/manifest/${img.digest}`), /A pull of this manifest is refused: no signature by a trusted key/);
      const free = await pushImage(base, 'free/app', 'v1');
      await cosignSign(base, 'free/app', free.digest, stranger.privateKey);
      const text = await page(`repo/free/app/-/manifest/${free.digest}`);
      assert.match(text, /No pull policy applies to this repository/);
      assert.match(text, /badge-muted">no policy</);
    });

    it("the repository page's badge says verified, signed but not verified, refused, or just signed", async () => {
      const good = await pushImage(base, 'cosign/badges', 'good');
      await cosignSign(base, 'cosign/badges', good.digest, trusted.privateKey);
      const bad = await pushImage(base, 'cosign/badges', 'bad');
      await cosignSign(base, 'cosign/badges', bad.digest, stranger.privateKey);
      await pushImage(base, 'cosign/badges', 'none');
      const text = await page('repo/cosign/badges');
      const row = (tag: string) => text.slice(text.indexOf(`data-row="${tag}"`), text.indexOf('</tr>', text.indexOf(`data-row="${tag}"`)));
      assert.match(row('good'), /badge-ok[^>]*>.*verified</);
      assert.match(row('bad'), /signed, not verified/);
      assert.match(row('none'), /refused by policy/);
      assert.match(await page('repo/free/app'), /badge-signed/);
    });
  });

  describe('berth inspect', () => {
    interface Shown {
      digest: string;
      refused?: string;
      signatures: { kind: string; source: string; name: string; status: string; reason?: string; signer?: string }[];
    }
    const inspect = async (image: string, ...args: string[]) => {
      const berth = berthCli({ HOME: work.path, DOCKER_CONFIG: join(work.path, 'docker') });
      const res = await berth(['inspect', `${new URL(base).host}/${image}`, '--insecure', '--json', ...args]);
      return { code: res.code, stderr: res.stderr, shown: res.stdout ? (JSON.parse(res.stdout) as Shown) : undefined };
    };

    it('lists the signatures of every kind, checked against --key and --gpg-keyring, not checked without', async () => {
      const img = await pushImage(base, 'any/inspect', 'v1');
      await cosignSign(base, 'any/inspect', img.digest, trusted.privateKey);
      await cosignSign(base, 'any/inspect', img.digest, stranger.privateKey, { referrer: { mediaType: OCI_MANIFEST, size: img.size } });
      await putSimpleSignature(base, 'any/inspect', img.digest, await simpleSignature(pgpTrusted, `${new URL(base).host}/any/inspect:v1`, img.digest));
      const gun = `${new URL(base).host}/any/inspect`;
      const repo = await notaryRepo(gun, await serverTimestampKey(base, gun));
      const root = rootFile(repo);
      const targets = targetsFile(repo, 'targets', { v1: img.bytes });
      await notaryPublish(base, gun, { root, targets, snapshot: snapshotFile(repo, { root, targets }) });

      const plain = await inspect('any/inspect:v1');
      assert.equal(plain.code, 0, plain.stderr);
      const kinds = (s: Shown) => s.signatures.map((x) => `${x.kind}/${x.source}:${x.status}`).sort();
      assert.deepEqual(kinds(plain.shown!), ['cosign/referrer:not checked', 'cosign/tag:not checked', 'gpg/extension:not checked', 'notary/targets:verified']);

      const keyFile = join(work.path, 'inspect.pub');
      await writeFile(keyFile, trusted.pem);
      const gpgFile = join(work.path, 'inspect.gpg');
      await writeFile(gpgFile, pgpTrusted.binary);
      const checked = await inspect('any/inspect:v1', '--key', keyFile, '--gpg-keyring', gpgFile);
      assert.equal(checked.code, 0, checked.stderr);
      assert.deepEqual(kinds(checked.shown!), ['cosign/referrer:unverified', 'cosign/tag:verified', 'gpg/extension:verified', 'notary/targets:verified']);
    });

    it('shows a manifest the pull policy refuses: its digest, the refusal and the signatures (exit 1)', async () => {
      const img = await pushImage(base, 'cosign/inspect-refused', 'v1');
      await cosignSign(base, 'cosign/inspect-refused', img.digest, stranger.privateKey);
      const res = await inspect('cosign/inspect-refused:v1');
      assert.equal(res.code, 1);
      assert.equal(res.shown!.digest, img.digest);
      assert.match(res.shown!.refused!, /no signature by a trusted key/);
      assert.deepEqual(res.shown!.signatures.map((s) => s.status), ['not checked']);
    });
  });

  it('answers without the policy costing anything when none applies (no I/O: a synchronous answer)', async () => {
    const trust = r.services.trust!;
    await trust.rules();
    const record = { digest: `sha256:${'0'.repeat(64)}`, mediaType: OCI_MANIFEST, size: 1, artifactType: null, subjectDigest: null, configDigest: null, annotations: null, createdAt: new Date() };
    assert.equal(trust.check('nowhere/app', record.digest, record), undefined);
  });
});
