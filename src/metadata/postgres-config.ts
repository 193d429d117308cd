// Options of the PostgreSQL metadata store, turned into a pg Pool config, plus the redaction that
// keeps the password out of every message we build: connection errors are logged, and a URL or a
// driver message echoed into a log must not leak the credential.
import type { ConnectionOptions } from 'node:tls';
import type { PoolConfig } from 'pg';

export interface PostgresMetadataOptions {
  /** postgres://user:password@host:port/database?sslmode=...; or give the fields below instead. */
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  /** Also accepted with a `url` that carries no password (e.g. the password comes from a secret). */
  password?: string;
  database?: string;
  /** Maximum connections of this process's pool; default 10. */
  poolSize?: number;
  /** Schema for berth's tables (created when missing); default: the role's search_path. */
  schema?: string;
  /** TLS to the server: true, or Node TLS options (ca, cert, rejectUnauthorized, ...). */
  ssl?: boolean | ConnectionOptions;
  /** Server-side cap on one statement, lock waits included; default 30 s. 0 disables. */
  statementTimeoutMs?: number;
  /** Cap on opening a connection and on waiting for a free one in the pool; default 10 s. */
  connectTimeoutMs?: number;
  /** A session idle inside a transaction this long is ended, releasing its row locks; default 60 s. */
  idleInTransactionTimeoutMs?: number;
  /** Errors of idle pooled connections (server restart, network); they are otherwise dropped. */
  onPoolError?: (err: Error) => void;
}

const DISCRETE = ['host', 'port', 'user', 'database'] as const;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The pieces of configuration needed by openPostgresMetadata, validated. */
export interface ResolvedPostgresConfig {
  pool: PoolConfig;
  schema?: string;
  /** user@host:port/database, never with the password: for messages. */
  target: string;
  /** Strings to scrub from any message: the password, raw and URL-encoded. */
  secrets: string[];
}

export function resolvePostgresConfig(o: PostgresMetadataOptions): ResolvedPostgresConfig {
  if (o.schema !== undefined && !SCHEMA_NAME.test(o.schema)) {
    throw new Error('PostgreSQL metadata: schema must be a plain identifier (letters, digits, _)');
  }
  const base: PoolConfig = {
    max: o.poolSize ?? 10,
    ssl: o.ssl,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000,
    statement_timeout: o.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: o.idleInTransactionTimeoutMs ?? 60_000,
    idleTimeoutMillis: 30_000,
    application_name: 'berth',
  };
  if (o.url === undefined) {
    const pool = { ...base, host: o.host, port: o.port, user: o.user, password: o.password, database: o.database };
    const target = `${o.user ?? ''}@${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? o.user ?? ''}`;
    return { pool, schema: o.schema, target, secrets: secretsOf(o.password) };
  }
  const given = DISCRETE.filter((k) => o[k] !== undefined);
  if (given.length) throw new Error(`PostgreSQL metadata: give either url or ${given.join('/')}, not both`);
  let parsed: URL;
  try {
    parsed = new URL(o.url);
  } catch {
    // Not the URL itself, nor the TypeError (its `input` property holds the URL).
    throw new Error('PostgreSQL metadata: url is not a valid postgres:// URL');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error('PostgreSQL metadata: url must start with postgres:// or postgresql://');
  }
  const urlPassword = decodeURIComponent(parsed.password);
  // pg's URL parser overwrites a separate password with the URL's (even an absent one), so a
  // secret given beside a password-less URL is written into the URL instead.
  if (o.password !== undefined && !urlPassword) parsed.password = encodeURIComponent(o.password);
  const password = urlPassword || o.password;
  const target = `${decodeURIComponent(parsed.username)}@${parsed.host || 'localhost'}${parsed.pathname}`;
  return { pool: { ...base, connectionString: parsed.href }, schema: o.schema, target, secrets: secretsOf(password) };
}

function secretsOf(password: string | undefined): string[] {
  if (!password) return [];
  return [...new Set([password, encodeURIComponent(password)])].sort((a, b) => b.length - a.length);
}

/** The message with every occurrence of a secret replaced by ***. */
export function redact(message: string, secrets: string[]): string {
  let out = message;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
