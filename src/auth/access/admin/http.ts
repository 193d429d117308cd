// The admin API's HTTP plumbing: JSON bodies (bounded, application/json only), zod validation
// into 400s, and the error envelope {errors:[{code,message}]} with its status codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

export type ApiErrorCode = 'UNAUTHORIZED' | 'DENIED' | 'NOT_FOUND' | 'INVALID' | 'CONFLICT' | 'METHOD_NOT_ALLOWED' | 'UNSUPPORTED_MEDIA_TYPE' | 'TOO_LARGE' | 'UNAVAILABLE' | 'INTERNAL';

const STATUS: Record<ApiErrorCode, number> = {
  UNAUTHORIZED: 401,
  DENIED: 403,
  NOT_FOUND: 404,
  INVALID: 400,
  CONFLICT: 409,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

export const denied = (message = 'not allowed'): ApiError => new ApiError('DENIED', message);
export const notFound = (what: string): ApiError => new ApiError('NOT_FOUND', `${what} not found`);

/** Admin requests are small; anything bigger is not one. */
const MAX_BODY = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = status === 204 ? undefined : Buffer.from(JSON.stringify(value));
  res.statusCode = status;
  // Responses may carry a secret shown once (a new token): never cached anywhere.
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body) {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', body.length);
  }
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

export function sendApiError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, { errors: [{ code: err.code, message: err.message }] }, err.headers);
}

/**
 * The request body as JSON. Requiring application/json also keeps cross-site HTML forms out (they
 * cannot send that type without a CORS preflight), a cheap guard for cookie-based UIs.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new ApiError('TOO_LARGE', `request body larger than ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError('TOO_LARGE', `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError('INVALID', 'request body is not valid JSON');
  }
}

/** Validates with zod; the 400 names each offending field and why, never echoing the values. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 10).map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
  throw new ApiError('INVALID', issues.join('; '));
}

/**
 * One JSON API request: its body and query validated with zod, and the answer. The admin API's
 * contexts (access control here, the lifecycle's in src/lifecycle/http) add who asks and what
 * they may do.
 */
export class JsonApiRequest {
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly url: URL,
    readonly params: Record<string, string>,
  ) {}

  async body<S extends z.ZodType>(schema: S): Promise<z.output<S>> {
    return validate(schema, await readJson(this.req));
  }

  query<S extends z.ZodType>(schema: S): z.output<S> {
    return validate(schema, Object.fromEntries(this.url.searchParams));
  }

  send(status: number, value: unknown): void {
    sendJson(this.res, status, value);
  }
}
