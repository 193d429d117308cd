// Turns a validated config file into BerthConfig: fills berth's defaults, converts units,
// and applies the few rules distribution applies after parsing.
import type { FileConfig } from './schema.ts';
import { ConfigError, type BerthConfig, type LogLevel, type RedisConfig, type TrustPolicyConfig } from './types.ts';
import type { Warning } from './keytree.ts';
import { buildAuth } from './auth.ts';
import { buildLdap } from './ldap.ts';
import { buildNotifications } from './notifications.ts';
import { buildDebug } from './debug.ts';
import { buildMirrors, buildProxy } from './mirrors.ts';

const H = 3_600_000;
/**
 * The background collector works at most this share of the time (src/lifecycle/pacer.ts): on the
 * server's own thread every step of a collection is time a request waits, so an hourly collection
 * may take longer rather than cost the traffic more than a few percent.
 */
const DEFAULT_GC_PACE = 0.05;

// logrus has seven levels, berth's logger four.
const LEVELS: Record<string, LogLevel> = {
  panic: 'error',
  fatal: 'error',
  error: 'error',
  warn: 'warn',
  warning: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'debug',
};

export function build(f: FileConfig, warnings: Warning[]): BerthConfig {
  const { log, storage, http, health, berth } = f;
  const purge = storage?.maintenance?.uploadpurging;
  const sd = health?.storagedriver;
  if (storage?.cache?.blobdescriptor === 'redis' && !f.redis?.addr) {
    throw new ConfigError('config: storage.cache.blobdescriptor: redis needs redis.addr', 'redis.addr');
  }
  if (storage?.s3?.v4auth === false) warnings.push({ text: 'storage.s3.v4auth: false is ignored; berth always signs with AWS Signature Version 4' });
  const { auth, berthAuth } = buildAuth(f);
  const metadataDriver = berth?.metadata?.driver ?? 'sqlite';
  const pg = berth?.metadata?.postgres;
  if (metadataDriver === 'postgres' && !pg?.url && !pg?.host) {
    throw new ConfigError('config: berth.metadata.postgres: driver postgres needs url or host', 'berth.metadata.postgres');
  }
  return {
    version: f.version ?? '0.1',
    log: {
      // As distribution: log.level wins, then the deprecated top-level loglevel, then info.
      level: LEVELS[log?.level ?? f.loglevel ?? 'info'],
      formatter: log?.formatter ?? 'json',
      fields: log?.fields ?? {},
      accesslog: { disabled: log?.accesslog?.disabled ?? false },
    },
    storage: {
      driver: storage?.s3 ? 's3' : 'filesystem',
      filesystem: { rootdirectory: storage?.filesystem?.rootdirectory ?? './data' },
      ...(storage?.s3 && { s3: s3(storage.s3) }),
      delete: { enabled: storage?.delete?.enabled ?? false },
      cache: storage?.cache?.blobdescriptor ? { blobdescriptor: storage.cache.blobdescriptor } : {},
      maintenance: {
        uploadpurging: {
          enabled: purge?.enabled ?? true,
          ageMs: purge?.age ?? 168 * H,
          intervalMs: purge?.interval ?? 24 * H,
          dryrun: purge?.dryrun ?? false,
        },
        readonly: { enabled: storage?.maintenance?.readonly?.enabled ?? false },
      },
      redirect: { disable: storage?.redirect?.disable ?? false },
    },
    http: {
      addr: http?.addr ?? ':5000',
      ...(http?.host !== undefined && { host: http.host }),
      prefix: normalizePrefix(http?.prefix),
      ...(http?.secret !== undefined && { secret: http.secret }),
      relativeurls: http?.relativeurls ?? false,
      headers: http?.headers ?? {},
      http2: { disabled: http?.http2?.disabled ?? false },
      drainTimeoutMs: http?.draintimeout ?? 0,
      ...buildDebug(http?.debug, warnings),
      ...tls(http?.tls, warnings),
    },
    health: {
      storagedriver: {
        enabled: sd?.enabled ?? false,
        // Distribution treats 0 as "use the default" for the interval, and a threshold of 0
        // as "unhealthy after the first failure".
        intervalMs: sd?.interval || 10_000,
        threshold: sd?.threshold === undefined ? 3 : Math.max(sd.threshold, 1),
      },
    },
    validation: validation(f.validation),
    ...(f.redis?.addr && { redis: redis(f.redis as FileRedis & { addr: string }) }),
    ...(auth && { auth }),
    ...((f.notifications || berth?.notifications) && { notifications: buildNotifications(f.notifications, berth?.notifications, warnings) }),
    ...(f.proxy && { proxy: buildProxy(f.proxy, warnings) }),
    berth: {
      metadata: {
        driver: metadataDriver,
        sqlite: berth?.metadata?.sqlite?.path !== undefined ? { path: berth.metadata.sqlite.path } : {},
        ...(pg && { postgres: postgres(pg) }),
      },
      upload: { chunkMinLength: berth?.upload?.chunkminlength ?? 0 },
      ...(berth?.mirrors?.length && { mirrors: buildMirrors(berth.mirrors, warnings) }),
      auth: { ...berthAuth, ...buildLdap(berth?.auth?.ldap, warnings) },
      lifecycle: lifecycle(berth),
      ui: { enabled: berth?.ui?.enabled ?? true, sessionTtlMs: berth?.ui?.sessionttl ?? 12 * H, sessionIdleMs: berth?.ui?.sessionidle ?? 2 * H, secureCookies: berth?.ui?.securecookies ?? 'auto' },
      trust: trust(berth),
    },
  };
}

