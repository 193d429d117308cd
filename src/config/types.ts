// The typed configuration the rest of berth codes against. Keys mirror distribution's
// config.yml; durations are converted to milliseconds (the `...Ms` names).

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
    filesystem: { rootdirectory: string };
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
  berth: {
    /** sqlite.path undefined => the server uses <rootdirectory>/berth.sqlite */
    metadata: { driver: 'sqlite'; sqlite: { path?: string } };
    /** Minimum length of a non-final upload chunk; 0 = no minimum. */
    upload: { chunkMinLength: number };
  };
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
