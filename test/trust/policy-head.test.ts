// Under a pull policy a manifest HEAD is refused like a GET, except for callers who may push to
// the repository: signing tools (berth sign, cosign) resolve the digest they sign with a HEAD.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { basic, startHtpasswdRegistry, type AuthRegistry } from '../auth/harness.ts';
import { OCI_MANIFEST } from '../http/harness.ts';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function pushAs(base: string, auth: string, repo: string, tag: string): Promise<string> {
  const blob = async (data: Buffer) => {
    const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
    assert.equal(post.status, 202, await post.text());
    const loc = new URL(post.headers.get('location')!, base);
    loc.searchParams.set('digest', sha(data));
    const put = await fetch(loc, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/octet-stream' }, body: new Uint8Array(data) });
    assert.equal(put.status, 201, await put.text());
    return sha(data);
  };
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(4).toString('hex') }));
  const layer = randomBytes(100);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await blob(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await blob(layer), size: layer.length }],
    }),
  );
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { authorization: auth, 'content-type': OCI_MANIFEST }, body: new Uint8Array(manifest) });
  assert.equal(res.status, 201, await res.text());
  return sha(manifest);
}

describe('pull policy and manifest HEAD', () => {
  let r: AuthRegistry;
  before(async () => {
    r = await startHtpasswdRegistry({ admin: 'admin-pw', reader: 'reader-pw' }, (c, root) => {
      c.berth.auth.accessControl = { enabled: true, admins: ['admin'] };
      const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const keyPath = join(root, 'cosign.pub');
      // Written before start: the policy loads its keys when the registry starts.
      writeFileSync(keyPath, pub);
      c.berth.trust.policies = [{ repositories: ['signed/**'], require: 'cosign', keys: [keyPath], notaryRoles: ['targets'] }];
    });
    const ns = await fetch(`${r.url}/api/v1/namespaces/signed`, { method: 'PUT', headers: { authorization: basic('admin', 'admin-pw'), 'content-type': 'application/json' }, body: JSON.stringify({ visibility: 'public' }) });
    assert.equal(ns.status, 200, await ns.text());
  });
  after(() => r?.stop());

  it('refuses HEAD and GET of an unsigned image to readers, answers HEAD to a pusher', async () => {
    await pushAs(r.url, basic('admin', 'admin-pw'), 'signed/app', 'v1');
    const head = (auth?: string) => fetch(`${r.url}/v2/signed/app/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST, ...(auth && { authorization: auth }) } });
    assert.equal((await head(basic('reader', 'reader-pw'))).status, 403, 'a reader');
    assert.equal((await head()).status, 403, 'anonymous (public namespace)');
    assert.equal((await head(basic('admin', 'admin-pw'))).status, 200, 'a pusher resolves the digest to sign');
    const get = await fetch(`${r.url}/v2/signed/app/manifests/v1`, { headers: { accept: OCI_MANIFEST, authorization: basic('admin', 'admin-pw') } });
    assert.equal(get.status, 403, 'a GET is refused to everyone');
  });
});
