// Reads `docker save` tarballs (plain or gzipped), both the legacy layout (<id>/layer.tar,
// <hex>.json) and docker 25+'s (an OCI layout in the tar; manifest.json points into blobs/sha256/).
import type { Readable } from 'node:stream';
import { digestOf } from '../oci/digest.ts';
import { MediaType } from '../oci/media-types.ts';
import { autoGunzip, gzipWithDigest, verifying, type DigestResult } from './digesting.ts';
import { ConfigMedia, LayerMedia, type Descriptor } from './media.ts';
import { TarFile } from './tar-source.ts';

/** One element of manifest.json. */
interface SaveManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

export interface ArchiveImageSummary {
  index: number;
  repoTags: string[];
}

export class DockerArchive {
  private constructor(
    readonly tar: TarFile,
    private readonly entries: SaveManifestEntry[],
  ) {}

  /** `gunzipTo`: see TarFile.open; worth it for a gzipped archive with several large layers. */
  static async open(path: string, opts: { gunzipTo?: string } = {}): Promise<DockerArchive> {
    const tar = await TarFile.open(path, opts);
    if (!tar.has('manifest.json')) {
      throw new Error(`${path}: no manifest.json: not a docker save archive${tar.has('index.json') ? ' (it is an OCI layout; use OciLayout)' : ''}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse((await tar.readEntry('manifest.json')).toString('utf8'));
    } catch (err) {
      throw new Error(`${path}: manifest.json is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0) throw new Error(`${path}: manifest.json lists no images`);
    for (const [i, e] of parsed.entries()) {
      const ok = e && typeof e.Config === 'string' && Array.isArray(e.Layers) && e.Layers.every((l: unknown) => typeof l === 'string');
      if (!ok) throw new Error(`${path}: manifest.json entry ${i} lacks Config or Layers`);
    }
    return new DockerArchive(tar, parsed as SaveManifestEntry[]);
  }

  list(): ArchiveImageSummary[] {
    return this.entries.map((e, index) => ({ index, repoTags: e.RepoTags ?? [] }));
  }

  /**
   * Picks an image by `name:tag` as in RepoTags (a bare name means `:latest`; `docker.io/library/`
   * prefixes are ignored on both sides) or by index. With no argument the archive must hold one.
   */
  async image(which?: string | number): Promise<DockerArchiveImage> {
    let idx: number;
    if (which === undefined) {
      if (this.entries.length !== 1) {
        throw new Error(`${this.tar.name}: holds ${this.entries.length} images; pick one of ${this.describe()}`);
      }
      idx = 0;
    } else if (typeof which === 'number') {
      if (!Number.isInteger(which) || which < 0 || which >= this.entries.length) {
        throw new Error(`${this.tar.name}: no image #${which} (it holds ${this.entries.length})`);
      }
      idx = which;
    } else {
      const want = canonicalTag(which);
      idx = this.entries.findIndex((e) => (e.RepoTags ?? []).some((t) => canonicalTag(t) === want));
      if (idx < 0) throw new Error(`${this.tar.name}: no image tagged ${which}; it holds ${this.describe()}`);
    }
    return DockerArchiveImage.load(this.tar, this.entries[idx]!, idx);
  }

  private describe(): string {
    return this.entries.map((e, i) => `#${i} ${(e.RepoTags ?? []).join(',') || '(untagged)'}`).join('; ');
  }
}

function canonicalTag(ref: string): string {
  let r = ref.replace(/^docker\.io\//, '').replace(/^library\//, '');
  const slash = r.lastIndexOf('/');
  if (r.indexOf(':', slash + 1) < 0 && !r.includes('@')) r += ':latest';
  return r;
}

export interface ArchiveLayer {
  /** sha256 of the uncompressed tar, from the config's rootfs.diff_ids. */
  diffId: string;
  /** Bytes of the layer entry in the archive (the uncompressed size for docker save/skopeo output). */
  size: number;
  path: string;
}

export class DockerArchiveImage {
  private constructor(
    private readonly tar: TarFile,
    readonly index: number,
    readonly repoTags: string[],
    readonly configBytes: Buffer,
    readonly configDigest: string,
    readonly layers: ArchiveLayer[],
  ) {}

  static async load(tar: TarFile, entry: SaveManifestEntry, index: number): Promise<DockerArchiveImage> {
    const configBytes = await tar.readEntry(entry.Config);
    const configDigest = digestOf(configBytes);
    // The config file name is its digest in both layouts; a mismatch means a damaged archive.
    const hexInName = /([a-f0-9]{64})(?:\.json)?$/.exec(entry.Config)?.[1];
    if (hexInName && `sha256:${hexInName}` !== configDigest) {
      throw new Error(`${tar.name}: config ${entry.Config} has digest ${configDigest}, not the one its name says`);
    }
    let config: { rootfs?: { diff_ids?: unknown } };
    try {
      config = JSON.parse(configBytes.toString('utf8'));
    } catch (err) {
      throw new Error(`${tar.name}: config ${entry.Config} is not valid JSON: ${(err as Error).message}`);
    }
    const diffIds = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.some((d) => typeof d !== 'string')) {
      throw new Error(`${tar.name}: config ${entry.Config} has no rootfs.diff_ids`);
    }
    if (diffIds.length !== entry.Layers.length) {
      throw new Error(`${tar.name}: manifest.json lists ${entry.Layers.length} layers but the config has ${diffIds.length} diff_ids`);
    }
    const layers = entry.Layers.map((p, i) => ({ diffId: diffIds[i] as string, size: tar.resolve(p).size, path: p }));
    return new DockerArchiveImage(tar, index, entry.RepoTags ?? [], configBytes, configDigest, layers);
  }

  /**
   * The uncompressed layer tar (gunzipped if the archive stores it gzipped); errors at its end if
   * it does not hash to its diff_id.
   */
  openLayer(i: number): Readable {
    const l = this.layers[i];
    if (!l) throw new Error(`no layer #${i}`);
    return verifying(autoGunzip(this.tar.openEntry(l.path)), l.diffId, `${this.tar.name}: layer ${l.path}`);
  }

  /** The layers in order, each opened only when the consumer reaches it. */
  async *layerStreams(): AsyncGenerator<ArchiveLayer & { index: number; stream: Readable }> {
    for (let i = 0; i < this.layers.length; i++) yield { ...this.layers[i]!, index: i, stream: this.openLayer(i) };
  }

  /** Layer i gzip-compressed on the fly; `result` gives digest and size once `stream` has ended. */
  gzipLayer(i: number): { stream: Readable; result: Promise<DigestResult> } {
    return gzipWithDigest(this.openLayer(i));
  }

  configDescriptor(): Descriptor {
    return { mediaType: ConfigMedia.docker, digest: this.configDigest, size: this.configBytes.length };
  }

  /**
   * Layer descriptors for pushing the tars as they are (digest = diff_id). Only valid when the
   * archive stores plain tars, as docker save and skopeo do; for anything else use gzipLayer.
   */
  uncompressedLayerDescriptors(): Descriptor[] {
    return this.layers.map((l) => ({ mediaType: LayerMedia.dockerTar, digest: l.diffId, size: l.size }));
  }

  /**
   * Docker schema 2 manifest bytes. Without `layers`, the uncompressed ones; for gzip, pass the
   * `{digest,size}` from each gzipLayer(i).result (in order) after uploading them.
   */
  dockerManifest(gzipped?: DigestResult[]): Buffer {
    return dockerSchema2(this.configDescriptor(), gzipped
      ? gzipped.map((r) => ({ mediaType: LayerMedia.dockerGzip, digest: r.digest, size: r.size }))
      : this.uncompressedLayerDescriptors());
  }
}

export function dockerSchema2(config: Descriptor, layers: Descriptor[]): Buffer {
  const m = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: config.mediaType, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
  };
  return Buffer.from(JSON.stringify(m));
}
