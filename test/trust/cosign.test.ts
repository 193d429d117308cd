// cosign format in the berth CLI (issue 12). No client on this machine signs or verifies cosign
// signatures (Debian builds containers/image without sigstore), so the checks are independent of
// berth's own code where it matters: the key file is opened with `openssl kdf SCRYPT` and
// tweetnacl, signatures are checked with `openssl dgst -sha256 -verify`, and the layout is read
// back over plain HTTP against the facts cosign's format is made of. berth sign runs against a
// berth server and Debian's docker-registry (no referrers API: the referrers tag schema).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { hasCommand, repoRoot, run, startBerth, startDistribution, tempDir, type RunningServer } from '../helpers/processes.ts';
import { berthCli, client, pushRandomImage } from '../cli/helpers.ts';
import { decryptPrivateKey, readPem, WrongPassphraseError } from '../../src/trust/cosign/keys.ts';
import { uploadBlob, putManifest } from '../../src/client/index.ts';

const SIG_MEDIA = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIG_ANNOTATION = 'dev.cosignproject.cosign/signature';
const ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sigTag = (digest: string) => `${digest.replace(':', '-')}.sig`;

interface Layer {
  mediaType: string;
  size: number;
  digest: string;
  annotations?: Record<string, string>;
}
interface SigManifest {
  schemaVersion: number;
  mediaType: string;
  artifactType?: string;
  config: { mediaType: string; size: number; digest: string };
  layers: Layer[];
  subject?: { digest: string; mediaType: string; size: number };
}

let work: { path: string; cleanup(): Promise<void> };
let berth: ReturnType<typeof berthCli>;
const PASSWORD = 'correct horse battery staple';

before(async () => {
  work = await tempDir('cosign');
  berth = berthCli({ HOME: work.path, DOCKER_CONFIG: join(work.path, 'docker'), COSIGN_PASSWORD: PASSWORD });
});
after(() => work?.cleanup());

/** `berth key generate` with a given password; returns the paths. */
async function generate(prefix: string, password = PASSWORD): Promise<{ key: string; pub: string }> {
  const res = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'key', 'generate', '--output-key-prefix', join(work.path, prefix)], {
    env: { COSIGN_PASSWORD: password },
    allowFail: true,
  });
  assert.equal(res.code, 0, res.stderr);
  return { key: join(work.path, `${prefix}.key`), pub: join(work.path, `${prefix}.pub`) };
}

/** The signature layer's bytes checked by openssl, not by berth. */
async function opensslVerifies(pub: string, payload: Buffer, signatureB64: string): Promise<boolean> {
  const t = await tempDir('cosign-openssl');
  try {
    await writeFile(join(t.path, 'payload'), payload);
    await writeFile(join(t.path, 'sig.der'), Buffer.from(signatureB64, 'base64'));
    const r = await run('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', join(t.path, 'sig.der'), join(t.path, 'payload')], { allowFail: true });
    return r.code === 0 && /Verified OK/.test(r.stdout);
  } finally {
    await t.cleanup();
  }
}

