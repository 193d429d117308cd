// The typed configuration the rest of berth codes against. Keys mirror distribution's
// config.yml; durations are converted to milliseconds (the `...Ms` names).
import type { PostgresMetadataOptions } from '../metadata/postgres-config.ts';
import type { S3StorageOptions } from '../storage/drivers/s3/options.ts';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface BerthConfig {
  version: string;
  log: {
    level: LogLevel;
    formatter: 'json' | 'text' | 'logstash';
    fields: Record<string, unknown>;
    accesslog: { disabled: boolean };
  };
  storage: {
    /** Where blobs live: the one driver section present (distribution allows exactly one). */
    driver: 'filesystem' | 's3';
    /** rootdirectory also holds the SQLite metadata by default, whatever the blob driver. */
    filesystem: { rootdirectory: string };
    s3?: S3StorageOptions;
    delete: { enabled: boolean };
    cache: { blobdescriptor?: 'inmemory' | 'redis' };
    maintenance: {
      uploadpurging: { enabled: boolean; ageMs: number; intervalMs: number; dryrun: boolean };
      readonly: { enabled: boolean };
    };
    redirect: { disable: boolean };
  };
  http: {
    addr: string;
    /** External base URL (scheme://host[:port]) used to build Location headers. */
    host?: string;
    prefix: string;
    secret?: string;
    relativeurls: boolean;
    headers: Record<string, string[]>;
    http2: { disabled: boolean };
    /** 0 = on shutdown, wait for in-flight requests without a limit. */
    drainTimeoutMs: number;
    /** Parsed so configs load, but not served yet (the loader warns). */
    tls?: { certificate: string; key: string; clientcas?: string[]; minimumtls?: string };
  };
  health: { storagedriver: { enabled: boolean; intervalMs: number; threshold: number } };
  /** Shared cache (storage.cache.blobdescriptor: redis). */
  redis?: RedisConfig;
  berth: {
    /** sqlite.path undefined => the server uses <rootdirectory>/berth.sqlite */
    metadata: { driver: 'sqlite' | 'postgres'; sqlite: { path?: string }; postgres?: Omit<PostgresMetadataOptions, 'onPoolError' | 'ssl'> };
    /** Minimum length of a non-final upload chunk; 0 = no minimum. */
    upload: { chunkMinLength: number };
  };
}

export interface RedisConfig {
  /** host:port */
  addr: string;
  password?: string;
  db: number;
  dialTimeoutMs: number;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  pool: { maxIdle: number; maxActive: number; idleTimeoutMs: number };
  tls: { enabled: boolean };
}

/**
 * A configuration that cannot be used. The message starts with "config: " and names the key
 * path (and the environment variable, when the value came from one). Values are never quoted
 * in messages, so secrets cannot leak into logs.
 */
export class ConfigError extends Error {
  /** Dotted key path the error is about, when there is one (e.g. "http.addr"). */
  readonly key?: string;
  constructor(message: string, key?: string) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }
}
