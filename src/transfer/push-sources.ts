// What `berth push` can push, turned into one plan: the blobs to send and how to write each
// manifest once their digests are known. Sources: a `docker save` tarball (plain or gzipped, one
// or many images), an OCI image layout (directory or tar), or files pushed as an OCI artifact.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, relative, sep, posix } from 'node:path';
import { Readable } from 'node:stream';
import { UsageError } from '../client/index.ts';
import { ConfigMedia, DockerArchive, OciLayoutReader, type Descriptor, type LayoutImage } from '../images/index.ts';
import { MediaType, manifestKinds } from '../oci/media-types.ts';
import { compress, compressionOf, layerMediaType, recompress, type Compression } from './compression.ts';
import type { BlobToPush } from './upload.ts';

export interface PlanOptions {
  /** docker archive: `name:tag` (or `#N`) of the image to push; OCI layout: the ref name. */
  image?: string;
  /** Push files as an OCI artifact of this type. */
  artifactType?: string;
  /** Layer compression; undefined keeps what the source has (and gzips a docker archive's plain tars). */
  compress?: Compression;
  compressionLevel?: number;
  /** Manifest format for a docker archive: docker (schema 2, as docker push) or oci. */
  format?: 'docker' | 'oci';
  /** Artifact files' media type. */
  fileType?: string;
  annotations?: Record<string, string>;
  /** Scratch space (a gzipped archive is decompressed there once for random access). */
  tmpDir: string;
}

export interface PlannedLayer {
  /** The manifest's layer descriptor; digest and size are filled from the upload. */
  template: Omit<Descriptor, 'digest' | 'size'> & Partial<Pick<Descriptor, 'digest' | 'size'>>;
  blob: BlobToPush;
}

export interface PlannedImage {
  config: { bytes: Buffer; mediaType: string };
  layers: PlannedLayer[];
  /** The manifest JSON as a template: config and layers are replaced by the pushed descriptors. */
  manifest: Record<string, unknown>;
  manifestMediaType: string;
  /** The source's exact manifest bytes: pushed as they are when no layer changed (digest kept). */
  originalBytes?: Buffer;
  /** The index entry (platform, annotations) when part of an index. */
  indexEntry?: Descriptor;
}

export interface PushPlan {
  what: string;
  images: PlannedImage[];
  /** Set when the source is an index: pushed last, by the destination tag. */
  index?: { json: Record<string, unknown>; mediaType: string; originalBytes: Buffer };
}

export async function planPush(source: string, o: PlanOptions): Promise<PushPlan> {
  let path = source;
  let ref = o.image;
  const st0 = await stat(path).catch(() => undefined);
  if (!st0) {
    // `layout:ref`, as skopeo's oci: transport writes it. The ref may hold colons itself (podman
    // save and skopeo name entries `localhost:5000/app:1.0`), so the path ends at the first colon
    // after which a file or directory exists, as skopeo splits at the first one.
    let colon = source.indexOf(':', 1);
    while (colon > 0 && !(await stat(source.slice(0, colon)).catch(() => undefined))) colon = source.indexOf(':', colon + 1);
    if (colon < 0) throw new UsageError(`${source}: no such file or directory`);
    path = source.slice(0, colon);
    ref ??= source.slice(colon + 1);
  }
  const st = (await stat(path))!;
  if (o.artifactType) return planArtifact(path, st.isDirectory(), o);
  if (st.isDirectory()) {
    const isLayout = await stat(join(path, 'oci-layout')).then(() => true, () => false);
    if (!isLayout) throw new UsageError(`${path} is a directory without an oci-layout file; to push its files as an OCI artifact, pass --artifact-type TYPE`);
    return planLayout(await OciLayoutReader.openDir(path), ref, o, path);
  }
  let archive: DockerArchive;
  try {
    archive = await DockerArchive.open(path, { gunzipTo: join(o.tmpDir, 'archive.tar') });
  } catch (err) {
    if (/it is an OCI layout/.test((err as Error).message)) {
      return planLayout(await OciLayoutReader.openTar(path, { gunzipTo: join(o.tmpDir, 'layout.tar') }), ref, o, path);
    }
    throw new UsageError(`${path}: not a docker save archive or OCI layout (${(err as Error).message}); to push a file as an OCI artifact, pass --artifact-type TYPE`);
  }
  return planDockerArchive(archive, ref, o, path);
}

const bufferBlob = (bytes: Buffer, digest: string) => ({ key: digest, digest, size: bytes.length, open: () => Readable.from([bytes]) });