describe('berth key generate (cosign key format)', () => {
  it('writes an encrypted cosign key that openssl scrypt + nacl secretbox open, and its PUBLIC KEY', { skip: !hasCommand('openssl') && 'openssl missing' }, async () => {
    const { key, pub } = await generate('roundtrip');
    const text = await readFile(key, 'utf8');
    assert.match(text, /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n/);
    assert.match(text, /-----END ENCRYPTED COSIGN PRIVATE KEY-----\n$/);
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    const pubText = await readFile(pub, 'utf8');
    assert.match(pubText, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);

    const json = JSON.parse(readPem(text).der.toString('utf8'));
    assert.deepEqual(Object.keys(json), ['kdf', 'cipher', 'ciphertext']);
    assert.deepEqual(json.kdf.params, { N: 32768, r: 8, p: 1 });
    assert.equal(json.kdf.name, 'scrypt');
    assert.equal(json.cipher.name, 'nacl/secretbox');
    const salt = Buffer.from(json.kdf.salt, 'base64');
    const nonce = Buffer.from(json.cipher.nonce, 'base64');
    assert.equal(salt.length, 32);
    assert.equal(nonce.length, 24);

    // Independently: scrypt by openssl, secretbox by tweetnacl, PKCS#8 by openssl.
    const kdf = await run('openssl', ['kdf', '-keylen', '32', '-kdfopt', `pass:${PASSWORD}`, '-kdfopt', `hexsalt:${salt.toString('hex')}`, '-kdfopt', 'n:32768', '-kdfopt', 'r:8', '-kdfopt', 'p:1', '-kdfopt', 'maxmem_bytes:67108864', 'SCRYPT']);
    const boxKey = Buffer.from(kdf.stdout.trim().replace(/:/g, ''), 'hex');
    const opened = nacl.secretbox.open(new Uint8Array(Buffer.from(json.ciphertext, 'base64')), new Uint8Array(nonce), new Uint8Array(boxKey));
    assert.ok(opened, 'secretbox opens with the scrypt key');
    const der = join(work.path, 'roundtrip.pk8');
    await writeFile(der, Buffer.from(opened));
    const pubFromKey = await run('openssl', ['pkey', '-inform', 'DER', '-in', der, '-pubout']);
    assert.equal(pubFromKey.stdout, pubText);
    const priv = createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
    assert.equal(priv.asymmetricKeyType, 'ec');
    assert.equal(priv.asymmetricKeyDetails?.namedCurve, 'prime256v1');

    // berth's own reader agrees, and names a wrong passphrase as such.
    const decrypted = await decryptPrivateKey(text, PASSWORD);
    assert.equal(createPublicKey(decrypted).export({ format: 'pem', type: 'spki' }), pubText);
    await assert.rejects(decryptPrivateKey(text, 'wrong'), (e: Error) => e instanceof WrongPassphraseError && /wrong passphrase/.test(e.message));
    // cosign >= 2.0.1's label is read too.
    const sigstore = text.replace(/ENCRYPTED COSIGN PRIVATE KEY/g, 'ENCRYPTED SIGSTORE PRIVATE KEY');
    assert.equal(createPublicKey(await decryptPrivateKey(sigstore, PASSWORD)).export({ format: 'pem', type: 'spki' }), pubText);
    await assert.rejects(decryptPrivateKey(text.replace(/ENCRYPTED COSIGN PRIVATE KEY/g, 'PRIVATE KEY'), PASSWORD), /not an encrypted cosign private key/);
  });

  it('accepts an empty password and refuses to overwrite existing files', async () => {
    const { key, pub } = await generate('empty', '');
    const before = await readFile(key, 'utf8');
    await decryptPrivateKey(before, '');
    const again = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'key', 'generate', '--output-key-prefix', join(work.path, 'empty')], {
      env: { COSIGN_PASSWORD: 'x' },
      allowFail: true,
    });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists: not overwriting/);
    assert.equal(await readFile(key, 'utf8'), before);
    assert.ok((await readFile(pub, 'utf8')).includes('PUBLIC KEY'));
  });
});

