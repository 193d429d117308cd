// One thread of bench/many-clients.ts: whole-image pulls and pushes by many clients at once. Each
// client gets its own http.Agent (one keep-alive connection reused for its requests, nothing shared
// with other clients), as separate machines pulling or pushing would. Plain JS so worker threads
// need no loader.
//
// Pulled bodies are counted and dropped, never hashed: with 64 clients on a 2-core machine hashing
// every byte would make this thread, not the registry, the limit (the bench checks sha256 once, in
// an untimed verification pull). Pushed bodies are an AES-CTR keystream generated while sending,
// a megabyte at a time: incompressible, cheap (AES-NI), and never a whole blob in memory.
import { createCipheriv, createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';

const CHUNK = 1 << 20;
const ZEROS = Buffer.alloc(CHUNK);
/** A request that makes no progress for this long fails its client instead of hanging the run. */
const STALL_MS = 60_000;
/** Wall-clock milliseconds with sub-millisecond resolution, comparable across threads. */
const now = () => performance.timeOrigin + performance.now();

/** The bytes of a generated blob: the AES-128-CTR keystream under a key derived from its seed. */
function* keystream(seed, size) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  for (let left = size; left > 0; left -= CHUNK) {
    yield cipher.update(left >= CHUNK ? ZEROS : ZEROS.subarray(0, left));
  }
}

function digestOf(seed, size) {
  const h = createHash('sha256');
  for (const c of keystream(seed, size)) h.update(c);
  return `sha256:${h.digest('hex')}`;
}

/**
 * One request on the client's agent. `body` is undefined, a string, or a generated blob
 * ({ seed, size }) streamed with backpressure. Resolves with the status, headers, the number of
 * body bytes received, and the body text when `keepBody` (manifests, error messages).
 */
function request(agent, base, method, path, headers, body, keepBody) {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: base.hostname, port: base.port, method, path, headers }, (res) => {
      let bytes = 0;
      const parts = [];
      res.on('data', (c) => {
        bytes += c.length;
        if (keepBody) parts.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, text: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.setTimeout(STALL_MS, () => req.destroy(new Error(`${method} ${path}: no progress for ${STALL_MS / 1000} s`)));
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (typeof body === 'string') req.end(body);
    else {
      (async () => {
        for (const c of keystream(body.seed, body.size)) {
          // once() rejects on 'error', so a reset connection does not leave this loop waiting.
          if (!req.write(c)) await once(req, 'drain');
        }
        req.end();
      })().catch((e) => req.destroy(e));
    }
  });
}

function expect(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
}

/** A fresh client pulls repo:tag: GET /v2/, the manifest, then its config and every layer. */
async function pull(base, { repo, tag, accept }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let bytes = 0;
  try {
    expect(await request(agent, base, 'GET', '/v2/', {}, undefined, true), 200, 'GET /v2/');
    const m = await request(agent, base, 'GET', `/v2/${repo}/manifests/${tag}`, { Accept: accept }, undefined, true);
    expect(m, 200, 'GET manifest');
    bytes += m.bytes;
    const manifest = JSON.parse(m.text);
    for (const d of [manifest.config, ...manifest.layers]) {
      const r = await request(agent, base, 'GET', `/v2/${repo}/blobs/${d.digest}`, {}, undefined, false);
      expect(r, 200, `GET blob ${d.digest}`);
      if (r.bytes !== d.size) throw new Error(`GET blob ${d.digest}: ${r.bytes} of ${d.size} bytes`);
      bytes += r.bytes;
    }
  } finally {
    agent.destroy();
  }
  return bytes;
}

/**
 * A fresh client pushes one image: per blob a POST to open an upload and a monolithic PUT
 * ?digest= carrying the body (no HEAD first, so nothing is skipped), then the manifest PUT.
 */
async function push(base, { repo, tag, blobs, manifest, manifestType }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let bytes = 0;
  try {
    for (const b of blobs) {
      const post = await request(agent, base, 'POST', `/v2/${repo}/blobs/uploads/`, { 'Content-Length': '0' }, undefined, true);
      expect(post, 202, 'POST upload');
      const loc = new URL(post.headers.location, base);
      loc.searchParams.set('digest', b.digest);
      const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(b.size) };
      const put = await request(agent, base, 'PUT', loc.pathname + loc.search, headers, b.text ?? { seed: b.seed, size: b.size }, true);
      expect(put, 201, `PUT blob ${b.digest}`);
      bytes += b.size;
    }
    const headers = { 'Content-Type': manifestType, 'Content-Length': String(Buffer.byteLength(manifest)) };
    expect(await request(agent, base, 'PUT', `/v2/${repo}/manifests/${tag}`, headers, manifest, true), 201, 'PUT manifest');
    bytes += Buffer.byteLength(manifest);
  } finally {
    agent.destroy();
  }
  return bytes;
}

/** Runs one client and reports its own start and end, so a late-starting thread does not skew times. */
async function client(fn) {
  const start = now();
  try {
    const bytes = await fn();
    return { ok: true, start, end: now(), bytes };
  } catch (e) {
    return { ok: false, start, end: now(), bytes: 0, error: String(e?.message ?? e) };
  }
}

parentPort.on('message', async (job) => {
  try {
    if (job.op === 'digests') {
      parentPort.postMessage({ id: job.id, digests: job.blobs.map((b) => digestOf(b.seed, b.size)) });
      return;
    }
    const base = new URL(job.base);
    const run = job.op === 'pull' ? pull : push;
    const results = await Promise.all(job.clients.map((c) => client(() => run(base, c))));
    parentPort.postMessage({ id: job.id, results });
  } catch (e) {
    parentPort.postMessage({ id: job.id, failure: String(e?.stack ?? e) });
  }
});
