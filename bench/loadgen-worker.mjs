// One thread of bench/loadgen.ts: keep-alive HTTP/1.1 connections over raw sockets, one request in
// flight per connection, latency histogram in 10 us bins. Plain JS so worker threads need no loader.
// Exists because wrk 4.1 cannot do HEAD (it waits for a body of Content-Length bytes).
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const { host, port, path, method, headers, connections, durationMs } = workerData;
const BIN_US = 10;
const BINS = 1_000_000; // up to 10 s
const hist = new Uint32Array(BINS);
const request = Buffer.from(
  `${method} ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`,
  'latin1',
);
const noBody = method === 'HEAD';
const stats = { count: 0, non2xx: 0, errors: 0, statuses: {} };
const start = performance.now();
const end = start + durationMs;
let open = 0;
let finished = false;
const sockets = new Set();

function record(status, t0) {
  const us = (performance.now() - t0) * 1000;
  hist[Math.min(BINS - 1, Math.floor(us / BIN_US))]++;
  stats.count++;
  if (status < 200 || status >= 400) {
    stats.non2xx++;
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
  }
}

function conn() {
  open++;
  const sock = connect(port, host);
  sockets.add(sock);
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let bodyLeft = -1; // -1: reading headers
  let status = 0;
  let t0 = 0;
  const send = () => {
    t0 = performance.now();
    sock.write(request);
  };
  sock.on('connect', send);
  sock.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (bodyLeft < 0) {
        const idx = buf.indexOf('\r\n\r\n');
        if (idx < 0) return;
        const head = buf.toString('latin1', 0, idx);
        status = Number(head.slice(9, 12));
        if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
          stats.errors++;
          sock.destroy();
          return;
        }
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        bodyLeft = noBody || status === 204 || status === 304 ? 0 : m ? Number(m[1]) : 0;
        buf = buf.subarray(idx + 4);
      }
      if (buf.length < bodyLeft) {
        bodyLeft -= buf.length;
        buf = Buffer.alloc(0);
        return;
      }
      buf = buf.subarray(bodyLeft);
      bodyLeft = -1;
      record(status, t0);
      if (performance.now() < end) send();
      else {
        sock.end();
        return;
      }
    }
  });
  sock.on('error', () => {
    stats.errors++;
  });
  sock.on('close', () => {
    sockets.delete(sock);
    open--;
    if (performance.now() < end) conn();
    else if (open === 0) finish();
  });
}

function finish() {
  if (finished) return;
  finished = true;
  parentPort.postMessage({ ...stats, elapsedMs: performance.now() - start, hist, binUs: BIN_US }, [hist.buffer]);
}

for (let i = 0; i < connections; i++) conn();
// A server that stops answering must not hang the run: give up on open requests 5 s after the end.
setTimeout(() => {
  stats.errors += sockets.size;
  for (const s of sockets) s.destroy();
  finish();
}, durationMs + 5000).unref();
