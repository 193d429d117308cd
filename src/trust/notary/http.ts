// The Notary server's HTTP API on the registry's own origin, so `docker trust` finds it without
// DOCKER_CONTENT_TRUST_SERVER:
//   GET    /_notary_server/health                          200 {}
//   POST   /v2/<gun>/_trust/tuf/                          multipart update (push)
//   GET    /v2/<gun>/_trust/tuf/<role>.json               current version (pull)
//   GET    /v2/<gun>/_trust/tuf/<role>.<sha256 hex>.json  by checksum (pull)
//   GET    /v2/<gun>/_trust/tuf/<N>.<role>.json           by version (pull)
//   GET    /v2/<gun>/_trust/tuf/{timestamp,snapshot}.key  the server's public key (push)
//   POST   /v2/<gun>/_trust/tuf/{timestamp,snapshot}.key  rotate it (delete, or `*` in a token)
//   DELETE /v2/<gun>/_trust/tuf/                          delete the GUN's trust data (delete)
// Anything else under _trust is 404 METADATA_NOT_FOUND. Every success is 200: the notary client
// reads anything else as a failure. Repository names cannot contain a `_trust` component (a
// component never starts with `_`), so these paths never shadow a registry route; the check is a
// string search on the path, the only cost to ordinary /v2 requests.
import type { IncomingMessage, ServerResponse } from 'node:http';
import busboy from 'busboy';
import type { Logger } from 'pino';
import type { AuthMiddleware } from '../../http/auth-middleware.ts';
import { send, sendJSON } from '../../http/respond.ts';
import { isValidName } from '../../oci/reference.ts';
import type { ScopeGrant } from '../../auth/types.ts';
import { NotaryError } from './errors.ts';
import { requestHost, type GunMapper } from './gun.ts';
import { isValidRole } from './metadata.ts';
import type { NotaryService } from './service.ts';
import type { NotaryRecord } from '../../metadata/notary/notary-store.ts';

const TRUST = '/_trust/';
/** Bounds on an update: Notary's clients send a handful of files of a few KiB to a few MiB. */
const MAX_FILE = 16 * 1024 * 1024;
const MAX_UPDATE = 64 * 1024 * 1024;
const MAX_GUN = 400;
const GUN = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

export interface NotaryHttpDeps {
  service: NotaryService;
  /** Absent when the registry does not authenticate. */
  auth?: AuthMiddleware;
  gun: GunMapper;
  log: Logger;
}

type Handler = () => Promise<void>;

export class NotaryHttp {
  constructor(private readonly d: NotaryHttpDeps) {}

