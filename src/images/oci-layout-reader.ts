// Reads OCI image layouts (image-layout.md): a directory, or the same tree packed in a tar
// (`docker save` 25+ output, `oci-archive:`). index.json names images by the
// org.opencontainers.image.ref.name annotation; every blob read is verified against its digest.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseDigest } from '../oci/digest.ts';
import { manifestKinds } from '../oci/media-types.ts';
import { verifying } from './digesting.ts';
import { REF_NAME, type Descriptor } from './media.ts';
import { TarFile } from './tar-source.ts';

/** Where the layout's files come from: a directory or a tar. Paths are layout-relative. */
interface LayoutFiles {
  readonly name: string;
  exists(rel: string): Promise<boolean>;
  read(rel: string): Promise<Buffer>;
  open(rel: string): Readable;
}

const MAX_JSON = 16 << 20; // manifests/configs/index: anything bigger is not metadata

export interface LayoutImage {
  descriptor: Descriptor;
  manifestBytes: Buffer;
  manifest: { mediaType?: string; config: Descriptor; layers: Descriptor[] };
  configBytes: Buffer;
  /** The layer blob as stored (compressed as its descriptor says), verified against its digest. */
  openLayer(i: number): Readable;
}

export type LayoutTarget =
  | { kind: 'image'; descriptor: Descriptor; image: LayoutImage }
  | { kind: 'index'; descriptor: Descriptor; indexBytes: Buffer; images: LayoutImage[] };

export class OciLayoutReader {
  private constructor(
    private readonly files: LayoutFiles,
    readonly index: { manifests: Descriptor[] },
  ) {}

  static async openDir(dir: string): Promise<OciLayoutReader> {
    return OciLayoutReader.init(dirFiles(dir));
  }

  /** An OCI layout packed as a tar (plain or gzipped). */
  static async openTar(path: string, opts: { gunzipTo?: string } = {}): Promise<OciLayoutReader> {
    return OciLayoutReader.init(tarFiles(await TarFile.open(path, opts)));
  }

  private static async init(files: LayoutFiles): Promise<OciLayoutReader> {
    if (!(await files.exists('oci-layout'))) throw new Error(`${files.name}: no oci-layout file: not an OCI image layout`);
    const marker = parseJson(await files.read('oci-layout'), `${files.name}: oci-layout`) as { imageLayoutVersion?: string };
    if (typeof marker.imageLayoutVersion !== 'string') throw new Error(`${files.name}: oci-layout lacks imageLayoutVersion`);
    const index = parseJson(await files.read('index.json'), `${files.name}: index.json`) as { manifests?: Descriptor[] };
    if (!Array.isArray(index.manifests)) throw new Error(`${files.name}: index.json has no manifests array`);
    return new OciLayoutReader(files, { manifests: index.manifests });
  }

  /** Ref names in index.json, in order. */
  refs(): string[] {
    return this.index.manifests.map((m) => m.annotations?.[REF_NAME]).filter((r): r is string => typeof r === 'string');
  }

  /** The index.json descriptor for `ref`; with no ref the layout must hold exactly one entry. */
  resolve(ref?: string): Descriptor {
    if (ref === undefined) {
      if (this.index.manifests.length !== 1) throw new Error(`${this.files.name}: holds ${this.index.manifests.length} entries; name a ref (${this.refs().join(', ')})`);
      return this.index.manifests[0]!;
    }
    const d = this.index.manifests.find((m) => m.annotations?.[REF_NAME] === ref);
    if (!d) throw new Error(`${this.files.name}: no ref ${JSON.stringify(ref)} in index.json (refs: ${this.refs().join(', ') || 'none'})`);
    return d;
  }

  /** The image or the index (with every image it lists) that `ref` names. */
  async read(ref?: string): Promise<LayoutTarget> {
    const descriptor = this.resolve(ref);
    const kind = manifestKinds[descriptor.mediaType];
    if (kind === 'image') return { kind, descriptor, image: await this.image(descriptor) };
    if (kind !== 'index') throw new Error(`${this.files.name}: ${ref ?? 'entry'} is ${descriptor.mediaType}, not an image or index`);
    const indexBytes = await this.readBlob(descriptor);
    const idx = parseJson(indexBytes, `index ${descriptor.digest}`) as { manifests?: Descriptor[] };
    const images: LayoutImage[] = [];
    // Only image manifests: nested indexes and unknown artifacts are carried by the index bytes.
    for (const m of idx.manifests ?? []) if (manifestKinds[m.mediaType] === 'image') images.push(await this.image(m));
    return { kind, descriptor, indexBytes, images };
  }

  async image(descriptor: Descriptor): Promise<LayoutImage> {
    const manifestBytes = await this.readBlob(descriptor);
    const manifest = parseJson(manifestBytes, `manifest ${descriptor.digest}`) as LayoutImage['manifest'];
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new Error(`manifest ${descriptor.digest} lacks config or layers`);
    const configBytes = await this.readBlob(manifest.config);
    return {
      descriptor,
      manifestBytes,
      manifest,
      configBytes,
      openLayer: (i) => {
        const l = manifest.layers[i];
        if (!l) throw new Error(`no layer #${i}`);
        return this.openBlob(l);
      },
    };
  }

  /** A small blob (manifest, config) read whole and checked against digest and size. */
  async readBlob(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<Buffer> {
    if (desc.size > MAX_JSON) throw new Error(`blob ${desc.digest} is ${desc.size} bytes: too large to read whole`);
    const chunks: Buffer[] = [];
    for await (const c of this.openBlob(desc)) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    if (buf.length !== desc.size) throw new Error(`${this.files.name}: blob ${desc.digest} is ${buf.length} bytes, descriptor says ${desc.size}`);
    return buf;
  }

  /** Streams a blob; the stream errors at its end on a digest mismatch. */
  openBlob(desc: Pick<Descriptor, 'digest'>): Readable {
    const { algorithm, hex } = parseDigest(desc.digest);
    if (algorithm !== 'sha256') throw new Error(`blob ${desc.digest}: only sha256 is verified here`);
    return verifying(this.files.open(`blobs/${algorithm}/${hex}`), desc.digest, `${this.files.name}: blob`);
  }
}

function parseJson(buf: Buffer, what: string): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function dirFiles(dir: string): LayoutFiles {
  return {
    name: dir,
    exists: async (rel) => stat(join(dir, rel)).then(() => true, () => false),
    read: (rel) => readFile(join(dir, rel)),
    open: (rel) => createReadStream(join(dir, rel), { highWaterMark: 1 << 20 }),
  };
}

function tarFiles(t: TarFile): LayoutFiles {
  return {
    name: t.name,
    exists: async (rel) => t.has(rel),
    read: (rel) => t.readEntry(rel, MAX_JSON),
    open: (rel) => t.openEntry(rel),
  };
}
