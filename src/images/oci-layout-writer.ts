// Writes an OCI image layout directory that skopeo/podman read as `oci:DIR:ref`. Blobs land under
// a temp name and are renamed into blobs/sha256/<hex> only after their digest checked out, so a
// crash or a corrupt stream never leaves a blob whose name lies about its content.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseDigest } from '../oci/digest.ts';
import { MediaType } from '../oci/media-types.ts';
import { digestingStream, type DigestResult } from './digesting.ts';
import { REF_NAME, type Descriptor } from './media.ts';

export class OciLayoutWriter {
  private constructor(readonly dir: string) {}

  /** Creates the layout (or opens an existing one to add blobs and refs). */
  static async open(dir: string): Promise<OciLayoutWriter> {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    const marker = join(dir, 'oci-layout');
    if (!(await exists(marker))) await atomicWrite(marker, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (!(await exists(join(dir, 'index.json')))) {
      await atomicWrite(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
    }
    return new OciLayoutWriter(dir);
  }

  /**
   * Stores a blob from a stream. With `expected`, the stream must hash to that digest (and size,
   * if given) or nothing is kept. An already-present blob is not rewritten.
   */
  async putBlob(source: Readable | Buffer, expected?: { digest: string; size?: number }): Promise<DigestResult> {
    if (expected) {
      const { algorithm } = parseDigest(expected.digest);
      if (algorithm !== 'sha256') throw new Error(`${expected.digest}: only sha256 blobs are written`);
      const final = join(this.dir, 'blobs', 'sha256', expected.digest.slice(7));
      if (await exists(final)) {
        if (!Buffer.isBuffer(source)) source.destroy();
        return { digest: expected.digest, size: (await stat(final)).size };
      }
    }
    const tmp = join(this.dir, 'blobs', 'sha256', `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      const d = digestingStream();
      await pipeline(Buffer.isBuffer(source) ? Readable.from([source]) : source, d.stream, createWriteStream(tmp));
      const got = await d.result;
      if (expected && got.digest !== expected.digest) throw new Error(`blob digest mismatch: expected ${expected.digest}, got ${got.digest}`);
      if (expected?.size !== undefined && got.size !== expected.size) throw new Error(`blob ${got.digest}: expected ${expected.size} bytes, got ${got.size}`);
      await rename(tmp, join(this.dir, 'blobs', 'sha256', got.digest.slice(7)));
      return got;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Points `ref` at `desc` in index.json (replacing an older entry of that name); atomic. */
  async tag(ref: string, desc: Descriptor): Promise<void> {
    const path = join(this.dir, 'index.json');
    const index = JSON.parse(await readFile(path, 'utf8')) as { manifests: Descriptor[] };
    index.manifests = (index.manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== ref);
    const { annotations, ...rest } = desc;
    index.manifests.push({ ...rest, annotations: { ...annotations, [REF_NAME]: ref } });
    await atomicWrite(path, JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, ...index }));
  }

  /**
   * Stores one image (config, layers as delivered, manifest) and tags it. `openLayer` gives the
   * blob bytes for each manifest layer descriptor; each is verified while written.
   */
  async writeImage(
    ref: string | undefined,
    image: { manifestBytes: Buffer; configBytes: Buffer; openLayer(desc: Descriptor, i: number): Readable | Promise<Readable> },
  ): Promise<Descriptor> {
    const manifest = JSON.parse(image.manifestBytes.toString('utf8')) as { mediaType?: string; config: Descriptor; layers: Descriptor[] };
    await this.putBlob(image.configBytes, manifest.config);
    for (const [i, l] of manifest.layers.entries()) await this.putBlob(await image.openLayer(l, i), l);
    const put = await this.putBlob(image.manifestBytes);
    const desc = { mediaType: manifest.mediaType ?? MediaType.ociManifest, digest: put.digest, size: put.size };
    if (ref !== undefined) await this.tag(ref, desc);
    return desc;
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

async function atomicWrite(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