  /** Serves the request when it is one of the Notary API's; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse, _url: URL, pathname: string): Promise<boolean> {
    if (pathname === '/_notary_server/health') {
      sendJSON(res, 200, {});
      return true;
    }
    if (!pathname.startsWith('/v2/')) return false;
    const at = pathname.indexOf(TRUST);
    if (at < 0) return false;
    try {
      await this.route(req, res, pathname.slice(4, at), pathname.slice(at + TRUST.length));
    } catch (e) {
      if (!(e instanceof NotaryError)) throw e;
      if (e.status >= 500) this.d.log.error({ err: e, path: pathname }, 'notary request failed');
      sendJSON(res, e.status, e.toJSON());
    }
    return true;
  }

  private async route(req: IncomingMessage, res: ServerResponse, gun: string, rest: string): Promise<void> {
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? '');
    const handler = rest.startsWith('tuf/') ? this.handlerFor(req, res, gun, method, rest.slice(4)) : undefined;
    if (!handler) throw new NotaryError('METADATA_NOT_FOUND');
    if (gun.length > MAX_GUN || !GUN.test(gun) || gun.includes('//') || gun.endsWith('/')) throw new NotaryError('INVALID_GUN');
    const repository = this.d.gun(gun, requestHost(req.headers));
    // A GUN naming another host is not this registry's to keep.
    if (repository === undefined && !isValidName(gun)) {
      throw new NotaryError('INVALID_GUN', undefined, `${gun} names neither a repository of this registry nor one of its host names (see berth.trust.hostnames)`);
    }
    await handler.authorize(repository ?? gun);
    await handler.run();
  }

  private handlerFor(req: IncomingMessage, res: ServerResponse, gun: string, method: string, path: string): { authorize(repository: string): Promise<void>; run: Handler } | undefined {
    const s = this.d.service;
    const need = (...actions: ScopeGrant['actions']) => async (repository: string) => {
      if (this.d.auth) await this.d.auth.authorizeScopes(req, [{ type: 'repository', name: gun, actions }], (name) => (name === gun ? repository : (this.d.gun(name, requestHost(req.headers)) ?? name)));
    };
    if (path === '') {
      if (method === 'POST') return { authorize: need('pull', 'push'), run: async () => (await s.update(gun, await readUpdate(req)), ok(res)) };
      if (method === 'DELETE') return { authorize: need('delete'), run: async () => (await s.delete(gun), ok(res)) };
      return undefined;
    }
    const key = /^(timestamp|snapshot)\.key$/.exec(path);
    if (key) {
      const role = key[1] as 'timestamp' | 'snapshot';
      if (method === 'GET') return { authorize: need('pull', 'push'), run: async () => sendJSON(res, 200, await s.publicKey(gun, role), NO_CACHE) };
      if (method === 'POST') return { authorize: need('delete'), run: async () => sendJSON(res, 200, await s.rotateKey(gun, role), NO_CACHE) };
      return undefined;
    }
    if (method !== 'GET' || !path.endsWith('.json')) return undefined;
    const name = path.slice(0, -5);
    const byVersion = /^([1-9][0-9]{0,9})\.(.+)$/.exec(name);
    const byChecksum = /^(.+)\.([0-9a-f]{64})$/.exec(name);
    let lookup: () => Promise<NotaryRecord | undefined>;
    let immutable = true;
    if (byVersion && isValidRole(byVersion[2]!)) lookup = () => s.byVersion(gun, byVersion[2]!, Number(byVersion[1]));
    else if (byChecksum && isValidRole(byChecksum[1]!)) lookup = () => s.byChecksum(gun, byChecksum[1]!, byChecksum[2]!);
    else if (isValidRole(name)) {
      lookup = () => s.current(gun, name);
      immutable = false;
    } else return undefined;
    return {
      authorize: need('pull'),
      run: async () => {
        const record = await lookup();
        if (!record) throw new NotaryError('METADATA_NOT_FOUND');
        send(res, 200, { 'Content-Type': 'application/json', 'Last-Modified': record.createdAt.toUTCString(), ...(immutable ? { 'Cache-Control': 'public, max-age=31536000, immutable' } : NO_CACHE) }, record.data);
      },
    };
  }
}

const NO_CACHE = { 'Cache-Control': 'no-cache, no-store, must-revalidate' };

function ok(res: ServerResponse): void {
  send(res, 200, NO_CACHE);
}

/** The files of a multipart update, by role (the part's file name, `.json` optional; `/` kept). */
export function readUpdate(req: IncomingMessage): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, preservePath: true, limits: { fileSize: MAX_FILE, files: 256, fields: 16, parts: 300 } });
    } catch {
      reject(new NotaryError('MALFORMED_UPLOAD'));
      return;
    }
    const files = new Map<string, Buffer>();
    let total = 0;
    let failed: NotaryError | undefined;
    const fail = (e: NotaryError) => {
      failed ??= e;
    };
    bb.on('file', (_field, stream, info) => {
      const role = (info.filename ?? '').replace(/\.json$/, '');
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => {
        total += c.length;
        if (total > MAX_UPDATE) fail(new NotaryError('MALFORMED_UPLOAD', undefined, 'update too large'));
        else if (!failed) chunks.push(c);
      });
      stream.on('limit', () => fail(new NotaryError('MALFORMED_UPLOAD', undefined, `${role}: file too large`)));
      stream.on('end', () => {
        if (role === '') fail(new NotaryError('NO_FILENAME'));
        else if (!isValidRole(role)) fail(new NotaryError('INVALID_ROLE', undefined, `invalid role: ${role.slice(0, 100)}`));
        else files.set(role, Buffer.concat(chunks));
      });
    });
    // A part without a file name is not a metadata file.
    bb.on('field', () => fail(new NotaryError('NO_FILENAME')));
    bb.on('error', () => reject(failed ?? new NotaryError('MALFORMED_UPLOAD')));
    bb.on('close', () => (failed ? reject(failed) : resolve(files)));
    req.on('error', reject);
    req.pipe(bb);
  });
}
