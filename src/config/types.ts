// The typed configuration the rest of berth codes against. Keys mirror distribution's
// config.yml; durations are converted to milliseconds (the `...Ms` names).
import type { PostgresMetadataOptions } from '../metadata/postgres-config.ts';
import type { S3StorageOptions } from '../storage/drivers/s3/options.ts';
import type { LifecycleConfig } from '../lifecycle/config-types.ts';
import type { NotificationsConfig } from '../events/config-types.ts';

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
    /** http.debug with an addr: the debug listener (/debug/health; Prometheus metrics at prometheus.path when enabled). */
    debug?: { addr: string; prometheus: { enabled: boolean; path: string } };
    /** HTTPS (src/http/listen.ts). clientcas: mutual TLS, a client certificate is required. */
    tls?: { certificate: string; key: string; clientcas?: string[]; minimumtls?: 'tls1.0' | 'tls1.1' | 'tls1.2' | 'tls1.3' };
  };
  health: { storagedriver: { enabled: boolean; intervalMs: number; threshold: number } };
  /** validation.manifests.urls, when enforced: regular expressions (as text) a foreign layer's URLs must match (allow) and must not (deny). */
  validation: { manifestURLs?: { allow: string[]; deny: string[] } };
  /** Shared cache (storage.cache.blobdescriptor: redis). */
  redis?: RedisConfig;
  /** distribution's auth section (htpasswd, token); absent = requests are not authenticated. */
  auth?: AuthConfig;
  /** distribution's notifications section with berth.notifications (src/events/); absent when neither is in the file. */
  notifications?: NotificationsConfig;
  /** distribution's proxy section: the whole registry is a pull-through cache of one upstream (src/mirror/). */
  proxy?: MirrorConfig;
  berth: {
    /** sqlite.path undefined => the server uses <rootdirectory>/berth.sqlite */
    metadata: { driver: 'sqlite' | 'postgres'; sqlite: { path?: string }; postgres?: Omit<PostgresMetadataOptions, 'onPoolError' | 'ssl'> };
    /** Minimum length of a non-final upload chunk; 0 = no minimum. */
    upload: { chunkMinLength: number };
    /** berth.mirrors: pull-through caches under their prefixes (src/mirror/); absent when there are none. */
    mirrors?: MirrorConfig[];
    auth: BerthAuthConfig;
    /** berth.gc, berth.retention, berth.immutabletags, berth.quotas (src/lifecycle/). */
    lifecycle: LifecycleConfig;
    /** The web console (src/console/). */
    ui: {
      enabled: boolean;
      sessionTtlMs: number;
      sessionIdleMs: number;
      /**
       * When the console's cookies carry Secure: 'auto' over TLS to berth itself; 'forwarded' also
       * when the request says X-Forwarded-Proto: https (berth only reachable through a trusted
       * TLS-terminating proxy, which sets that header); 'always' on every answer.
       */
      secureCookies: 'auto' | 'forwarded' | 'always';
    };
    /** Content trust (src/trust/). */
    trust: TrustConfig;
  };
}

/** One upstream of the pull-through cache: the proxy section, or an entry of berth.mirrors. */
export interface MirrorConfig {
  /** Where it was configured ('proxy', 'berth.mirrors.0'), for messages. */
  key: string;
  /** Repository names starting with this are mirrored ('dockerhub/'); '' for the proxy section (every name). */
  prefix: string;
  /** scheme://host[:port] of the upstream. */
  remoteUrl: string;
  host: string;
  /** The upstream speaks plain HTTP. */
  insecure: boolean;
  username?: string;
  password?: string;
  /** How long a cached tag is served before the upstream is asked again (a HEAD). */
  ttlMs: number;
  /** The registry host containerd names in `?ns=` (hosts.toml mirrors), lower case. */
  ns?: string;
  /** Docker Hub: a one-segment name is library/<name> there. */
  dockerHub: boolean;
}

export interface TrustConfig {
  /** The key that encrypts the Notary server's private keys at rest (unless BERTH_TRUST_PASSPHRASE is set); undefined = <rootdirectory>/trust/server.key. */
  keyfile?: string;
  /** Extra host[:port] names of this registry, for GUNs such as `registry.example.com/team/app` (besides http.host's and the request's Host). */
  hostnames: string[];
  /** berth.trust.policies: the server-side pull policy (src/trust/policy/); absent when there are none. */
  policies?: TrustPolicyConfig[];
}

export interface TrustPolicyConfig {
  /** Repository globs, as in the lifecycle rules (src/lifecycle/globs.ts). */
  repositories: string[];
  /** What must vouch for a manifest: a cosign signature, a GPG simple signature, Notary trust data, or any of them. */
  require: 'any' | 'notary' | 'gpg' | 'cosign';
  /** Files with trusted keys: PEM public keys (cosign; Notary pins) or GPG public keys (`gpg --export`). */
  keys: string[];
  /** The Notary roles whose targets count (default targets and targets/releases). */
  notaryRoles: string[];
}

export interface AuthConfig {
  htpasswd?: { realm: string; path: string };
  /** service and issuer default to "berth" when berth's own token service is on. */
  token?: {
    realm?: string;
    service: string;
    issuer: string;
    rootcertbundle?: string;
    jwks?: string;
    autoredirect: boolean;
    autoredirectpath?: string;
    signingalgorithms?: string[];
  };
}

export interface BerthAuthConfig {
  /** berth's own token service (/auth/token); key undefined = generated under <rootdirectory>/auth/. */
  tokenservice: { enabled: boolean; key?: string; certificate?: string; algorithm: 'ES256' | 'RS256'; expirationMs: number; refreshExpirationMs: number };
  bruteforce: { maxFailures: number; lockoutMs: number; trustForwardedFor: boolean };
  /** Role-based access from the metadata store; off = any authenticated user may do everything (registry:2). */
  accessControl: { enabled: boolean; admins: string[] };
  /** berth.auth.ldap: users (and their groups) from an LDAP directory or Active Directory (src/auth/ldap/). */
  ldap?: LdapConfig;
}

export interface LdapConfig {
  /** ldap:// or ldaps:// URLs, tried in order when one cannot be reached (e.g. several domain controllers). */
  urls: string[];
  /** Service account for the searches; undefined = anonymous searches. */
  bindDn?: string;
  bindPassword?: string;
  baseDn: string;
  /** RFC 4515 filter with {username} (escaped), e.g. (&(objectClass=person)(uid={username})). */
  userFilter: string;
  /** Attribute whose value becomes berth's user name (the directory's spelling, e.g. uid or sAMAccountName). */
  usernameAttribute: string;
  displayNameAttribute: string;
  emailAttribute: string;
  /** Attribute of the user entry listing group DNs (memberOf); '' = none. */
  groupAttribute: string;
  /** Group search ({dn} = user DN, {username} = user name); undefined = groups from groupAttribute only. */
  groupFilter?: string;
  groupBaseDn: string;
  /** Group DNs or common names whose members are site administrators. */
  adminGroups: string[];
  /** Group DN or common name -> berth team. */
  teamMapping: Record<string, string>;
  startTls: boolean;
  caFile?: string;
  insecureSkipVerify: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
  /** How long a successful login is reused without asking the directory; 0 = never. */
  cacheTtlMs: number;
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
