// The chunked upload's reference servers: just enough of the upload protocol for
// bench/chunked-upload.mjs (POST, PATCH, PUT ?digest=), storing nothing. What they bound is what
// the client and this machine allow, whatever a registry does:
//   discard   reads each body and throws it away: the client's own ceiling (its reads, its sends,
//             the round trip of every PATCH);
//   hash      also hashes every byte with node:crypto as it arrives, on the event loop, and answers
//             PUT 400 when the digest differs: the ceiling of a server whose only work is hashing.
// Run as its own process by bench/blob-throughput.ts so the harness's event loop is not in the
// way. Prints its port on the first line of stdout, then serves until killed.
//   node bench/chunked-sink.mjs discard|hash
import { createHash } from 'node:crypto';
import http from 'node:http';

const mode = process.argv[2];
if (mode !== 'discard' && mode !== 'hash') throw new Error('usage: chunked-sink.mjs discard|hash');

/** One hash per upload id; an upload's requests arrive one after another on one connection. */
const hashes = new Map();
let next = 0;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sink');
  const answer = (status, headers = {}) => {
    res.writeHead(status, { 'Content-Length': '0', ...headers });
    res.end();
  };
  if (req.method === 'POST') {
    const id = String(++next);
    hashes.set(id, createHash('sha256'));
    req.resume();
    return req.on('end', () => answer(202, { Location: `/v2/sink/blobs/uploads/${id}` }));
  }
  const id = url.pathname.split('/').pop() ?? '';
  const hash = hashes.get(id);
  if (!hash || (req.method !== 'PATCH' && req.method !== 'PUT')) {
    req.resume();
    return req.on('end', () => answer(404));
  }
  if (mode === 'hash') req.on('data', (chunk) => hash.update(chunk));
  else req.resume();
  req.on('end', () => {
    if (req.method === 'PATCH') return answer(202, { Location: `/v2/sink/blobs/uploads/${id}` });
    hashes.delete(id);
    const digest = url.searchParams.get('digest');
    if (mode === 'hash' && digest !== `sha256:${hash.digest('hex')}`) return answer(400);
    answer(201, digest ? { 'Docker-Content-Digest': digest } : {});
  });
});

server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
