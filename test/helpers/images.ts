// Pure-Node test images: writes an OCI image layout (oci-layout, index.json, blobs/sha256/*)
// that skopeo/podman can read as `oci:DIR:tag`, so tests need no docker engine.
// Layers are real gzip-compressed tars of random bytes; the config carries the matching diff_ids.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { Readable } from 'node:stream';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export type { Descriptor } from '../../src/images/media.ts';
import type { Descriptor } from '../../src/images/media.ts';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageInfo {
  platform: Platform;
  manifest: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
  /** sha256 of each uncompressed layer tar, as in config rootfs.diff_ids. */
  diffIds: string[];
}

export interface LayoutResult {
  dir: string;
  tag: string;
  /** Digest of what `tag` points at: the index when platforms were given, else the single manifest. */
  digest: string;
  mediaType: string;
  /** Present when platforms were given. */
  index?: Descriptor;
  images: ImageInfo[];
  /** Every blob digest written for this tag (manifests, index, configs, layers). */
  blobs: string[];
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Stores bytes under blobs/sha256/<hex>, returning the descriptor fields. */
export async function writeBlob(layoutDir: string, data: Buffer | string, mediaType: string): Promise<Descriptor> {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const digest = sha256(buf);
  const dir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, digest.slice(7)), buf);
  return { mediaType, digest, size: buf.length };
}

/** An uncompressed tar holding one file of `bytes` random bytes (random so no two layers dedupe). */
export async function makeLayerTar(bytes: number, name = `file-${randomBytes(4).toString('hex')}.bin`): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  // Fixed mtime/owner: only the random payload varies between layers.
  pack.entry({ name, size: bytes, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, randomBytes(bytes));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function makeImage(dir: string, platform: Platform, layers: number, layerBytes: number): Promise<ImageInfo> {
  const layerDescs: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layers; i++) {
    const raw = await makeLayerTar(layerBytes, `layer${i}.bin`);
    diffIds.push(sha256(raw));
    layerDescs.push(await writeBlob(dir, gzipSync(raw), MEDIA.ociLayerGzip));
  }
  const config = {
    created: '2024-01-01T00:00:00Z',
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `berth test layer ${i}` })),
  };
  const configDesc = await writeBlob(dir, JSON.stringify(config), MEDIA.ociConfig);
  const manifest = { schemaVersion: 2, mediaType: MEDIA.ociManifest, config: configDesc, layers: layerDescs };
  const manifestDesc = await writeBlob(dir, JSON.stringify(manifest), MEDIA.ociManifest);
  return { platform, manifest: { ...manifestDesc, platform }, config: configDesc, layers: layerDescs, diffIds };
}

/**
 * Writes (or adds a tag to) an OCI image layout at `dir`. With `platforms`, one image per platform
 * under an OCI index that `tag` names; otherwise a single linux/amd64 image. Calling it again on the
 * same dir with another tag adds to index.json (replacing an entry with the same tag).
 */
export async function makeOciLayout(
  dir: string,
  opts: { tag: string; layers: number; layerBytes: number; platforms?: Platform[] },
): Promise<LayoutResult> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  const plats = opts.platforms?.length ? opts.platforms : [{ os: 'linux', architecture: 'amd64' }];
  const images: ImageInfo[] = [];
  for (const p of plats) images.push(await makeImage(dir, p, opts.layers, opts.layerBytes));

  let top: Descriptor;
  let index: Descriptor | undefined;
  if (opts.platforms?.length) {
    const idx = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: images.map((i) => i.manifest) };
    index = await writeBlob(dir, JSON.stringify(idx), MEDIA.ociIndex);
    top = index;
  } else {
    const { platform: _p, ...m } = images[0].manifest;
    top = m;
  }

  const indexPath = join(dir, 'index.json');
  let outer: { schemaVersion: number; manifests: Descriptor[] } = { schemaVersion: 2, manifests: [] };
  try {
    outer = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch {
    /* new layout */
  }
  const REF = 'org.opencontainers.image.ref.name';
  outer.manifests = outer.manifests.filter((m) => m.annotations?.[REF] !== opts.tag);
  outer.manifests.push({ ...top, annotations: { [REF]: opts.tag } });
  await writeFile(indexPath, JSON.stringify({ ...outer, mediaType: MEDIA.ociIndex }));

  const blobs = [
    ...(index ? [index.digest] : []),
    ...images.flatMap((i) => [i.manifest.digest, i.config.digest, ...i.layers.map((l) => l.digest)]),
  ];
  return { dir, tag: opts.tag, digest: top.digest, mediaType: top.mediaType, index, images, blobs };
}

/** Reads a blob back out of a layout (for byte-for-byte comparisons after a round trip). */
export async function readLayoutBlob(dir: string, digest: string): Promise<Buffer> {
  return readFile(join(dir, 'blobs', digest.replace(':', '/')));
}

/** The descriptor index.json gives for `tag`, or undefined. */
export async function layoutRef(dir: string, tag: string): Promise<Descriptor | undefined> {
  const outer = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  return outer.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
}

/** All regular files of a (small) tar file, by entry name; for checking docker-archive output. */
export async function readTarFile(path: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  createReadStream(path).pipe(extract);
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    if (entry.header.type === 'file') files.set(entry.header.name.replace(/^\.\//, ''), Buffer.concat(chunks));
  }
  return files;
}

/**
 * A `docker save` tarball of one image with `layers` plain-tar layers, written directly (never
 * gzipped anywhere, so no client's blob-info cache knows a compressed form of these layers).
 * `fill: 'text'` makes layers that compress about 2:1 with gzip (real root filesystems compress 2-4:1).
 */
export async function makeDockerArchive(
  path: string,
  opts: { repoTag: string; layers: number; layerBytes: number; fill?: 'random' | 'text' },
): Promise<{ configDigest: string; diffIds: string[]; layerTars: Buffer[] }> {
  const { writeDockerArchive } = await import('../../src/images/index.ts');
  const layerTars: Buffer[] = [];
  for (let i = 0; i < opts.layers; i++) {
    if (opts.fill === 'text') {
      const words = Array.from({ length: 4096 }, () => randomBytes(6).toString('base64url').slice(0, 2 + (i % 5)));
      let text = '';
      while (text.length < opts.layerBytes) text += `${words[Math.floor(Math.random() * words.length)]} `;
      const pack = tar.pack();
      const chunks: Buffer[] = [];
      const done = (async () => {
        for await (const c of pack) chunks.push(c as Buffer);
      })();
      pack.entry({ name: `layer${i}.txt`, size: opts.layerBytes, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, Buffer.from(text).subarray(0, opts.layerBytes));
      pack.finalize();
      await done;
      layerTars.push(Buffer.concat(chunks));
    } else layerTars.push(await makeLayerTar(opts.layerBytes, `layer${i}.bin`));
  }
  const diffIds = layerTars.map((t) => sha256(t));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created_by: 'berth test' })),
    }),
  );
  const configDigest = sha256(config);
  const manifest = {
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: configDigest, size: config.length },
    layers: layerTars.map((t) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: sha256(t), size: t.length })),
  };
  await writeDockerArchive(path, [
    {
      repoTags: [opts.repoTag],
      manifest,
      config,
      openLayer: (d) => Readable.from([layerTars[manifest.layers.findIndex((l) => l.digest === d.digest)]!]),
    },
  ]);
  return { configDigest, diffIds, layerTars };
}
