// One LDAP connection as promises, over ldapjs 3, for the few operations a login needs (connect,
// StartTLS, simple bind, search). Every operation has its own deadline (ldapjs would otherwise
// wait forever on a server that accepted the TCP connection but never answers, and queues
// requests without a limit while it is not connected); on a deadline the connection is dropped.
//
// Errors come in two kinds: LdapResultError, the server's answer to an operation (invalid
// credentials, no such object, ...), which the caller interprets; and AuthBackendError for
// everything that means "no answer" (refused, timed out, TLS failure, connection lost).
// Messages name the operation and the cause, never a password or a filter value.
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import ldap from 'ldapjs';
import { AuthBackendError } from '../types.ts';
import type { FilterNode } from './filter.ts';
import { toLdapjsFilter } from './ldapjs-filter.ts';

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

// Errors ldapjs raises itself (not results sent by the server).
const CLIENT_SIDE = new Set(['LDAPError', 'ConnectionError', 'AbandonedError', 'TimeoutError']);
const SIZE_LIMIT_EXCEEDED = 4;

// The base class of ldapjs's errors (missing from @types/ldapjs).
const LDAPError = (ldap as unknown as { LDAPError: abstract new () => Error & { code: unknown } }).LDAPError;

function classify(e: unknown, operation: string): Error {
  if (e instanceof LDAPError && !CLIENT_SIDE.has(e.name) && typeof e.code === 'number') return new LdapResultError(e.code, e.name, operation);
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
    private readonly client: ldap.Client,
    private readonly timeoutMs: number,
  ) {}

  /** Connects (and upgrades with StartTLS when asked); throws AuthBackendError. */
  static async open(o: ConnectOptions): Promise<LdapConnection> {
    const url = new URL(o.url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    // SNI must not carry an IP address; certificate checks use `host` either way.
    const tls: ConnectionOptions = { minVersion: 'TLSv1.2', ...o.tls, host, ...(isIP(host) === 0 && { servername: host }) };
    let client: ldap.Client;
    try {
      client = ldap.createClient({ url: o.url, tlsOptions: tls, connectTimeout: o.connectTimeoutMs, reconnect: false });
    } catch (e) {
      throw backendError('connect', e);
    }
    // ldapjs emits 'error' for a socket that fails at any time; unhandled, that would crash the
    // process. Pending operations learn about it through their own callbacks.
    client.on('error', () => undefined);
    const conn = new LdapConnection(client, o.timeoutMs);
    try {
      await conn.timed('connect', o.connectTimeoutMs, (done) => {
        client.once('connect', () => done(null));
        for (const event of ['connectRefused', 'connectTimeout', 'setupError', 'error']) client.once(event, (e: unknown) => done(backendError('connect', e)));
      });
      if (o.startTls) await conn.timed('StartTLS', o.timeoutMs, (done) => client.starttls(tls, [], (e) => done(e && backendError('StartTLS', e))));
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }

  /** Simple bind. Throws LdapResultError (e.g. 49 invalid credentials) or AuthBackendError. */
  bind(dn: string, password: string, operation = 'bind'): Promise<void> {
    return this.timed(operation, this.timeoutMs, (done) => this.client.bind(dn, password, (e) => done(e && classify(e, operation))));
  }

  search(base: string, options: { scope: 'base' | 'one' | 'sub'; filter: FilterNode; attributes: string[]; sizeLimit: number }, operation = 'search'): Promise<SearchResult> {
    return this.timed<SearchResult>(operation, this.timeoutMs, (done) => {
      const entries: LdapEntry[] = [];
      const opts = { scope: options.scope, filter: toLdapjsFilter(options.filter), attributes: options.attributes, sizeLimit: options.sizeLimit, timeLimit: Math.max(1, Math.ceil(this.timeoutMs / 1000)) };
      // ldapjs's types predate its own v3 filter classes.
      this.client.search(base, opts as ldap.SearchOptions, (e, res) => {
        if (e) return done(classify(e, operation));
        res.on('searchEntry', (entry: ldap.SearchEntry) => entries.push(toEntry(entry)));
        // Continuation references (AD's DomainDnsZones, ...) are not followed: users live in the base.
        res.on('searchReference', () => undefined);
        res.on('error', (err: unknown) => {
          const c = classify(err, operation);
          if (c instanceof LdapResultError && c.code === SIZE_LIMIT_EXCEEDED) done(null, { entries, truncated: true });
          else done(c);
        });
        res.on('end', () => done(null, { entries, truncated: false }));
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.client.destroy();
    } catch {
      /* already gone */
    }
  }

  /** Runs one operation with a deadline; the first outcome wins, a late one is ignored. */
  private timed<T = void>(operation: string, ms: number, start: (done: (e: Error | null, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        finish(new AuthBackendError(`LDAP ${operation} timed out after ${ms} ms`));
        this.close();
      }, ms);
      const finish = (e: Error | null, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(value as T);
      };
      try {
        start(finish);
      } catch (e) {
        finish(classify(e, operation));
      }
    });
  }
}

function toEntry(entry: ldap.SearchEntry): LdapEntry {
  const pojo = entry.pojo;
  const attributes = new Map<string, string[]>();
  for (const a of pojo.attributes) {
    const key = a.type.toLowerCase();
    attributes.set(key, [...(attributes.get(key) ?? []), ...a.values]);
  }
  return { dn: pojo.objectName, attributes };
}