/**
 * validation.manifests.urls applies when allow or deny is set and validation is on: as registry:2
 * takes it, on unless `disabled: true`, and the deprecated `enabled: true` wins over that.
 */
function validation(v: FileConfig['validation']): BerthConfig['validation'] {
  const on = v?.enabled === true || v?.disabled !== true;
  const allow = v?.manifests?.urls?.allow ?? [];
  const deny = v?.manifests?.urls?.deny ?? [];
  return on && (allow.length || deny.length) ? { manifestURLs: { allow, deny } } : {};
}

type FileBerth = NonNullable<FileConfig['berth']>;

function trust(b: FileBerth | undefined): BerthConfig['berth']['trust'] {
  const t = b?.trust;
  return {
    ...(t?.keyfile !== undefined && { keyfile: t.keyfile }),
    hostnames: (t?.hostnames ?? []).map((h) => h.toLowerCase()),
    ...(t?.policies?.length && { policies: t.policies.map((p, i) => trustPolicy(p, `berth.trust.policies.${i}`)) }),
  };
}

type FileTrustPolicy = NonNullable<NonNullable<FileBerth['trust']>['policies']>[number];

/** Notary's default roles for a policy: the targets role and docker trust's targets/releases. */
export const DEFAULT_NOTARY_ROLES = ['targets', 'targets/releases'];

function trustPolicy(p: FileTrustPolicy, key: string): TrustPolicyConfig {
  if (!p.require) throw new ConfigError(`config: ${key}.require: required: any, notary, gpg or cosign`, `${key}.require`);
  const keys = p.keys ?? [];
  if ((p.require === 'cosign' || p.require === 'gpg') && keys.length === 0) {
    throw new ConfigError(`config: ${key}.keys: required for require: ${p.require}: name at least one key file (a PEM public key or a GPG keyring)`, `${key}.keys`);
  }
  return { repositories: globsOf(p.repositories, key), require: p.require, keys, notaryRoles: p.notaryroles?.length ? p.notaryroles : [...DEFAULT_NOTARY_ROLES] };
}

/** The repository globs a lifecycle rule must name (a rule for nothing is a mistake, not a no-op). */
function globsOf(repositories: string[] | undefined, key: string): string[] {
  if (!repositories?.length) throw new ConfigError(`config: ${key}.repositories: required: name at least one repository glob (e.g. "team/**")`, `${key}.repositories`);
  return repositories;
}

function lifecycle(b: FileBerth | undefined): BerthConfig['berth']['lifecycle'] {
  const r = b?.retention;
  return {
    gc: { enabled: b?.gc?.enabled ?? true, intervalMs: b?.gc?.interval ?? H, delayMs: b?.gc?.delay ?? H, pace: b?.gc?.pace ?? DEFAULT_GC_PACE },
    retention: {
      dryrun: r?.dryrun ?? false,
      intervalMs: r?.interval ?? 24 * H,
      policies: (r?.policies ?? []).map((p, i) => ({
        repositories: globsOf(p.repositories, `berth.retention.policies.${i}`),
        deleteUntagged: p.deleteuntagged ?? false,
        deleteReferrers: p.deletereferrers ?? false,
        ...(p.keeptags && {
          keepTags: p.keeptags.map((k) =>
            dropUndefined({
              patterns: k.patterns ?? ['.*'],
              mostRecentlyPushedCount: k.mostrecentlypushedcount,
              pushedWithinMs: k.pushedwithin,
              mostRecentlyPulledCount: k.mostrecentlypulledcount,
              pulledWithinMs: k.pulledwithin,
            }),
          ),
        }),
      })),
    },
    immutableTags: (b?.immutabletags ?? []).map((t, i) => {
      if (!t.tags?.length) throw new ConfigError(`config: berth.immutabletags.${i}.tags: required: at least one tag pattern (a regular expression)`, `berth.immutabletags.${i}.tags`);
      return { repositories: globsOf(t.repositories, `berth.immutabletags.${i}`), tags: t.tags };
    }),
    quotas: (b?.quotas ?? []).map((q, i) => {
      if (q.limit === undefined) throw new ConfigError(`config: berth.quotas.${i}.limit: required`, `berth.quotas.${i}.limit`);
      return { repositories: globsOf(q.repositories, `berth.quotas.${i}`), limitBytes: q.limit };
    }),
  };
}

