// kill -9 at awkward moments must leave no partial blob visible and no dangling tag.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';
import { OCI_MANIFEST, body as asBody, pushBlob, sha256 } from '../http/harness.ts';

/** Starts a PATCH that sends `first` bytes and then stalls, so the server can be killed mid-body. */
function stalledPatch(location: string, first: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(location, { method: 'PATCH', headers: { 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } });
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.resume();
      resolve();
    });
    req.write(first, () => setTimeout(resolve, 300));
  });
}

describe('crash safety (kill -9)', () => {
  let dir: { path: string; cleanup(): Promise<void> };
  let server: RunningServer | undefined;
  before(async () => {
    dir = await tempDir('berth-crash');
  });
  after(async () => {
    await server?.stop('SIGKILL');
    await dir.cleanup();
  });

  it('a blob upload killed mid-body leaves no blob visible and the registry consistent', async () => {
    const root = join(dir.path, 'upload');
    await server?.stop('SIGKILL');
    server = await startBerth({ root });
    const whole = randomBytes(4 * 1024 * 1024);
    const digest = sha256(whole);
    const post = await fetch(`${server.url}/v2/crash/upload/blobs/uploads/`, { method: 'POST' });
    const location = post.headers.get('location')!;
    await stalledPatch(location, whole.subarray(0, 1024 * 1024));
    await server.stop('SIGKILL');

    await server?.stop('SIGKILL');
    server = await startBerth({ root });
    const head = await fetch(`${server.url}/v2/crash/upload/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.deepEqual(await readdir(join(root, 'blobs')).catch(() => []), []);
    // The session survives the crash: its progress is what reached the disk, and it can be finished.
    const status = await fetch(location.replace(/^http:\/\/[^/]+/, server.url));
    assert.equal(status.status, 204);
    const have = Number(status.headers.get('range')!.split('-')[1]) + (status.headers.get('range') === '0-0' ? 0 : 1);
    const rest = await fetch(`${location.replace(/^http:\/\/[^/]+/, server.url)}`, {
      method: 'PATCH',
      headers: { 'Content-Range': `${have}-${whole.length - 1}` },
      body: asBody(whole.subarray(have)),
    });
    assert.equal(rest.status, 202);
    const final = location.replace(/^http:\/\/[^/]+/, server.url);
    // The Location carries the signed _state token (kept valid across the restart: the generated
    // http.secret lives in the data directory).
    const put = await fetch(`${final}${final.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
    assert.equal(put.status, 201);
    const get = await fetch(`${server.url}/v2/crash/upload/blobs/${digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), whole);
    await server.stop();
    server = undefined;
  });

  it('manifest pushes killed at random points leave every tag resolvable to intact bytes', async () => {
    const root = join(dir.path, 'manifests');
    await server?.stop('SIGKILL');
    server = await startBerth({ root });
    const configData = Buffer.from('{"os":"linux","architecture":"amd64"}');
    const config = await pushBlob(server.url, 'crash/m', configData);
    const url = server.url;
    // Hammer manifest PUTs (each a distinct manifest and tag) and kill the server in the middle.
    let stop = false;
    const pushers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configData.length }, layers: [], annotations: { n: `${w}-${i}` } }));
        try {
          await fetch(`${url}/v2/crash/m/manifests/t${w}-${i}`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: asBody(body) });
        } catch {
          return;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 700));
    await server.stop('SIGKILL');
    stop = true;
    await Promise.all(pushers);

    await server?.stop('SIGKILL');
    server = await startBerth({ root });
    const tags = ((await (await fetch(`${server.url}/v2/crash/m/tags/list`)).json()) as { tags: string[] }).tags;
    assert.ok(tags.length > 0, 'some pushes should have completed before the kill');
    for (const tag of tags) {
      const res: Response = await fetch(`${server.url}/v2/crash/m/manifests/${tag}`);
      assert.equal(res.status, 200, `tag ${tag} must resolve`);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(sha256(bytes), res.headers.get('docker-content-digest'));
      assert.equal(JSON.parse(bytes.toString()).annotations.n, tag.slice(1));
    }
    await server.stop();
    server = undefined;
  });
});

describe('graceful shutdown (SIGTERM)', () => {
  it('finishes an in-flight upload before exiting', async () => {
    const server = await startBerth();
    try {
      const data = randomBytes(2 * 1024 * 1024);
      const digest = sha256(data);
      const result = new Promise<number>((resolve, reject) => {
        const req = http.request(`${server.url}/v2/graceful/a/blobs/uploads/?digest=${digest}`, { method: 'POST', headers: { 'Content-Length': data.length } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.write(data.subarray(0, 1024 * 1024));
        // Signal while the body is still arriving, then send the rest.
        setTimeout(() => {
          process.kill(server.pid, 'SIGTERM');
          setTimeout(() => req.end(data.subarray(1024 * 1024)), 300);
        }, 200);
      });
      assert.equal(await result, 201);
    } finally {
      await server.stop();
    }
  });
});
