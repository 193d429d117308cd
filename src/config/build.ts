// Turns a validated config file into BerthConfig: fills berth's defaults, converts units,
// and applies the few rules distribution applies after parsing.
import type { FileConfig } from './schema.ts';
import { ConfigError, type BerthConfig, type LogLevel } from './types.ts';
import type { Warning } from './keytree.ts';

const H = 3_600_000;

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
  if (storage?.cache?.blobdescriptor === 'redis') {
    warnings.push({ text: 'storage.cache.blobdescriptor: redis is not supported yet; blob descriptors are not cached' });
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
      filesystem: { rootdirectory: storage?.filesystem?.rootdirectory ?? './data' },
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
      ...tls(http?.tls),
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
    berth: {
      metadata: {
        driver: berth?.metadata?.driver ?? 'sqlite',
        sqlite: berth?.metadata?.sqlite?.path !== undefined ? { path: berth.metadata.sqlite.path } : {},
      },
      upload: { chunkMinLength: berth?.upload?.chunkminlength ?? 0 },
    },
  };
}

// Routes are matched as <prefix>v2/..., so keep exactly one slash at each end.
function normalizePrefix(p: string | undefined): string {
  if (!p) return '/';
  return p.endsWith('/') ? p : `${p}/`;
}

type FileTls = NonNullable<NonNullable<FileConfig['http']>['tls']>;

function tls(t: FileTls | undefined): Pick<BerthConfig['http'], 'tls'> {
  if (!t || (t.certificate === undefined && t.key === undefined)) return {};
  if (t.certificate === undefined || t.key === undefined) {
    const missing = t.certificate === undefined ? 'certificate' : 'key';
    throw new ConfigError(`config: http.tls.${missing}: required when http.tls.${missing === 'key' ? 'certificate' : 'key'} is set`, `http.tls.${missing}`);
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
