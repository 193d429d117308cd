// Differential: manifest PUT (Docker v2, OCI, index, list; by tag and by digest; invalid ones),
// GET/HEAD with the Accept headers real clients send, DELETE, and the OCI 1.1 referrers API.
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { compare, digestOf, pushBlob, startPair, type Pair, type Recorder, needsDistribution } from './harness.ts';

const T = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  empty: 'application/vnd.oci.empty.v1+json',
};

const blob = (b: Buffer, mediaType: string) => ({ mediaType, digest: digestOf(b), size: b.length });
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

// Fixed content shared by both registries.
const config = json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf('x')] } });
const configArm = json({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf('y')] } });
const layer1 = randomBytes(3000);
const layer2 = randomBytes(2000);
const emptyJson = Buffer.from('{}');
const BLOBS = [config, configArm, layer1, layer2, emptyJson];

const dockerImage = json({
  schemaVersion: 2,
  mediaType: T.dockerManifest,
  config: blob(config, T.dockerConfig),
  layers: [blob(layer1, T.dockerLayer)],
});
const dockerImageArm = json({
  schemaVersion: 2,
  mediaType: T.dockerManifest,
  config: blob(configArm, T.dockerConfig),
  layers: [blob(layer2, T.dockerLayer)],
});
const ociImage = json({ schemaVersion: 2, mediaType: T.ociManifest, config: blob(config, T.ociConfig), layers: [blob(layer1, T.ociLayer)] });
const ociImage2 = json({ schemaVersion: 2, mediaType: T.ociManifest, config: blob(configArm, T.ociConfig), layers: [blob(layer2, T.ociLayer)] });
const ociIndex = json({
  schemaVersion: 2,
  mediaType: T.ociIndex,
  manifests: [
    { ...blob(ociImage, T.ociManifest), platform: { os: 'linux', architecture: 'amd64' } },
    { ...blob(ociImage2, T.ociManifest), platform: { os: 'linux', architecture: 'arm64' } },
  ],
});
const dockerList = json({
  schemaVersion: 2,
  mediaType: T.dockerList,
  manifests: [
    { ...blob(dockerImage, T.dockerManifest), platform: { os: 'linux', architecture: 'amd64' } },
    { ...blob(dockerImageArm, T.dockerManifest), platform: { os: 'linux', architecture: 'arm64' } },
  ],
});
const missingLayer = randomBytes(100);
const ociMissingLayer = json({
  schemaVersion: 2,
  mediaType: T.ociManifest,
  config: blob(config, T.ociConfig),
  layers: [blob(missingLayer, T.ociLayer)],
});
const ociMissingConfig = json({
  schemaVersion: 2,
  mediaType: T.ociManifest,
  config: blob(randomBytes(50), T.ociConfig),
  layers: [blob(layer1, T.ociLayer)],
});
const indexMissingChild = json({
  schemaVersion: 2,
  mediaType: T.ociIndex,
  manifests: [{ ...blob(randomBytes(300), T.ociManifest), platform: { os: 'linux', architecture: 'amd64' } }],
});
// An OCI 1.1 artifact (empty config, artifactType) whose subject is ociImage.
const artifactType = 'application/vnd.example.sbom.v1+json';
const artifact = json({
  schemaVersion: 2,
  mediaType: T.ociManifest,
  artifactType,
  config: blob(emptyJson, T.empty),
  layers: [blob(emptyJson, T.empty)],
  subject: blob(ociImage, T.ociManifest),
  annotations: { 'org.example.kind': 'sbom' },
});

async function seedBlobs(r: Recorder, repo: string): Promise<void> {
  for (const [i, b] of BLOBS.entries()) await pushBlob(r, `seed-blob-${i}`, repo, b);
}

const putManifest = (r: Recorder, id: string, repo: string, ref: string, body: Buffer | string, type: string) =>
  r.call(id, { method: 'PUT', path: `/v2/${repo}/manifests/${ref}`, headers: { 'Content-Type': type }, body });

const get = (r: Recorder, id: string, repo: string, ref: string, accept?: string, method = 'GET') =>
  r.call(id, { method, path: `/v2/${repo}/manifests/${ref}`, headers: accept ? { Accept: accept } : {} });

