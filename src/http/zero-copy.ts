// Zero-copy blob bodies: hands a file range to the kernel with sendfile(2) (native/sendfile),
// the way registry:2 (Go's net/http) and nginx serve files. Only for plain HTTP/1.1 sockets:
// TLS and HTTP/2 frame the bytes in user space, so they take the streaming path.
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nativeAddon } from '../native/addon.ts';

// A client that reads nothing for this long loses its connection (as a stalled stream would).
const IDLE_TIMEOUT_MS = 5 * 60_000;

// BERTH_SENDFILE=0 forces the streaming path (benchmarks, troubleshooting).
const addon = process.env.BERTH_SENDFILE === '0' ? undefined : nativeAddon();

/** Whether blob bodies go out through sendfile(2) in this process (for logs and tests). */
export const zeroCopyAvailable = addon !== undefined;

function socketFd(req: IncomingMessage): number | undefined {
  const socket = req.socket as typeof req.socket & { encrypted?: boolean; _handle?: { fd?: number } };
  if (req.httpVersionMajor !== 1 || socket.encrypted || socket.destroyed) return undefined;
  const fd = socket._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * True when sendFileBody() can serve this request without copying through user space. The
 * response must own the connection: a pipelined request (sent before the previous response on the
 * connection finished, as a keep-alive client may once it has the previous body's last byte) gets
 * its socket only when that response ends, and until then Node buffers what it writes. Such a
 * response takes the streaming path, which Node queues correctly.
 */
function canSendFile(req: IncomingMessage, res: ServerResponse): boolean {
  return addon !== undefined && socketFd(req) !== undefined && res.socket === req.socket;
}

/**
 * canSendFile(), after waiting for a queued response to get its socket. A keep-alive client that
 * has the previous body's last byte sends its next request at once, often before this process has
 * ended that response (the end runs after sendfile's completion reaches the event loop), so under
 * load most blob GETs arrive queued. Node hands the socket over as soon as the previous response
 * ends; streaming instead would read the blob through user space (64 concurrent pulls held over
 * 100 MiB of read buffers that way).
 */
export async function whenCanSendFile(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (addon === undefined || socketFd(req) === undefined) return false;
  if (!res.socket) {
    const socket = req.socket;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('socket', done);
        socket.off('close', done);
        resolve();
      };
      res.once('socket', done);
      socket.once('close', done);
    });
  }
  return canSendFile(req, res);
}

const EMPTY = Buffer.alloc(0);

/**
 * Writes the response head (status and headers already set on `res`), then `length` bytes of
 * `file` from `offset` straight from the page cache to the socket. If the transfer fails midway
 * the connection is destroyed: the client sees a short body, never a wrong one.
 */
export async function sendFileBody(req: IncomingMessage, res: ServerResponse, file: FileHandle, offset: number, length: number): Promise<void> {
  const fd = socketFd(req);
  if (!addon || fd === undefined) throw new Error('zero-copy send is not available for this request');
  res.flushHeaders();
  const socket = res.socket;
  if (!socket) return;
  // The head must be in the kernel before the body: sendfile writes behind Node's back. 'drain'
  // would not do: it fires only after a write() that returned false, and a head that merely did
  // not flush at once never emits it (a blob GET hung that way under load). Writes complete in
  // order, so an empty write's callback runs once the head is out, or with an error once the
  // socket is destroyed.
  if (socket.writableLength > 0) {
    await new Promise<void>((resolve) => socket.write(EMPTY, () => resolve()));
    if (socket.destroyed) return;
  }
  try {
    await addon.sendfile(fd, file.fd, offset, length, IDLE_TIMEOUT_MS);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  // Node has written no body bytes itself; with Content-Length set, end() adds nothing and keeps
  // the connection usable for the next request.
  res.end();
}
