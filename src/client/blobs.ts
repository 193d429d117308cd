// Blob operations: HEAD/GET (redirects to object storage followed, optional Range resume) and the
// upload protocol: monolithic POST?digest= for small blobs, else POST + PATCH chunks + PUT.
import { Readable } from 'node:stream';
import type { RegistryClient } from './client.ts';
import { header } from './transport.ts';

export const MONOLITHIC_MAX = 1 << 20;
const CHUNK = 8 << 20;

export async function headBlob(c: RegistryClient, repo: string, digest: string): Promise<number | undefined> {
  const res = await c.request(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD', scope: `repository:${repo}:pull`, ok: [200, 404] });
  return res.status === 404 ? undefined : Number(header(res.headers, 'content-length') ?? 0);
}

export async function getBlob(c: RegistryClient, repo: string, digest: string): Promise<Buffer> {
  return (await c.request(`/v2/${repo}/blobs/${digest}`, { scope: `repository:${repo}:pull` })).body;
}

/** A stream of the blob from byte `offset` (to resume a broken download); 206 expected when offset > 0. */
export async function streamBlob(c: RegistryClient, repo: string, digest: string, offset = 0): Promise<Readable> {
  const res = await c.request(`/v2/${repo}/blobs/${digest}`, {
    scope: `repository:${repo}:pull`,
    headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    stream: true,
  });
  if (offset > 0 && res.status !== 206) {
    res.stream.resume();
    throw new Error(`${c.host}: the registry does not support ranged blob reads (answered ${res.status})`);
  }
  return res.stream;
}

const push = (repo: string) => `repository:${repo}:pull,push`;

function locationUrl(base: string, res: { headers: Record<string, unknown> }): URL {
  const loc = header(res.headers as never, 'location');
  if (!loc) throw new Error('upload answer without a Location header');
  return new URL(loc, base);
}

/** Uploads `data` unless the repository already has it. Returns the digest. */
export async function uploadBlob(c: RegistryClient, repo: string, digest: string, data: Buffer): Promise<string> {
  if ((await headBlob(c, repo, digest)) !== undefined) return digest;
  if (data.length <= MONOLITHIC_MAX) {
    const res = await c.request(`/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, {
      method: 'POST',
      scope: push(repo),
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
      ok: [201, 202],
    });
    // 202: the registry ignored the monolithic form and opened a session; finish it normally.
    if (res.status === 201) return digest;
    return finishChunked(c, repo, digest, data, locationUrl(c.base, res));
  }
  const res = await c.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST', scope: push(repo), body: Buffer.alloc(0), ok: [202] });
  return finishChunked(c, repo, digest, data, locationUrl(c.base, res));
}

async function finishChunked(c: RegistryClient, repo: string, digest: string, data: Buffer, loc: URL): Promise<string> {
  for (let off = 0; off < data.length; off += CHUNK) {
    const chunk = data.subarray(off, off + CHUNK);
    const res = await c.request(loc.toString(), {
      method: 'PATCH',
      scope: push(repo),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${off}-${off + chunk.length - 1}` },
      body: chunk,
      ok: [202],
    });
    loc = locationUrl(loc.toString(), res);
  }
  loc.searchParams.set('digest', digest);
  await c.request(loc.toString(), { method: 'PUT', scope: push(repo), body: Buffer.alloc(0), ok: [201] });
  return digest;
}

/** Cross-repository mount; true when mounted (201), false when the registry opened an upload instead. */
export async function mountBlob(c: RegistryClient, repo: string, digest: string, from: string): Promise<boolean> {
  const res = await c.request(`/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, {
    method: 'POST',
    scope: `${push(repo)} repository:${from}:pull`,
    body: Buffer.alloc(0),
    ok: [201, 202],
  });
  if (res.status === 202) {
    // Not mountable: cancel the session the registry opened so it does not linger until purged.
    await c.request(locationUrl(c.base, res).toString(), { method: 'DELETE', scope: push(repo), ok: [200, 202, 204, 404, 405] }).catch(() => undefined);
    return false;
  }
  return true;
}

/**
 * Uploads a stream of unknown length without buffering it: POST opens the session (and, with
 * Bearer auth, caches the push token, since a streamed body cannot be replayed after a 401),
 * one streamed PATCH carries the bytes, PUT ?digest= commits them.
 */
export async function uploadBlobStream(
  c: RegistryClient,
  repo: string,
  digest: string,
  data: Readable,
  opts: { size?: number; skipHead?: boolean } = {},
): Promise<string> {
  if (!opts.skipHead && (await headBlob(c, repo, digest)) !== undefined) {
    data.resume();
    return digest;
  }
  const opened = await c.request(`/v2/${repo}/blobs/uploads/`, { method: 'POST', scope: push(repo), body: Buffer.alloc(0), ok: [202] });
  const res = await c.request(locationUrl(c.base, opened).toString(), {
    method: 'PATCH',
    scope: push(repo),
    // A known length spares both sides chunked encoding (the registry can also refuse a wrong size early).
    headers: { 'Content-Type': 'application/octet-stream', ...(opts.size ? { 'Content-Length': String(opts.size) } : {}) },
    body: data,
    ok: [202],
  });
  const loc = locationUrl(c.base, res);
  loc.searchParams.set('digest', digest);
  await c.request(loc.toString(), { method: 'PUT', scope: push(repo), body: Buffer.alloc(0), ok: [201] });
  return digest;
}
