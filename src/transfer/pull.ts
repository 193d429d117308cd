// `berth pull`: an image (or an index's platform, or every platform) from a registry to a docker
// archive or an OCI image layout, blobs in parallel, each streamed to disk and verified as written.
//
// Blobs go to a staging area first, which is what makes an interrupted pull resumable:
//   docker archive OUT:   OUT.partial/blobs/sha256/<hex>[.part], removed once OUT is written
//   OCI layout dir OUT:   OUT/blobs/sha256/<hex>[.part] (the layout itself)
//   OCI layout tar OUT:   OUT.partial/ is the layout, packed into OUT at the end, then removed
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { getManifest, manifestRef, RegistryHttpError, UsageError, type ImageRef, type RegistryClient } from '../client/index.ts';
import { isIndexType } from '../client/media.ts';
import { ConfigMedia, LayerMedia, OciLayoutWriter, REF_NAME, writeDockerArchive, type Descriptor } from '../images/index.ts';
import { digestOf } from '../oci/digest.ts';
import { isSchema1, MediaType } from '../oci/media-types.ts';
import { blobFileName, downloadBlob } from './download.ts';
import { choosePlatform, defaultPlatform, formatPlatform, listPlatforms, platformMatches, type Platform } from './platform.ts';
import { mapLimit } from '../util/map-limit.ts';
import type { Progress } from './progress.ts';

export type PullFormat = 'docker' | 'oci';

export interface PullOptions {
  client: RegistryClient;
  ref: ImageRef;
  output: string;
  format: PullFormat;
  /** Explicit --platform; the machine's platform when undefined. */
  platform?: Platform;
  allPlatforms?: boolean;
  parallel: number;
  progress: Progress;
}

export interface PullResult {
  reference: string;
  /** Digest of what was written: the chosen image manifest, or the index with --all-platforms. */
  digest: string;
  mediaType: string;
  /** When the OCI layout holds a converted docker manifest: the registry's digest and type. */
  sourceDigest?: string;
  sourceMediaType?: string;
  /** The image's platform (one image pulled). */
  platform?: string;
  /** The index the image was chosen from, when the reference named one. */
  indexDigest?: string;
  /** With --all-platforms: the platforms written. */
  platforms?: string[];
  output: string;
  format: PullFormat | 'oci-archive';
  /** Distinct layers written. */
  layers: number;
  /** Size of the distinct blobs (configs and layers, as stored in the registry). */
  bytes: number;
  /** Bytes that crossed the network for blobs in this run (less after a resume). */
  downloaded: number;
  /** What the user should know although the pull succeeded (a platform other than --platform's). */
  warnings?: string[];
}

interface ImageManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  platform?: Partial<Platform>;
}

interface IndexManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  manifests: Descriptor[];
}

