// Writes a `docker save` tarball that `docker load` (and skopeo's docker-archive:) accept, from
// what a registry pull delivers: manifest, config bytes and (usually gzipped) layer blobs.
// Tar headers need each entry's size up front, and a gzipped layer's uncompressed size is unknown,
// so each layer is decompressed to a temp file first (disk, never memory), then copied in.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { digestOf } from '../oci/digest.ts';
import { mapLimit } from '../util/map-limit.ts';
import { decompressLayer, digestingStream, verifying } from './digesting.ts';
import type { Descriptor } from './media.ts';

export interface ArchiveImageInput {
  /** `name:tag` references recorded in manifest.json RepoTags (may be empty). */
  repoTags: string[];
  /** The image manifest (Docker schema 2 or OCI), parsed or as bytes. */
  manifest: Buffer | { config: Descriptor; layers: Descriptor[] };
  config: Buffer;
  /** Opens a layer blob as stored in the registry (compressed as its descriptor says). */
  openLayer(desc: Descriptor): Promise<Readable> | Readable;
}

/** Writes `images` to `outPath` atomically (a temp file in the same directory, then rename). */
export async function writeDockerArchive(outPath: string, images: ArchiveImageInput[]): Promise<void> {
  const work = await mkdtemp(join(dirname(outPath), `.${basename(outPath)}.`));
  const tmpOut = join(work, 'archive.tar');
  try {
    const pack = tar.pack();
    const written = pipeline(pack, createWriteStream(tmpOut));
    written.catch(() => {}); // surfaced below; avoids an unhandled rejection if packing fails first
    const addFile = async (name: string, data: Buffer) => {
      await new Promise<void>((res, rej) => pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? rej(e) : res())));
    };
    const seenLayers = new Set<string>();
    const seenConfigs = new Set<string>();
    const entries: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const described = images.map(describe);
    // Every distinct layer is decompressed into `work` first, several at once (gunzip runs on the
    // threadpool): one after the other would leave cores idle while the tar waits for sizes.
    const unpack = new Map<string, () => Promise<void>>();
    for (const [n, d] of described.entries()) {
      d.layers.forEach((desc, i) => {
        const name = `${d.diffIds[i]!.slice(7)}.tar`;
        if (!unpack.has(name)) unpack.set(name, async () => unpackLayer(await images[n]!.openLayer(desc), desc, d.diffIds[i]!, join(work, name)));
      });
    }
    await mapLimit([...unpack.values()], UNPACK_PARALLEL, (job) => job());
    for (const [n, image] of images.entries()) {
      const { configDigest, diffIds, layers } = described[n]!;
      const configName = `${configDigest.slice(7)}.json`;
      if (!seenConfigs.has(configName)) {
        seenConfigs.add(configName);
        await addFile(configName, image.config);
      }
      const layerNames: string[] = [];
      for (let i = 0; i < layers.length; i++) {
        const diffId = diffIds[i]!;
        const name = `${diffId.slice(7)}.tar`;
        layerNames.push(name);
        if (seenLayers.has(name)) continue;
        seenLayers.add(name);
        const file = join(work, name);
        const { size } = await stat(file);
        const sink = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) });
        await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), sink);
        await rm(file);
      }
      entries.push({ Config: configName, RepoTags: image.repoTags, Layers: layerNames });
      // `repositories` is the pre-1.10 tag file; docker load still reads it: repo -> tag -> top layer id.
      const top = layerNames.at(-1)?.replace(/\.tar$/, '') ?? configDigest.slice(7);
      for (const ref of image.repoTags) {
        const colon = ref.lastIndexOf(':');
        if (colon <= ref.lastIndexOf('/')) throw new Error(`RepoTag ${ref} needs a :tag`);
        (repositories[ref.slice(0, colon)] ??= {})[ref.slice(colon + 1)] = top;
      }
    }
    await addFile('manifest.json', Buffer.from(JSON.stringify(entries)));
    await addFile('repositories', Buffer.from(JSON.stringify(repositories)));
    pack.finalize();
    await written;
    await rename(tmpOut, outPath);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const UNPACK_PARALLEL = 4;

/** An image's manifest checked against its config: the config digest and one diff_id per layer. */
function describe(image: ArchiveImageInput): { configDigest: string; diffIds: string[]; layers: Descriptor[] } {
  const manifest = Buffer.isBuffer(image.manifest) ? JSON.parse(image.manifest.toString('utf8')) : image.manifest;
  const configDigest = digestOf(image.config);
  if (manifest.config?.digest !== configDigest) {
    throw new Error(`config bytes hash to ${configDigest} but the manifest names ${manifest.config?.digest}`);
  }
  const diffIds: string[] = JSON.parse(image.config.toString('utf8')).rootfs?.diff_ids ?? [];
  const layers: Descriptor[] = manifest.layers ?? [];
  if (diffIds.length !== layers.length) throw new Error(`manifest has ${layers.length} layers but the config ${diffIds.length} diff_ids`);
  return { configDigest, diffIds, layers };
}

/** Verifies the blob digest, decompresses, verifies the diff_id, and leaves the tar in `file`. */
async function unpackLayer(blob: Readable, desc: Descriptor, diffId: string, file: string): Promise<void> {
  const checked = verifying(blob, desc.digest, `layer ${desc.digest}`);
  const plain = decompressLayer(checked, desc.mediaType);
  const d = digestingStream();
  await pipeline(plain, d.stream, createWriteStream(file));
  const { digest } = await d.result;
  if (digest !== diffId) throw new Error(`layer ${desc.digest}: uncompressed it hashes to ${digest}, but the config's diff_id is ${diffId}`);
}
