// In-process registry for HTTP tests: real server on 127.0.0.1:<random>, real stores in a temp dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { defaultConfig, type BerthConfig } from '../../src/config/index.ts';
import { startRegistry, type RunningRegistry } from '../../src/http/server.ts';

export interface TestRegistry extends RunningRegistry {
  root: string;
  stop(): Promise<void>;
}

/** `log`: where the registry logs (silent by default), for tests that check what it says. */
export async function startTestRegistry(adjust: (c: BerthConfig) => void = () => {}, log: Logger = pino({ level: 'silent' })): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'berth-http-'));
  const config = defaultConfig();
  config.http.addr = '127.0.0.1:0';
  config.storage.filesystem.rootdirectory = root;
  config.storage.delete.enabled = true;
  config.log.accesslog.disabled = true;
  adjust(config);
  const registry = await startRegistry(config, log);
  return {
    ...registry,
    root,
    async stop() {
      await registry.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A stream for a pino logger that parses what it gets: one object per JSON line, in `lines`. */
export function jsonLineSink(): { lines: Array<Record<string, unknown>>; sink: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, sink };
}

/** fetch() wants ArrayBuffer-backed bytes; Node's Buffer type is wider. */
export function body(b: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b);
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function randomBlob(size = 1024): { data: Buffer; digest: string } {
  const data = randomBytes(size);
  return { data, digest: sha256(data) };
}

/** Monolithic single-request upload: POST ?digest=. */
export async function pushBlob(base: string, name: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const res = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: body(data),
  });
  if (res.status !== 201) throw new Error(`pushBlob: ${res.status} ${await res.text()}`);
  return digest;
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** Pushes a config and one layer, then an OCI image manifest referring to them. */
export async function pushImage(
  base: string,
  name: string,
  tag: string,
  opts: { mediaType?: string; subject?: { mediaType: string; digest: string; size: number }; artifactType?: string; layerBytes?: number } = {},
): Promise<{ digest: string; bytes: Buffer; size: number; config: string; layer: string }> {
  const mediaType = opts.mediaType ?? OCI_MANIFEST;
  const docker = mediaType === DOCKER_MANIFEST;
  const configData = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, nonce: randomBytes(8).toString('hex') }));
  const layerData = randomBytes(opts.layerBytes ?? 512);
  const config = await pushBlob(base, name, configData);
  const layer = await pushBlob(base, name, layerData);
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', digest: config, size: configData.length },
    layers: [{ mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: layerData.length }],
  };
  if (opts.subject) manifest.subject = opts.subject;
  if (opts.artifactType) manifest.artifactType = opts.artifactType;
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const res = await putManifest(base, name, tag, bytes, mediaType);
  if (res.status !== 201) throw new Error(`pushImage: ${res.status} ${await res.text()}`);
  return { digest: sha256(bytes), bytes, size: bytes.length, config, layer };
}

export function putManifest(base: string, name: string, reference: string, bytes: Buffer, mediaType: string): Promise<Response> {
  return fetch(`${base}/v2/${name}/manifests/${reference}`, { method: 'PUT', headers: { 'Content-Type': mediaType }, body: body(bytes) });
}

export async function errorCodes(res: Response): Promise<string[]> {
  const body = (await res.json()) as { errors: Array<{ code: string }> };
  return body.errors.map((e) => e.code);
}