/** Every type a current client (containerd, skopeo) lists in Accept. */
const ACCEPT_ALL = [T.ociIndex, T.ociManifest, T.dockerList, T.dockerManifest].join(', ');

describe('differential: manifests', needsDistribution, () => {
  let pair: Pair;
  before(async () => {
    pair = await startPair();
  });
  after(async () => {
    await pair?.stop();
  });

  it('manifest PUT: Docker v2, OCI, index, list, by tag and digest, and invalid ones', () =>
    compare(pair, 'manifest-put', async (r) => {
      const repo = 'm/put';
      await seedBlobs(r, repo);
      await putManifest(r, 'docker-by-tag', repo, 'docker', dockerImage, T.dockerManifest);
      await putManifest(r, 'docker-arm-by-digest', repo, digestOf(dockerImageArm), dockerImageArm, T.dockerManifest);
      await putManifest(r, 'oci-by-tag', repo, 'oci', ociImage, T.ociManifest);
      await putManifest(r, 'oci-by-digest', repo, digestOf(ociImage2), ociImage2, T.ociManifest);
      await putManifest(r, 'oci-same-again', repo, 'oci', ociImage, T.ociManifest);
      await putManifest(r, 'digest-mismatch', repo, digestOf(ociImage), ociImage2, T.ociManifest);
      await putManifest(r, 'unknown-layer', repo, 'missing-layer', ociMissingLayer, T.ociManifest);
      await putManifest(r, 'unknown-config', repo, 'missing-config', ociMissingConfig, T.ociManifest);
      await putManifest(r, 'invalid-json', repo, 'broken', '{"schemaVersion": 2, "mediaType": ', T.ociManifest);
      // (Distribution answers 500 UNKNOWN to a schemaVersion 1 body under an OCI type: not compared.)
      await putManifest(r, 'json-array-body', repo, 'array', '[]', T.ociManifest);
      await putManifest(r, 'content-type-mismatch', repo, 'mismatch', ociImage, T.dockerManifest);
      await putManifest(r, 'index-by-tag', repo, 'index', ociIndex, T.ociIndex);
      await putManifest(r, 'index-unknown-child', repo, 'index-missing', indexMissingChild, T.ociIndex);
      await putManifest(r, 'docker-list-by-tag', repo, 'list', dockerList, T.dockerList);
      await putManifest(r, 'tag-to-other-manifest', repo, 'oci', ociImage2, T.ociManifest);
      await get(r, 'get-retagged', repo, 'oci', ACCEPT_ALL);
    }));

  it('manifest GET/HEAD by tag and digest with various Accept headers', () =>
    compare(pair, 'manifest-get', async (r) => {
      const repo = 'm/get';
      await seedBlobs(r, repo);
      await putManifest(r, 'seed-docker', repo, 'docker', dockerImage, T.dockerManifest);
      await putManifest(r, 'seed-docker-arm', repo, digestOf(dockerImageArm), dockerImageArm, T.dockerManifest);
      await putManifest(r, 'seed-oci', repo, 'oci', ociImage, T.ociManifest);
      await putManifest(r, 'seed-oci2', repo, digestOf(ociImage2), ociImage2, T.ociManifest);
      await putManifest(r, 'seed-index', repo, 'index', ociIndex, T.ociIndex);
      await putManifest(r, 'seed-list', repo, 'list', dockerList, T.dockerList);
      const dd = digestOf(dockerImage);
      const od = digestOf(ociImage);

      await get(r, 'docker-tag-accept-docker', repo, 'docker', T.dockerManifest);
      await get(r, 'docker-tag-accept-docker-head', repo, 'docker', T.dockerManifest, 'HEAD');
      await get(r, 'docker-tag-accept-all', repo, 'docker', ACCEPT_ALL);
      await get(r, 'docker-digest-accept-docker', repo, dd, T.dockerManifest);
      await get(r, 'docker-digest-no-accept', repo, dd);
      await get(r, 'docker-digest-no-accept-head', repo, dd, undefined, 'HEAD');
      await get(r, 'docker-tag-no-accept', repo, 'docker');
      await get(r, 'docker-tag-accept-oci-only', repo, 'docker', T.ociManifest);

      await get(r, 'oci-tag-accept-oci', repo, 'oci', T.ociManifest);
      await get(r, 'oci-tag-accept-oci-head', repo, 'oci', T.ociManifest, 'HEAD');
      await get(r, 'oci-tag-accept-all', repo, 'oci', ACCEPT_ALL);
      await get(r, 'oci-digest-accept-oci', repo, od, T.ociManifest);
      await get(r, 'oci-tag-accept-wildcard', repo, 'oci', '*/*');
      await get(r, 'oci-tag-no-accept', repo, 'oci');
      await get(r, 'oci-digest-no-accept', repo, od);
      await get(r, 'oci-tag-accept-docker-only', repo, 'oci', T.dockerManifest);

      await get(r, 'index-tag-accept-index', repo, 'index', T.ociIndex);
      await get(r, 'index-tag-accept-all-head', repo, 'index', ACCEPT_ALL, 'HEAD');
      await get(r, 'index-digest-accept-all', repo, digestOf(ociIndex), ACCEPT_ALL);
      await get(r, 'index-tag-accept-manifest-only', repo, 'index', T.ociManifest);
      await get(r, 'list-tag-accept-list', repo, 'list', T.dockerList);
      await get(r, 'list-tag-accept-docker-only', repo, 'list', T.dockerManifest);

      await get(r, 'unknown-tag', repo, 'nope', ACCEPT_ALL);
      await get(r, 'unknown-tag-head', repo, 'nope', ACCEPT_ALL, 'HEAD');
      await get(r, 'unknown-digest', repo, digestOf('nothing'), ACCEPT_ALL);
      await get(r, 'unknown-repo', 'm/none', 'latest', ACCEPT_ALL);
      // (A malformed digest reference gets 500 UNKNOWN from distribution: not compared.)
    }));

  it('manifest DELETE', () =>
    compare(pair, 'manifest-delete', async (r) => {
      const repo = 'm/del';
      await seedBlobs(r, repo);
      await putManifest(r, 'seed-oci', repo, 'oci', ociImage, T.ociManifest);
      await putManifest(r, 'seed-oci-other-tag', repo, 'again', ociImage, T.ociManifest);
      const od = digestOf(ociImage);
      await r.call('delete-by-tag', { method: 'DELETE', path: `/v2/${repo}/manifests/oci` });
      await r.call('delete-by-digest', { method: 'DELETE', path: `/v2/${repo}/manifests/${od}` });
      await get(r, 'get-tag-after', repo, 'oci', ACCEPT_ALL);
      await get(r, 'get-other-tag-after', repo, 'again', ACCEPT_ALL);
      await get(r, 'get-digest-after', repo, od, ACCEPT_ALL);
      await r.call('tags-after', { method: 'GET', path: `/v2/${repo}/tags/list` });
      await r.call('config-blob-still-there', { method: 'HEAD', path: `/v2/${repo}/blobs/${digestOf(config)}` });
      await r.call('delete-again', { method: 'DELETE', path: `/v2/${repo}/manifests/${od}` });
      await r.call('delete-unknown', { method: 'DELETE', path: `/v2/${repo}/manifests/${digestOf('nothing')}` });
      await r.call('delete-unknown-repo', { method: 'DELETE', path: `/v2/m/none/manifests/${od}` });
    }));

  it('OCI 1.1 subject and referrers', () =>
    compare(pair, 'referrers', async (r) => {
      const repo = 'm/ref';
      await seedBlobs(r, repo);
      await putManifest(r, 'seed-oci', repo, 'oci', ociImage, T.ociManifest);
      await putManifest(r, 'put-with-subject', repo, digestOf(artifact), artifact, T.ociManifest);
      await get(r, 'get-artifact', repo, digestOf(artifact), T.ociManifest);
      const path = `/v2/${repo}/referrers/${digestOf(ociImage)}`;
      await r.call('get-referrers', { method: 'GET', path });
      await r.call('get-referrers-filtered', { method: 'GET', path: `${path}?artifactType=${encodeURIComponent(artifactType)}` });
      await r.call('get-referrers-none', { method: 'GET', path: `/v2/${repo}/referrers/${digestOf(ociImage2)}` });
    }));
});
