// Writes a synthetic CNCF Distribution (registry:2) storage tree, file by file, the way
// distribution lays it out (see src/import/layout.ts), so tests can also write what distribution
// never would on its own: corrupt data, missing blobs, dangling tags, schema 1 manifests.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

const hexOf = (digest: string) => digest.slice('sha256:'.length);

export interface TreeImage {
  digest: string;
  bytes: Buffer;
  config: string;
  layers: string[];
}

export class DistTree {
  /** `root` plays registry:2's rootdirectory; the tree is under root/docker/registry/v2. */
  constructor(readonly root: string) {}

  get v2(): string {
    return join(this.root, 'docker', 'registry', 'v2');
  }

  blobDataPath(digest: string): string {
    const hex = hexOf(digest);
    return join(this.v2, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
  }

  private async write(path: string, data: Buffer | string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  }

  private repo(name: string, ...rest: string[]): string {
    return join(this.v2, 'repositories', ...name.split('/'), ...rest);
  }

  async blob(data: Buffer | string): Promise<string> {
    const digest = sha256(data);
    await this.write(this.blobDataPath(digest), data);
    return digest;
  }

  /** Replaces a blob's data with other bytes under the same digest. */
  async corrupt(digest: string, data: Buffer | string = 'not what the digest says'): Promise<void> {
    await this.write(this.blobDataPath(digest), data);
  }

  async removeBlob(digest: string): Promise<void> {
    await rm(dirname(this.blobDataPath(digest)), { recursive: true, force: true });
  }

  async linkLayer(repo: string, digest: string): Promise<void> {
    await this.write(this.repo(repo, '_layers', 'sha256', hexOf(digest), 'link'), digest);
  }

  async revision(repo: string, digest: string): Promise<void> {
    await this.write(this.repo(repo, '_manifests', 'revisions', 'sha256', hexOf(digest), 'link'), digest);
  }

  /** What a manifest DELETE leaves: the revision directory without its link. */
  async deleteRevision(repo: string, digest: string): Promise<void> {
    await rm(this.repo(repo, '_manifests', 'revisions', 'sha256', hexOf(digest), 'link'), { force: true });
  }

  async tag(repo: string, tag: string, digest: string): Promise<void> {
    await this.write(this.repo(repo, '_manifests', 'tags', tag, 'current', 'link'), digest);
    await this.write(this.repo(repo, '_manifests', 'tags', tag, 'index', 'sha256', hexOf(digest), 'link'), digest);
  }

  /** An upload in progress, which the import must ignore. */
  async upload(repo: string): Promise<void> {
    await this.write(this.repo(repo, '_uploads', 'a1b2c3', 'data'), randomBytes(100));
    await this.write(this.repo(repo, '_uploads', 'a1b2c3', 'startedat'), new Date().toISOString());
  }

  /** Writes and links the blobs of an image, then its manifest as a revision (and a tag). */
  async image(repo: string, opts: { layers?: number; layerBytes?: number; tag?: string } = {}): Promise<TreeImage> {
    const layers: { mediaType: string; digest: string; size: number }[] = [];
    for (let i = 0; i < (opts.layers ?? 2); i++) {
      const data = randomBytes(opts.layerBytes ?? 2048);
      const digest = await this.blob(data);
      await this.linkLayer(repo, digest);
      layers.push({ mediaType: OCI_LAYER, digest, size: data.length });
    }
    const configBytes = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(4).toString('hex') });
    const config = await this.blob(configBytes);
    await this.linkLayer(repo, config);
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: config, size: configBytes.length }, layers }));
    const digest = await this.manifest(repo, bytes, opts.tag);
    return { digest, bytes, config, layers: layers.map((l) => l.digest) };
  }

  /** Stores manifest bytes as a blob and a revision of `repo` (and tags it). */
  async manifest(repo: string, bytes: Buffer | string, tag?: string): Promise<string> {
    const digest = await this.blob(bytes);
    await this.revision(repo, digest);
    if (tag) await this.tag(repo, tag, digest);
    return digest;
  }

  async index(repo: string, children: TreeImage[], tag?: string): Promise<{ digest: string; bytes: Buffer }> {
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: children.map((c, i) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.bytes.length, platform: { os: 'linux', architecture: `arch${i}` } })),
      }),
    );
    return { digest: await this.manifest(repo, bytes, tag), bytes };
  }
}

/** A Docker schema 1 signed manifest, as old clients pushed them. */
export function schema1Manifest(name: string, layer: string): string {
  return JSON.stringify({
    schemaVersion: 1,
    name,
    tag: 'old',
    architecture: 'amd64',
    fsLayers: [{ blobSum: layer }],
    history: [{ v1Compatibility: '{"id":"x"}' }],
    signatures: [{ header: { alg: 'ES256' }, signature: 'c2ln', protected: 'cHJvdGVjdGVk' }],
  });
}
