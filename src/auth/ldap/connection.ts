// One LDAP connection as promises, over ldapts, for the few operations a login needs (connect,
// StartTLS, simple bind, search). Every operation has its own deadline, the first outcome wins,
// and on a deadline the connection is dropped: a server that accepted the TCP connection but never
// answers cannot hold a login longer than berth.auth.ldap.timeout.
//
// berth opens the socket itself and hands it to ldapts (its createConnection option): ldapts
// would connect lazily inside the first operation, and a refused connection or an untrusted
// certificate would then read as a failed bind; here connecting is a step of its own, with its
// own deadline (connecttimeout) and its own message.
//
// Errors come in two kinds: LdapResultError, the server's answer to an operation (invalid
// credentials, no such object, ...), which the caller interprets; and AuthBackendError for
// everything that means "no answer" (refused, timed out, TLS failure, connection lost).
// Messages name the operation and the cause, never a password or a filter value.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Client, ResultCodeError, type Filter } from 'ldapts';
import { AuthBackendError } from '../types.ts';

export interface ConnectOptions {
  url: string;
  startTls: boolean;
  /** ca, rejectUnauthorized, ...: for ldaps:// and for StartTLS. */
  tls: ConnectionOptions;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** An LDAP result code other than success, e.g. 49 invalidCredentials, 32 noSuchObject. */
export class LdapResultError extends Error {
  constructor(
    readonly code: number,
    readonly ldapName: string,
    operation: string,
  ) {
    super(`LDAP ${operation}: ${ldapName} (result code ${code})`);
    this.name = 'LdapResultError';
  }
}

export interface LdapEntry {
  dn: string;
  /** Attribute values by lower-cased attribute name. */
  attributes: Map<string, string[]>;
}

export interface SearchResult {
  entries: LdapEntry[];
  /** The server stopped at the size limit: there were more entries than asked for. */
  truncated: boolean;
}

/** A result code from the server becomes LdapResultError; anything else means "no answer". */
function classify(e: unknown, operation: string): Error {
  if (e instanceof ResultCodeError) return new LdapResultError(e.code, e.name, operation);
  return backendError(operation, e);
}

function backendError(operation: string, e: unknown): AuthBackendError {
  const err = e as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof err?.code === 'string' ? `${err.code}: ` : '';
  const message = typeof err?.message === 'string' && err.message ? err.message : String(err?.name ?? 'error');
  return new AuthBackendError(`LDAP ${operation} failed: ${code}${message.slice(0, 200)}`);
}

export class LdapConnection {
  private closed = false;

  private constructor(
    private readonly client: Client,
    /** The TCP (or ldaps:// TLS) socket: destroying it ends the connection whatever state ldapts is in. */
    private readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {}

  /** Connects (and upgrades with StartTLS when asked); throws AuthBackendError. */
  static async open(o: ConnectOptions): Promise<LdapConnection> {
    const url = new URL(o.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const secure = url.protocol === 'ldaps:';
    const port = url.port ? Number(url.port) : secure ? 636 : 389;
    // SNI must not carry an IP address; certificate checks use `host` either way.
    const tls: ConnectionOptions = { minVersion: 'TLSv1.2', ...o.tls, host, ...(isIP(host) === 0 && { servername: host }) };
    let socket: Socket;
    try {
      socket = secure ? tlsConnect({ ...tls, port }) : netConnect({ host, port });
    } catch (e) {
      throw backendError('connect', e);
    }
    // Until ldapts takes the socket over (and after, between its listeners), an 'error' without a
    // listener would crash the process; the operations learn about failures on their own.
    socket.on('error', () => undefined);
    try {
      await deadline('connect', o.connectTimeoutMs, () => socket.destroy(), new Promise<void>((resolve, reject) => {
        socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
        socket.once('error', (e) => reject(backendError('connect', e)));
        socket.once('close', () => reject(backendError('connect', new Error('connection closed'))));
      }));
    } catch (e) {
      socket.destroy();
      throw e;
    }
    // ldapts reconnects by itself when the connection was lost; a login must not go on over a
    // second, unauthenticated connection, so the socket is handed over once, and only while open.
    let handedOver = false;
    const handOver = () => {
      if (handedOver || socket.readyState !== 'open') throw new Error('connection to the directory lost');
      handedOver = true;
      return socket;
    };
    // No tlsOptions for ldapts: on an ldap:// URL they would make it speak TLS from the start.
    const client = new Client({ url: o.url, ...(secure ? { createSecureConnection: () => handOver() as ReturnType<typeof tlsConnect> } : { createConnection: handOver }) });
    const conn = new LdapConnection(client, socket, o.timeoutMs);
    if (o.startTls) {
      try {
        // A copy: ldapts adds the plain socket to the options it is given.
        await conn.timed('StartTLS', o.timeoutMs, () => client.startTLS({ ...tls }));
      } catch (e) {
        conn.close();
        throw e;
      }
    }
    return conn;
  }

  /** Simple bind. Throws LdapResultError (e.g. 49 invalid credentials) or AuthBackendError. */
  bind(dn: string, password: string, operation = 'bind'): Promise<void> {
    return this.timed(operation, this.timeoutMs, () => this.client.bind(dn, password));
  }

  async search(base: string, options: { scope: 'base' | 'one' | 'sub'; filter: Filter; attributes: string[]; sizeLimit: number }, operation = 'search'): Promise<SearchResult> {
    // One more than asked for: ldapts answers a size-limited search without saying whether the
    // limit cut it short, so an entry beyond the limit is what tells.
    const result = await this.timed(operation, this.timeoutMs, () =>
      this.client.search(base, { scope: options.scope, filter: options.filter, attributes: options.attributes, sizeLimit: options.sizeLimit + 1, timeLimit: Math.max(1, Math.ceil(this.timeoutMs / 1000)) }),
    );
    // Continuation references (AD's DomainDnsZones, ...) are not followed: users live in the base.
    const entries = result.searchEntries.map(toEntry);
    return { entries: entries.slice(0, options.sizeLimit), truncated: entries.length > options.sizeLimit };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // An unbind tells the server goodbye; ldapts destroys the socket once it is written.
    this.client
      .unbind()
      .catch(() => undefined)
      .finally(() => this.socket.destroy());
  }

  /** Runs one operation with a deadline; on the deadline the connection is dropped. */
  private timed<T>(operation: string, ms: number, start: () => Promise<T>): Promise<T> {
    let running: Promise<T>;
    try {
      running = start();
    } catch (e) {
      return Promise.reject(classify(e, operation));
    }
    return deadline(
      operation,
      ms,
      () => {
        this.closed = true;
        this.socket.destroy();
      },
      running.catch((e: unknown) => {
        throw classify(e, operation);
      }),
    );
  }
}

/** `work` or AuthBackendError "timed out" after `ms`, whichever comes first; `onTimeout` then runs. */
function deadline<T>(operation: string, ms: number, onTimeout: () => void, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new AuthBackendError(`LDAP ${operation} timed out after ${ms} ms`));
      onTimeout();
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** ldapts' entry object (attribute name -> value or values) as lower-cased names to strings. */
function toEntry(entry: Record<string, unknown> & { dn: string }): LdapEntry {
  const attributes = new Map<string, string[]>();
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue;
    const values = (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
    // ldapts lists every requested attribute, with [] when the entry has none: absent here.
    if (values.length === 0) continue;
    const key = name.toLowerCase();
    attributes.set(key, [...(attributes.get(key) ?? []), ...values]);
  }
  return { dn: entry.dn, attributes };
}