async function planDockerArchive(archive: DockerArchive, which: string | undefined, o: PlanOptions, path: string): Promise<PushPlan> {
  const pick = which === undefined ? undefined : /^#\d+$/.test(which) ? Number(which.slice(1)) : which;
  let image;
  try {
    image = await archive.image(pick);
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (choose with --image NAME:TAG or --image '#N')`);
  }
  const to: Compression = o.compress ?? 'gzip';
  const format = o.format ?? (to === 'zstd' ? 'oci' : 'docker');
  const mediaType = layerMediaType(to, format);
  const level = o.compressionLevel;
  const layers: PlannedLayer[] = image.layers.map((l, i) => ({
    template: { mediaType },
    blob:
      to === 'none'
        ? { key: l.diffId, digest: l.diffId, open: () => image.openLayer(i) }
        : {
            key: `${l.diffId}|${to}${level ?? ''}`,
            diffId: l.diffId,
            compression: `${to}${level ?? ''}`,
            label: l.diffId,
            inputSize: l.size,
            open: (onInput) => compress(tap(image.openLayer(i), onInput), to, level),
          },
  }));
  const configType = format === 'docker' ? ConfigMedia.docker : ConfigMedia.oci;
  const manifestMediaType = format === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest;
  return {
    what: `${path}${image.repoTags.length ? ` (${image.repoTags.join(', ')})` : ''}`,
    images: [
      {
        config: { bytes: image.configBytes, mediaType: configType },
        layers,
        manifest: { schemaVersion: 2, mediaType: manifestMediaType },
        manifestMediaType,
      },
    ],
  };
}

async function planLayout(layout: OciLayoutReader, ref: string | undefined, o: PlanOptions, path: string): Promise<PushPlan> {
  let target;
  try {
    target = await layout.read(ref);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}${ref === undefined ? ' (choose with --image REF or PATH:REF)' : ''}`);
  }
  const what = `${path}${ref ? `:${ref}` : ''}`;
  if (target.kind === 'image') return { what, images: [planLayoutImage(target.image, o)] };
  const json = JSON.parse(target.indexBytes.toString('utf8')) as { manifests?: Descriptor[] };
  const children = json.manifests ?? [];
  const others = children.filter((m) => manifestKinds[m.mediaType] !== 'image');
  if (others.length) throw new UsageError(`${what}: the index lists ${others.length} entries that are not image manifests (${others[0]!.mediaType}); berth push handles indexes of images`);
  return {
    what,
    images: target.images.map((img) => ({ ...planLayoutImage(img, o), indexEntry: children.find((c) => c.digest === img.descriptor.digest) })),
    index: { json: json as Record<string, unknown>, mediaType: target.descriptor.mediaType, originalBytes: target.indexBytes },
  };
}

function planLayoutImage(img: LayoutImage, o: PlanOptions): PlannedImage {
  const manifestMediaType = img.descriptor.mediaType;
  const isDocker = manifestMediaType === MediaType.dockerManifest;
  const diffIds = (JSON.parse(img.configBytes.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? [];
  const layers: PlannedLayer[] = img.manifest.layers.map((l, i) => {
    const has = compressionOf(l.mediaType);
    const to = o.compress;
    if (!to || has === 'unknown' || has === to) return { template: { ...l }, blob: { key: l.digest, digest: l.digest, size: l.size, open: () => img.openLayer(i) } };
    const diffId = diffIds[i];
    return {
      template: { ...l, mediaType: layerMediaType(to, isDocker ? 'docker' : 'oci') },
      blob: {
        key: `${diffId ?? l.digest}|${to}${o.compressionLevel ?? ''}`,
        diffId,
        compression: diffId ? `${to}${o.compressionLevel ?? ''}` : undefined,
        label: l.digest,
        inputSize: l.size,
        open: (onInput) => recompress(tap(img.openLayer(i), onInput), l.mediaType, to, o.compressionLevel),
      },
    };
  });
  return {
    config: { bytes: img.configBytes, mediaType: img.manifest.config.mediaType },
    layers,
    manifest: JSON.parse(img.manifestBytes.toString('utf8')) as Record<string, unknown>,
    manifestMediaType,
    originalBytes: img.manifestBytes,
  };
}

const EMPTY = Buffer.from('{}');
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

/** Files as an OCI artifact (image-spec 1.1 "artifact" guidance): empty config, one layer per file titled by its path. */
async function planArtifact(path: string, isDir: boolean, o: PlanOptions): Promise<PushPlan> {
  const files = isDir ? await walk(path) : [path];
  const layers: PlannedLayer[] = [];
  for (const f of files) {
    const { digest, size } = await hashFile(f);
    const title = isDir ? relative(path, f).split(sep).join(posix.sep) : f.split(sep).pop()!;
    layers.push({
      template: { mediaType: o.fileType ?? 'application/octet-stream', annotations: { 'org.opencontainers.image.title': title } },
      blob: { key: digest, digest, size, open: () => createReadStream(f, { highWaterMark: 1 << 20 }) },
    });
  }
  if (!layers.length) {
    layers.push({ template: { mediaType: MediaType.ociEmpty }, blob: bufferBlob(EMPTY, EMPTY_DIGEST) });
  }
  const manifest: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: o.artifactType };
  if (o.annotations && Object.keys(o.annotations).length) manifest.annotations = o.annotations;
  return {
    what: `${path} (${files.length} file${files.length === 1 ? '' : 's'} as ${o.artifactType})`,
    images: [{ config: { bytes: EMPTY, mediaType: MediaType.ociEmpty }, layers, manifest, manifestMediaType: MediaType.ociManifest }],
  };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

async function hashFile(f: string): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(f, { highWaterMark: 1 << 20 })) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}

/** Reports the bytes read from `source` (progress of a layer compressed on the fly). */
function tap(source: Readable, onData?: (bytes: number) => void): Readable {
  if (onData) source.on('data', (c: Buffer) => onData(c.length));
  return source;
}

export { bufferBlob };