export function referenceText(ref: ImageRef): string {
  return `${ref.host}/${ref.repo}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  try {
    return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error(`${what} is not JSON`);
  }
}

function asImage(m: { bytes: Buffer; mediaType: string; digest: string }, what: string, platform?: Partial<Platform>): ImageManifest {
  if (isSchema1(m.mediaType)) throw new Error(`${what} is a Docker schema 1 manifest, which berth does not pull (re-push it as schema 2 or OCI)`);
  const j = parseJson(m.bytes, what) as { config?: Descriptor; layers?: Descriptor[] };
  if (!j.config || !Array.isArray(j.layers)) throw new Error(`${what} (${m.mediaType}) is not an image manifest`);
  return { mediaType: m.mediaType, digest: m.digest, bytes: m.bytes, config: j.config, layers: j.layers, platform };
}

/** Resolves the reference to the images to write (and the index, with --all-platforms). */
async function resolve(o: PullOptions): Promise<{ images: ImageManifest[]; index?: IndexManifest; indexes: IndexManifest[]; chosenFrom?: string }> {
  const { client, ref } = o;
  const refText = referenceText(ref);
  const top = await getManifest(client, ref.repo, manifestRef(ref)).catch((e: unknown) => {
    if (e instanceof RegistryHttpError && e.status === 404) throw new Error(`${refText}: no such image (${e.message})`);
    throw e;
  });
  if (!isIndexType(top.mediaType)) {
    return { images: [asImage(top, refText)], indexes: [] };
  }
  const list = ((parseJson(top.bytes, refText) as { manifests?: Descriptor[] }).manifests ?? []) as Descriptor[];
  const topIndex: IndexManifest = { ...top, manifests: list };
  if (o.allPlatforms) {
    // Every manifest the index names (nested indexes too), so the layout is complete.
    const images: ImageManifest[] = [];
    const indexes: IndexManifest[] = [topIndex];
    const walk = async (entries: Descriptor[], depth: number): Promise<void> => {
      for (const d of entries) {
        const m = await getManifest(client, ref.repo, d.digest);
        if (isIndexType(m.mediaType)) {
          if (depth > 4) throw new Error(`${refText}: indexes nested too deep`);
          const sub = ((parseJson(m.bytes, d.digest) as { manifests?: Descriptor[] }).manifests ?? []) as Descriptor[];
          indexes.push({ ...m, manifests: sub });
          await walk(sub, depth + 1);
        } else images.push(asImage(m, `${refText} (${d.digest})`, d.platform));
      }
    };
    await walk(list, 0);
    return { images, index: topIndex, indexes };
  }
  const want = o.platform ?? defaultPlatform();
  const entry = choosePlatform(list, want);
  if (!entry) {
    const avail = listPlatforms(list);
    throw new UsageError(
      `${refText} (${top.digest}) has no image for ${formatPlatform(want)}; available: ${avail.join(', ') || 'none'}` +
        ` (choose one with --platform${o.format === 'oci' ? ', or --all-platforms' : ''})`,
    );
  }
  const m = await getManifest(client, ref.repo, entry.digest);
  if (isIndexType(m.mediaType)) throw new Error(`${refText}: the entry for ${formatPlatform(entry.platform)} is itself an index, which berth does not pull without --all-platforms`);
  return { images: [asImage(m, `${refText} (${formatPlatform(entry.platform)})`, entry.platform)], indexes: [], chosenFrom: top.digest };
}

async function kindOf(path: string): Promise<'file' | 'dir' | 'other' | undefined> {
  return stat(path).then(
    (s) => (s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other'),
    () => undefined,
  );
}

function blobDir(root: string, digest: string): string {
  return join(root, 'blobs', digest.slice(0, digest.indexOf(':')));
}

function blobPath(root: string, digest: string): string {
  return join(blobDir(root, digest), blobFileName(digest));
}

export async function pull(o: PullOptions): Promise<PullResult> {
  const { ref, output, progress } = o;
  const refText = referenceText(ref);
  const ociTar = o.format === 'oci' && /\.tar$/i.test(output);
  const existing = await kindOf(output);
  if (o.format === 'docker' || ociTar) {
    if (existing === 'dir' || existing === 'other') throw new UsageError(`${output} exists and is not a file`);
  } else if (existing === 'file' || existing === 'other') {
    throw new UsageError(`${output} exists and is not a directory (an OCI layout is written as a directory; end the name with .tar for an archive)`);
  } else if (existing === 'dir') {
    const names = await readdir(output);
    if (names.length > 0 && !names.includes('oci-layout')) throw new UsageError(`${output} is a non-empty directory that is not an OCI layout; refusing to write into it`);
  }

  const { images, index, indexes, chosenFrom } = await resolve(o);
  const image = images.length === 1 ? images[0]! : undefined;
  const written = index ?? image!;
  progress.line(`Pulling ${refText} (${written.digest})${image?.platform ? ` for ${formatPlatform(image.platform)}` : ''}`);

  // Staging: the layout itself for an OCI directory, OUT.partial/ otherwise.
  const root = o.format === 'oci' && !ociTar ? output : `${output}.partial`;
  await mkdir(dirname(output), { recursive: true });
  const writer = o.format === 'oci' ? await OciLayoutWriter.open(root) : undefined;

  const blobs = new Map<string, Descriptor>();
  for (const im of images) for (const d of [im.config, ...im.layers]) if (!blobs.has(d.digest)) blobs.set(d.digest, d);
  let downloaded = 0;
  await mapLimit([...blobs.values()], Math.max(1, o.parallel), async (d) => {
    const dir = blobDir(root, d.digest);
    await mkdir(dir, { recursive: true });
    const task = progress.blob(d.digest, d.size, 'pull');
    try {
      const r = await downloadBlob({ client: o.client, repo: ref.repo, desc: d, dir, task, note: (m) => progress.line(m) });
      downloaded += r.transferred;
      if (r.resumedFrom > 0) progress.line(`${d.digest}: resumed from byte ${r.resumedFrom}`);
      task.done(r.outcome);
    } catch (e) {
      task.fail(e as Error);
      throw e;
    }
  });

  const configOf = async (im: ImageManifest) => readFile(blobPath(root, im.config.digest));
  let platform: string | undefined;
  const warnings: string[] = [];
  if (image) {
    platform = image.platform ? formatPlatform(image.platform) : undefined;
    if (!platform) {
      try {
        const c = JSON.parse((await configOf(image)).toString('utf8')) as { os?: string; architecture?: string; variant?: string };
        platform = c.os && c.architecture ? formatPlatform(c as Platform) : undefined;
        // --platform chose nothing here (a single-platform image): say when it is another one, as
        // docker pull does; written anyway (docker too: some images label their platform wrongly).
        if (platform && o.platform && !platformMatches(o.platform, c)) {
          warnings.push(`${refText} is a single-platform image for ${platform}, not the ${formatPlatform(o.platform)} asked for with --platform`);
        }
      } catch {
        platform = undefined; // an artifact's config need not be JSON
      }
    }
  }

  let result = { digest: written.digest, mediaType: written.mediaType };
  const stored: string[] = [];
  if (o.format === 'docker') {
    progress.line(`Writing docker archive ${output}`);
    await writeDockerArchive(output, [
      {
        repoTags: ref.tag ? [`${ref.host}/${ref.repo}:${ref.tag}`] : [],
        manifest: image!.bytes,
        config: await configOf(image!),
        openLayer: (d) => createReadStream(blobPath(root, d.digest)),
      },
    ]);
    await rm(root, { recursive: true, force: true });
  } else {
    // skopeo reads only OCI media types from a layout: docker schema 2 manifests and lists are
    // converted as `skopeo copy ... oci:` does (same config and layer blobs, new manifest digest).
    const moved = new Map<string, Stored>();
    for (const im of images) {
      const st = ociImage(im);
      if (st.digest !== im.digest) moved.set(im.digest, st);
      await writer!.putBlob(st.bytes, { digest: st.digest, size: st.bytes.length });
      stored.push(st.digest);
    }
    for (const ix of [...indexes].reverse()) {
      const st = ociIndex(ix, moved);
      if (st.digest !== ix.digest) moved.set(ix.digest, st);
      await writer!.putBlob(st.bytes, { digest: st.digest, size: st.bytes.length });
      stored.push(st.digest);
    }
    const top = moved.get(written.digest) ?? written;
    result = { digest: top.digest, mediaType: top.mediaType };
    const desc: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
    if (ref.tag) await writer!.tag(ref.tag, desc);
    else await addUntagged(root, desc);
    if (ociTar) {
      progress.line(`Writing OCI archive ${output}`);
      await packLayout(root, [...new Set([...blobs.keys(), ...stored])], output);
      await rm(root, { recursive: true, force: true });
    }
  }

  const layers = new Set(images.flatMap((im) => im.layers.map((l) => l.digest)));
  return {
    reference: refText,
    digest: result.digest,
    mediaType: result.mediaType,
    ...(result.digest !== written.digest ? { sourceDigest: written.digest, sourceMediaType: written.mediaType } : {}),
    ...(platform ? { platform } : {}),
    ...(chosenFrom ? { indexDigest: chosenFrom } : {}),
    ...(index ? { platforms: images.map((im) => formatPlatform(im.platform)) } : {}),
    output,
    format: ociTar ? 'oci-archive' : o.format,
    layers: layers.size,
    bytes: [...blobs.values()].reduce((s, d) => s + d.size, 0),
    downloaded,
    ...(warnings.length ? { warnings } : {}),
  };
}

const DOCKER_TO_OCI: Record<string, string> = {
  [MediaType.dockerManifest]: MediaType.ociManifest,
  [MediaType.dockerManifestList]: MediaType.ociIndex,
  [ConfigMedia.docker]: ConfigMedia.oci,
  [LayerMedia.dockerGzip]: LayerMedia.ociGzip,
  [LayerMedia.dockerTar]: LayerMedia.ociTar,
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};
const toOci = (t: string | undefined): string | undefined => (t === undefined ? t : (DOCKER_TO_OCI[t] ?? t));

interface Stored {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

function serialize(value: unknown, mediaType: string): Stored {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, digest: digestOf(bytes), mediaType };
}

/** An image manifest with OCI media types (itself when it has them already). */
function ociImage(im: ImageManifest): Stored {
  if (im.mediaType === MediaType.ociManifest) return im;
  const j = JSON.parse(im.bytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> };
  const desc = (d: Descriptor) => ({ ...d, mediaType: toOci(d.mediaType)! });
  return serialize(
    { schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc(j.config), layers: j.layers.map(desc), ...(j.annotations ? { annotations: j.annotations } : {}) },
    MediaType.ociManifest,
  );
}

/** An index with OCI media types, pointing at the converted children (`moved`). */
function ociIndex(ix: IndexManifest, moved: Map<string, Stored>): Stored {
  if (ix.mediaType === MediaType.ociIndex && !ix.manifests.some((d) => moved.has(d.digest))) return ix;
  const j = JSON.parse(ix.bytes.toString('utf8')) as { annotations?: Record<string, string> };
  const manifests = ix.manifests.map((d) => {
    const m = moved.get(d.digest);
    return m ? { ...d, mediaType: m.mediaType, digest: m.digest, size: m.bytes.length } : { ...d, mediaType: toOci(d.mediaType)! };
  });
  return serialize({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests, ...(j.annotations ? { annotations: j.annotations } : {}) }, MediaType.ociIndex);
}

/** Adds a descriptor without a ref name to index.json (a pull by digest alone). */
async function addUntagged(root: string, desc: Descriptor): Promise<void> {
  const path = join(root, 'index.json');
  const index = JSON.parse(await readFile(path, 'utf8')) as { manifests?: Descriptor[] };
  const manifests = (index.manifests ?? []).filter((m) => !(m.digest === desc.digest && !m.annotations?.[REF_NAME]));
  manifests.push(desc);
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  await writeFile(tmp, JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, ...index, manifests }));
  await rename(tmp, path);
}

/** Packs the layout at `root` (index.json, oci-layout and the named blobs) into the tar `out`, atomically. */
async function packLayout(root: string, digests: string[], out: string): Promise<void> {
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    const pack = tar.pack();
    const done = pipeline(pack, createWriteStream(tmp));
    done.catch(() => {});
    const mtime = new Date(0);
    const addBuf = (name: string, data: Buffer) =>
      new Promise<void>((res, rej) => pack.entry({ name, size: data.length, mode: 0o644, mtime }, data, (e) => (e ? rej(e) : res())));
    await addBuf('oci-layout', await readFile(join(root, 'oci-layout')));
    await addBuf('index.json', await readFile(join(root, 'index.json')));
    const dirs = new Set<string>();
    for (const d of digests) {
      const alg = d.slice(0, d.indexOf(':'));
      for (const dir of ['blobs/', `blobs/${alg}/`]) {
        if (dirs.has(dir)) continue;
        dirs.add(dir);
        await new Promise<void>((res, rej) => pack.entry({ name: dir, type: 'directory', mode: 0o755, mtime }, (e) => (e ? rej(e) : res())));
      }
      const file = blobPath(root, d);
      const { size } = await stat(file);
      await pipeline(createReadStream(file), pack.entry({ name: `blobs/${alg}/${blobFileName(d)}`, size, mode: 0o644, mtime }));
    }
    pack.finalize();
    await done;
    await rename(tmp, out);
  } finally {
    await rm(tmp, { force: true });
  }
}