// Routes are matched as <prefix>v2/..., so keep exactly one slash at each end.
function normalizePrefix(p: string | undefined): string {
  if (!p) return '/';
  return p.endsWith('/') ? p : `${p}/`;
}

type FileTls = NonNullable<NonNullable<FileConfig['http']>['tls']>;

function tls(t: FileTls | undefined, warnings: Warning[]): Pick<BerthConfig['http'], 'tls'> {
  if (!t || (t.certificate === undefined && t.key === undefined)) {
    // Serving plain HTTP while the file asks for client certificates must not go unnoticed.
    if (t?.clientcas?.length) warnings.push({ text: 'http.tls.clientcas is ignored without http.tls.certificate and http.tls.key: berth serves plain HTTP and checks no client certificates', loud: true });
    return {};
  }
  if (t.certificate === undefined || t.key === undefined) {
    const missing = t.certificate === undefined ? 'certificate' : 'key';
    throw new ConfigError(`config: http.tls.${missing}: required when http.tls.${missing === 'key' ? 'certificate' : 'key'} is set`, `http.tls.${missing}`);
  }
  if (t.minimumtls === 'tls1.0' || t.minimumtls === 'tls1.1') {
    warnings.push({ text: `http.tls.minimumtls: ${t.minimumtls} is not offered: berth (OpenSSL 3) accepts TLS 1.2 and 1.3 only` });
  }
  return {
    tls: {
      certificate: t.certificate,
      key: t.key,
      ...(t.clientcas !== undefined && { clientcas: t.clientcas }),
      ...(t.minimumtls !== undefined && { minimumtls: t.minimumtls }),
    },
  };
}

type FileS3 = NonNullable<NonNullable<FileConfig['storage']>['s3']>;

function s3(o: FileS3): NonNullable<BerthConfig['storage']['s3']> {
  if (!o.bucket) throw new ConfigError('config: storage.s3.bucket: required', 'storage.s3.bucket');
  if (!o.region) throw new ConfigError('config: storage.s3.region: required', 'storage.s3.region');
  if ((o.accesskey === undefined) !== (o.secretkey === undefined)) {
    const missing = o.accesskey === undefined ? 'accesskey' : 'secretkey';
    throw new ConfigError(`config: storage.s3.${missing}: required with storage.s3.${missing === 'accesskey' ? 'secretkey' : 'accesskey'} (or leave both out to use the AWS credential chain)`, `storage.s3.${missing}`);
  }
  return dropUndefined({
    accessKey: o.accesskey,
    secretKey: o.secretkey,
    region: o.region,
    regionEndpoint: o.regionendpoint || undefined,
    bucket: o.bucket,
    rootDirectory: o.rootdirectory,
    forcePathStyle: o.forcepathstyle,
    secure: o.secure,
    skipVerify: o.skipverify,
    chunkSize: o.chunksize,
    multipartCopyChunkSize: o.multipartcopychunksize,
    multipartCopyMaxConcurrency: o.multipartcopymaxconcurrency,
    multipartCopyThresholdSize: o.multipartcopythresholdsize,
  }) as NonNullable<BerthConfig['storage']['s3']>;
}

type FileRedis = NonNullable<FileConfig['redis']>;

function redis(r: FileRedis & { addr: string }): RedisConfig {
  return {
    addr: r.addr,
    ...(r.password !== undefined && { password: r.password }),
    db: r.db ?? 0,
    // distribution's defaults are "no timeout"; berth bounds them so a dead Redis is noticed.
    dialTimeoutMs: r.dialtimeout || 2_000,
    readTimeoutMs: r.readtimeout || 2_000,
    writeTimeoutMs: r.writetimeout || 2_000,
    pool: { maxIdle: r.pool?.maxidle ?? 16, maxActive: r.pool?.maxactive ?? 64, idleTimeoutMs: r.pool?.idletimeout ?? 300_000 },
    tls: { enabled: r.tls?.enabled ?? false },
  };
}

type FilePostgres = NonNullable<NonNullable<NonNullable<FileConfig['berth']>['metadata']>['postgres']>;

function postgres(p: FilePostgres): NonNullable<BerthConfig['berth']['metadata']['postgres']> {
  return dropUndefined({
    url: p.url,
    host: p.host,
    port: p.port,
    user: p.user,
    password: p.password,
    database: p.database,
    poolSize: p.poolsize,
    schema: p.schema,
    statementTimeoutMs: p.statementtimeout,
    connectTimeoutMs: p.connecttimeout,
  });
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
