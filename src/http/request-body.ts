// Whether a request carries a body, for handlers where a body is optional (the last chunk on an
// upload's PUT). HTTP/1.1 says so in Content-Length or Transfer-Encoding; HTTP/2 has no
// Transfer-Encoding, and a body of unknown length there is DATA frames after HEADERS without
// END_STREAM (Go's and curl's HTTP/2 clients send exactly that).
import type { IncomingMessage } from 'node:http';

export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const stream = (req as IncomingMessage & { stream?: { endAfterHeaders?: boolean } }).stream;
  return stream !== undefined && !stream.endAfterHeaders;
}