describe('berth sign and berth verify (cosign format)', { skip: !hasCommand('openssl') && 'openssl missing' }, () => {
  let server: RunningServer;
  let keys: { key: string; pub: string };
  let otherKeys: { key: string; pub: string };

  before(async () => {
    server = await startBerth();
    keys = await generate('signer');
    otherKeys = await generate('other');
  });
  after(() => server?.stop());

  const get = async (host: RunningServer, path: string, accept = OCI_MANIFEST) => fetch(`${host.url}${path}`, { headers: { Accept: accept } });
  const sigManifest = async (host: RunningServer, repo: string, digest: string) => {
    const res = await get(host, `/v2/${repo}/manifests/${sigTag(digest)}`);
    return { res, body: res.status === 200 ? ((await res.json()) as SigManifest) : undefined };
  };
  const blob = async (host: RunningServer, repo: string, digest: string) => Buffer.from(await (await get(host, `/v2/${repo}/blobs/${digest}`, '*/*')).arrayBuffer());

  /** Checks one signature layer against cosign's facts and openssl; returns its payload JSON. */
  async function checkLayer(host: RunningServer, repo: string, layer: Layer, digest: string, pub: string, reference: string): Promise<void> {
    assert.equal(layer.mediaType, SIG_MEDIA);
    const payload = await blob(host, repo, layer.digest);
    assert.equal(sha256(payload), layer.digest);
    assert.equal(payload.length, layer.size);
    assert.deepEqual(JSON.parse(payload.toString('utf8')), {
      critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
      optional: null,
    });
    assert.ok(await opensslVerifies(pub, payload, layer.annotations![SIG_ANNOTATION]!), 'openssl verifies the signature over the payload');
  }

  async function checkSigTag(host: RunningServer, repo: string, digest: string, expectLayers: number): Promise<SigManifest> {
    const { res, body } = await sigManifest(host, repo, digest);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
    assert.equal(body!.schemaVersion, 2);
    assert.equal(body!.mediaType, OCI_MANIFEST);
    assert.equal(body!.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    const config = JSON.parse((await blob(host, repo, body!.config.digest)).toString('utf8'));
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: body!.layers.map((l) => l.digest) });
    assert.equal(body!.layers.length, expectLayers);
    return body!;
  }

  for (const kind of ['berth', 'docker-registry'] as const) {
    describe(`against ${kind}`, { skip: kind === 'docker-registry' && !hasCommand('docker-registry') && 'docker-registry is not installed' }, () => {
      let host: RunningServer;
      before(async () => {
        host = kind === 'berth' ? server : await startDistribution();
      });
      after(async () => {
        if (kind !== 'berth') await host?.stop();
      });

      it('writes the sha256-<hex>.sig tag as cosign does, appending other keys and skipping a repeat', async () => {
        const c = await client(host.host);
        const img = await pushRandomImage(c, 'cos/app', 'v1');
        // Before signing: a missing .sig tag is 404 MANIFEST_UNKNOWN (what skopeo needs to see).
        const missing = await sigManifest(host, 'cos/app', img.digest);
        assert.equal(missing.res.status, 404);
        assert.equal(((await missing.res.json()) as { errors: { code: string }[] }).errors[0]?.code, 'MANIFEST_UNKNOWN');

        const signed = await berth(['sign', `${host.host}/cos/app:v1`, '--key', keys.key, '--insecure', '--json']);
        assert.equal(signed.code, 0, signed.stderr);
        const out = JSON.parse(signed.stdout) as { digest: string; tag: { name: string; layers: number } };
        assert.equal(out.digest, img.digest);
        assert.equal(out.tag.name, sigTag(img.digest));
        let m = await checkSigTag(host, 'cos/app', img.digest, 1);
        await checkLayer(host, 'cos/app', m.layers[0]!, img.digest, keys.pub, `${host.host}/cos/app:v1`);
        assert.equal(await opensslVerifies(otherKeys.pub, await blob(host, 'cos/app', m.layers[0]!.digest), m.layers[0]!.annotations![SIG_ANNOTATION]!), false);

        // The same key and payload again: cosign's duplicate check keeps one layer.
        assert.equal((await berth(['sign', `${host.host}/cos/app:v1`, '--key', keys.key, '--insecure'])).code, 0);
        await checkSigTag(host, 'cos/app', img.digest, 1);
        // Another key: appended.
        assert.equal((await berth(['sign', `${host.host}/cos/app:v1`, '--key', otherKeys.key, '--insecure'])).code, 0);
        m = await checkSigTag(host, 'cos/app', img.digest, 2);
        await checkLayer(host, 'cos/app', m.layers[1]!, img.digest, otherKeys.pub, `${host.host}/cos/app:v1`);

        const ok = await berth(['verify', `${host.host}/cos/app:v1`, '--key', keys.pub, '--insecure']);
        assert.equal(ok.code, 0, ok.stderr);
        assert.match(ok.stdout, /cosign signature \(tag sha256-[0-9a-f]{64}\.sig\): ok/);
        const okOther = await berth(['verify', `${host.host}/cos/app@${img.digest}`, '--key', otherKeys.pub, '--insecure']);
        assert.equal(okOther.code, 0, okOther.stderr);
      });

      it('berth verify refuses a wrong key, a tampered payload, another digest and an unsigned image', async () => {
        const c = await client(host.host);
        const good = await pushRandomImage(c, 'cos/check', 'good');
        const other = await pushRandomImage(c, 'cos/check', 'other');
        const tampered = await pushRandomImage(c, 'cos/check', 'tampered');
        await pushRandomImage(c, 'cos/check', 'unsigned');
        for (const tag of ['good', 'tampered']) assert.equal((await berth(['sign', `${host.host}/cos/check:${tag}`, '--key', keys.key, '--insecure'])).code, 0);

        const wrongKey = await berth(['verify', `${host.host}/cos/check:good`, '--key', otherKeys.pub, '--insecure']);
        assert.equal(wrongKey.code, 1);
        assert.match(wrongKey.stderr, /no signature of .* verifies:\n.*does not verify with the key/);

        // Tampered: the payload blob replaced (the layer's digest follows it), the signature kept.
        const sig = (await sigManifest(host, 'cos/check', tampered.digest)).body!;
        const payload = JSON.parse((await blob(host, 'cos/check', sig.layers[0]!.digest)).toString('utf8'));
        payload.critical.identity['docker-reference'] = `${host.host}/cos/evil:latest`;
        const forged = Buffer.from(JSON.stringify(payload));
        await uploadBlob(c, 'cos/check', sha256(forged), forged);
        const forgedManifest = { ...sig, layers: [{ ...sig.layers[0]!, digest: sha256(forged), size: forged.length }] };
        await putManifest(c, 'cos/check', sigTag(tampered.digest), Buffer.from(JSON.stringify(forgedManifest)), OCI_MANIFEST);
        assert.equal(await opensslVerifies(keys.pub, forged, sig.layers[0]!.annotations![SIG_ANNOTATION]!), false, 'openssl refuses it too');
        const t = await berth(['verify', `${host.host}/cos/check:tampered`, '--key', keys.pub, '--insecure']);
        assert.equal(t.code, 1);
        assert.match(t.stderr, /does not verify with the key/);

        // Another digest: good's signature manifest put under other's .sig tag.
        const goodSig = await get(host, `/v2/cos/check/manifests/${sigTag(good.digest)}`);
        await putManifest(c, 'cos/check', sigTag(other.digest), Buffer.from(await goodSig.arrayBuffer()), OCI_MANIFEST);
        const o = await berth(['verify', `${host.host}/cos/check:other`, '--key', keys.pub, '--insecure', '--json']);
        assert.equal(o.code, 1);
        const report = JSON.parse(o.stdout) as { verified: boolean; signatures: { ok: boolean; reason: string; source: string }[] };
        assert.equal(report.verified, false);
        assert.equal(report.signatures[0]?.reason, `the payload is for ${good.digest}, not ${other.digest}`);

        const u = await berth(['verify', `${host.host}/cos/check:unsigned`, '--key', keys.pub, '--insecure']);
        assert.equal(u.code, 1);
        assert.match(u.stderr, /no signatures found for .*cos\/check@sha256:[0-9a-f]{64}/);

        const noKey = await berth(['verify', `${host.host}/cos/check:good`, '--insecure']);
        assert.equal(noKey.code, 2);
        const wrongPassword = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), 'sign', `${host.host}/cos/check:good`, '--key', keys.key, '--insecure'], {
          env: { COSIGN_PASSWORD: 'not it', HOME: work.path },
          allowFail: true,
        });
        assert.equal(wrongPassword.code, 1);
        assert.match(wrongPassword.stderr, /wrong passphrase/);
      });

      it('--referrer stores an OCI 1.1 referrer that the referrers listing shows and berth verify reads', async () => {
        const c = await client(host.host);
        const img = await pushRandomImage(c, 'cos/ref', 'v1');
        const res = await berth(['sign', `${host.host}/cos/ref@${img.digest}`, '--key', keys.key, '--referrer', '--no-tag', '--insecure', '--json']);
        assert.equal(res.code, 0, res.stderr);
        const out = JSON.parse(res.stdout) as { referrer: { digest: string; listing: string }; tag?: unknown };
        assert.equal(out.tag, undefined);
        assert.equal(out.referrer.listing, kind === 'berth' ? 'api' : 'tag');
        assert.equal((await sigManifest(host, 'cos/ref', img.digest)).res.status, 404, 'no .sig tag with --no-tag');

        // The listing: berth's referrers API, or the referrers tag (sha256-<hex>) on docker-registry.
        const listing =
          kind === 'berth'
            ? await get(host, `/v2/cos/ref/referrers/${img.digest}`, 'application/vnd.oci.image.index.v1+json')
            : await get(host, `/v2/cos/ref/manifests/${img.digest.replace(':', '-')}`, 'application/vnd.oci.image.index.v1+json');
        assert.equal(listing.status, 200);
        const index = (await listing.json()) as { manifests: { digest: string; artifactType?: string; mediaType: string }[] };
        const entry = index.manifests.find((m) => m.digest === out.referrer.digest);
        assert.ok(entry, JSON.stringify(index));
        assert.equal(entry.artifactType, ARTIFACT);
        assert.equal(entry.mediaType, OCI_MANIFEST);

        const m = (await (await get(host, `/v2/cos/ref/manifests/${out.referrer.digest}`)).json()) as SigManifest;
        assert.equal(m.artifactType, ARTIFACT);
        assert.equal(m.subject?.digest, img.digest);
        assert.equal(m.subject?.size, img.bytes.length);
        assert.equal(m.config.mediaType, 'application/vnd.oci.empty.v1+json');
        assert.equal(m.layers.length, 1);
        await checkLayer(host, 'cos/ref', m.layers[0]!, img.digest, keys.pub, `${host.host}/cos/ref`);

        const v = await berth(['verify', `${host.host}/cos/ref@${img.digest}`, '--key', keys.pub, '--insecure', '--json']);
        assert.equal(v.code, 0, v.stderr);
        const report = JSON.parse(v.stdout) as { verified: boolean; signatures: { ok: boolean; source: string; manifest: string }[] };
        assert.deepEqual(
          report.signatures.map((s) => [s.source, s.manifest, s.ok]),
          [['referrer', out.referrer.digest, true]],
        );
        assert.equal((await berth(['verify', `${host.host}/cos/ref@${img.digest}`, '--key', otherKeys.pub, '--insecure'])).code, 1);
      });
    });
  }
});
