// A chunked blob upload as docker and containerd do it: POST, then PATCH with Content-Range in
// fixed-size chunks (one reused buffer, keep-alive connection), then PUT ?digest= with no body.
// Run as its own process by bench/blob-throughput.ts so the harness's event loop is not in the
// way. Prints the wall time in seconds from the POST to the PUT's 201.
//   node bench/chunked-upload.mjs BASE_URL REPO FILE DIGEST CHUNK_BYTES
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const [base, repo, file, digest, chunkArg] = process.argv.slice(2);
const chunk = Number(chunkArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const fd = openSync(file, 'r');
const size = fstatSync(fd).size;
const buf = Buffer.allocUnsafe(chunk);
const t0 = performance.now();
const post = await request('POST', `${base}/v2/${repo}/blobs/uploads/`, { 'Content-Length': '0' });
if (post.statusCode !== 202) throw new Error(`POST answered ${post.statusCode}`);
let location = new URL(post.headers.location, base);
for (let offset = 0; offset < size; ) {
  const n = readSync(fd, buf, 0, Math.min(chunk, size - offset), offset);
  const res = await request('PATCH', location, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(n), 'Content-Range': `${offset}-${offset + n - 1}` }, buf.subarray(0, n));
  if (res.statusCode !== 202) throw new Error(`PATCH at ${offset} answered ${res.statusCode}`);
  location = new URL(res.headers.location, base);
  offset += n;
}
location.searchParams.set('digest', digest);
const put = await request('PUT', location, { 'Content-Length': '0' });
if (put.statusCode !== 201) throw new Error(`PUT answered ${put.statusCode}`);
closeSync(fd);
agent.destroy();
process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(4)}\n`);
