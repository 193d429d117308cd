// The shape of a CNCF Distribution (registry:2) config.yml as berth reads it, plus berth's
// own `berth:` section. Key names are distribution's (lower case, no `_`, because `_`
// separates the levels of REGISTRY_* environment variables). Every distribution key is
// listed, even the ones berth ignores, so that nothing is ever ignored silently and the
// environment overlay can map REGISTRY_* names onto this tree.
import { z } from 'zod';
import { bool, deprecated, duration, fraction, freeMap, int, oneOf, regex, section, size, str, unsupported } from './leaves.ts';
import { GoScalar } from './yaml.ts';

// ':5000', '0.0.0.0:5000', 'localhost:5000', '[::1]:5000' (what Go's net.Listen takes).
const ADDR = /^(?:\[[0-9A-Fa-f:.]+(?:%[\w.-]+)?\]|[^:[\]\s]*):(\d{1,5})$/;
const validAddr = (a: string) => {
  const m = ADDR.exec(a);
  return !!m && Number(m[1]) <= 65535;
};
const httpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
};

// logrus level names; berth logs at four levels, the loader maps the others.
const logLevel = () => oneOf(['error', 'warn', 'warning', 'info', 'debug', 'panic', 'fatal', 'trace'], true);

const UNAUTHENTICATED = 'without auth.htpasswd or auth.token, requests are not authenticated: anyone who can reach berth can push, pull and delete images';
const nonEmpty = () => str(z.string().min(1, { error: 'must not be empty' }));
const DRIVER = 'is not supported yet; berth stores blobs with storage.filesystem or storage.s3';
const MiB = 1024 * 1024;

const storage = section(
  {
    filesystem: section({ rootdirectory: str(z.string().min(1, { error: 'must not be empty' })), maxthreads: unsupported() }),
    delete: section({ enabled: bool() }),
    cache: section({
      blobdescriptor: oneOf(['inmemory', 'redis']),
      blobdescriptorsize: unsupported(),
    }),
    maintenance: section({
      uploadpurging: section({
        enabled: bool(),
        age: duration(),
        interval: duration({ positive: true }),
        dryrun: bool(),
      }),
      readonly: section({ enabled: bool() }),
    }),
    redirect: section({ disable: bool() }),
    tag: unsupported(),
    // Distribution's other storage drivers. Alone they are a ConfigError (see drivers.ts).
    // Distribution's S3 driver parameters (registry/storage/driver/s3-aws), same names and units.
    s3: section({
      accesskey: str(),
      secretkey: str(),
      region: str(z.string().min(1, { error: 'must not be empty' })),
      regionendpoint: str(),
      bucket: str(z.string().min(1, { error: 'must not be empty' })),
      rootdirectory: str(),
      forcepathstyle: bool(),
      secure: bool(),
      skipverify: bool(),
      // berth always signs with Signature Version 4; build() warns when this asks for v2.
      v4auth: bool(),
      chunksize: int(5 * MiB),
      multipartcopychunksize: int(5 * MiB),
      multipartcopymaxconcurrency: int(1),
      multipartcopythresholdsize: int(0),
      encrypt: unsupported('is not supported yet; objects are written without requesting server-side encryption'),
      keyid: unsupported('is not supported yet; objects are written without requesting server-side encryption'),
      storageclass: unsupported('is not supported yet; objects get the bucket\'s default storage class'),
      objectacl: unsupported('is not supported yet; objects get the bucket\'s default ACL'),
      useragent: unsupported(),
      usedualstack: unsupported(),
      accelerate: unsupported(),
      sessiontoken: unsupported('is not supported as a setting; give temporary credentials through AWS_SESSION_TOKEN'),
      loglevel: unsupported(),
    }),
    gcs: unsupported(DRIVER),
    azure: unsupported(DRIVER),
    swift: unsupported(DRIVER),
    oss: unsupported(DRIVER),
    inmemory: unsupported(DRIVER),
  },
  { shorthand: true },
);

const http = section({
  addr: str().refine(validAddr, { error: 'expected host:port, e.g. ":5000", "127.0.0.1:5000" or "[::1]:5000"' }),
  // Distribution allows "unix" here; berth only listens on TCP.
  net: oneOf(['tcp']),
  host: str().refine(httpUrl, { error: 'expected an absolute http(s) URL such as "https://registry.example.com"' }),
  prefix: str().refine((p) => p.startsWith('/'), { error: 'must start with "/"' }),
  secret: str(),
  relativeurls: bool(),
  draintimeout: duration(),
  // Served by src/http/listen.ts; certificate and key are reloaded when the files change.
  tls: section({
    certificate: str(),
    key: str(),
    clientcas: z.array(str()),
    // distribution's names (Go's tls.VersionTLS1x); case-sensitive there too.
    minimumtls: oneOf(['tls1.0', 'tls1.1', 'tls1.2', 'tls1.3']),
    ciphersuites: unsupported("is not supported yet; ignored: berth offers Node's default suites (TLS 1.3, and ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2)"),
    letsencrypt: unsupported('is not supported; get the certificate with an ACME client (e.g. certbot) and set http.tls.certificate and http.tls.key: berth reloads them when they are renewed', { loud: true }),
  }),
  // http.Header: name -> list of values. A single string is accepted as a one-item list.
  headers: z.record(
    z.string(),
    z.preprocess((v) => (typeof v === 'string' || v instanceof GoScalar ? [v] : v), z.array(str())),
  ),
  // distribution's debug listener (src/config/debug.ts, src/http/debug-server.ts): /debug/health and Prometheus metrics.
  debug: section({
    addr: str().refine(validAddr, { error: 'expected host:port, e.g. ":5001" or "127.0.0.1:5001"' }),
    prometheus: section({ enabled: bool(), path: str().refine((p) => p === '' || p.startsWith('/'), { error: 'must start with "/"' }) }),
  }),
  http2: section({ disabled: bool() }),
  h2c: unsupported(),
});

export const fileSchema = section({
  version: str(),
  log: section({
    level: logLevel(),
    formatter: oneOf(['json', 'text', 'logstash']),
    fields: freeMap(),
    accesslog: section({ disabled: bool() }),
    hooks: unsupported(),
    reportcaller: unsupported(),
  }),
  // Deprecated top-level form of log.level; distribution still honours it, so do we.
  loglevel: deprecated(logLevel(), 'is deprecated; use log.level'),
  storage,
  // src/auth and src/http/auth-middleware.ts. As in distribution, one type at a time (htpasswd
  // and token together only when berth's own token service issues the tokens).
  auth: section(
    {
      htpasswd: section({ realm: str(), path: nonEmpty() }),
      token: section({
        realm: str(),
        service: nonEmpty(),
        issuer: nonEmpty(),
        rootcertbundle: nonEmpty(),
        jwks: nonEmpty(),
        autoredirect: bool(),
        autoredirectpath: str(),
        signingalgorithms: z.array(str()),
      }),
      silly: unsupported(`is not supported (it accepts any credentials); ${UNAUTHENTICATED}`, { loud: true }),
    },
    { shorthand: true, unknownChild: `is not a known auth type (berth has htpasswd and token); ignored: ${UNAUTHENTICATED}`, loud: true },
  ),
  middleware: unsupported(),
  reporting: unsupported(),
  http,
  // distribution's webhooks (src/events/, src/config/notifications.ts), delivered through a durable outbox.
  notifications: section({
    events: section({ includereferences: bool() }),
    endpoints: z.array(
      section({
        name: str(),
        disabled: bool(),
        url: str().refine(httpUrl, { error: 'expected an absolute http(s) URL such as "https://hooks.example.com/registry"' }),
        // http.Header, as http.headers: a single string is a one-item list.
        headers: z.record(
          z.string(),
          z.preprocess((v) => (typeof v === 'string' || v instanceof GoScalar ? [v] : v), z.array(str())),
        ),
        timeout: duration(),
        threshold: int(0),
        backoff: duration(),
        ignoredmediatypes: z.array(str()),
        ignore: section({ mediatypes: z.array(str()), actions: z.array(str()) }),
      }),
    ),
  }),
  // Distribution's redis section (2.8): the shared cache for blob descriptors and manifests.
  redis: section({
    addr: str(z.string().min(1, { error: 'must not be empty' })),
    password: str(),
    db: int(0),
    dialtimeout: duration(),
    readtimeout: duration(),
    writetimeout: duration(),
    pool: section({ maxidle: int(0), maxactive: int(0), idletimeout: duration() }),
    tls: section({ enabled: bool() }),
  }),
  health: section({
    storagedriver: section({ enabled: bool(), interval: duration(), threshold: int(0) }),
    file: unsupported(),
    http: unsupported(),
    tcp: unsupported(),
  }),
  catalog: unsupported(),
  // distribution's pull-through cache: the whole registry mirrors one upstream and refuses pushes (src/mirror/).
  proxy: section({
    remoteurl: str().refine(httpUrl, { error: 'expected an absolute http(s) URL such as "https://registry-1.docker.io"' }),
    username: str(),
    password: str(),
    ttl: duration(),
  }),
  compatibility: unsupported(),
  // The URLs of foreign (nondistributable) layers, which clients fetch from elsewhere
  // (src/registry/layer-urls.ts). registry:2 refuses them all unless allow or deny is set; berth,
  // like zot and Harbor (which ships its registry with validation disabled), accepts them unless
  // allow or deny is set.
  validation: section({
    enabled: bool(),
    disabled: bool(),
    manifests: section({ urls: section({ allow: z.array(regex()), deny: z.array(regex()) }), indexes: unsupported() }),
  }),
  policy: unsupported(),
  // berth's own settings; distribution has no such section.
  berth: section({
    metadata: section({
      driver: oneOf(['sqlite', 'postgres']),
      sqlite: section({ path: str(z.string().min(1, { error: 'must not be empty' })) }),
      postgres: section({
        url: str(),
        host: str(),
        port: int(1),
        user: str(),
        password: str(),
        database: str(),
        poolsize: int(1),
        schema: str(),
        statementtimeout: duration(),
        connecttimeout: duration(),
      }),
    }),
    upload: section({ chunkminlength: int(0) }),
    // Notification delivery beyond distribution's (src/events/): dead letters after maxage, HMAC signatures.
    notifications: section({ maxage: duration({ positive: true }), maxbackoff: duration({ positive: true }), maxbatch: int(1), signingkey: nonEmpty() }),
    // Pull-through caches of several upstreams, each under its own prefix, beside local repositories (src/mirror/).
    mirrors: z.array(
      section({
        prefix: nonEmpty(),
        remoteurl: str().refine(httpUrl, { error: 'expected an absolute http(s) URL such as "https://registry-1.docker.io"' }),
        username: str(),
        password: str(),
        ttl: duration(),
        ns: nonEmpty(),
      }),
    ),
    // The web console (src/console/): served at /ui/ on the registry's own origin. securecookies:
    // 'auto' marks cookies Secure over TLS; 'forwarded' also when a trusted TLS-terminating proxy
    // says X-Forwarded-Proto: https; 'always' on every answer.
    ui: section({ enabled: bool(), sessionttl: duration({ positive: true }), sessionidle: duration({ positive: true }), securecookies: oneOf(['auto', 'forwarded', 'always'], true) }),
    // Lifecycle (src/lifecycle/): online garbage collection, retention, immutable tags, quotas.
    gc: section({ enabled: bool(), interval: duration({ positive: true }), delay: duration(), pace: fraction() }),
    retention: section({
      dryrun: bool(),
      interval: duration({ positive: true }),
      policies: z.array(
        section({
          repositories: z.array(nonEmpty()).min(1, { error: 'must name at least one repository glob' }),
          deleteuntagged: bool(),
          deletereferrers: bool(),
          keeptags: z.array(
            section({
              patterns: z.array(regex()),
              mostrecentlypushedcount: int(0),
              pushedwithin: duration(),
              mostrecentlypulledcount: int(0),
              pulledwithin: duration(),
            }),
          ),
        }),
      ),
    }),
    immutabletags: z.array(section({ repositories: z.array(nonEmpty()).min(1, { error: 'must name at least one repository glob' }), tags: z.array(regex()).min(1, { error: 'must name at least one tag pattern' }) })),
    quotas: z.array(section({ repositories: z.array(nonEmpty()).min(1, { error: 'must name at least one repository glob' }), limit: size() })),
    // Content trust (src/trust/): the Notary server's key file and the host names its GUNs use.
    trust: section({
      keyfile: nonEmpty(),
      hostnames: z.array(nonEmpty()),
      // The server-side pull policy (src/trust/policy/): manifests of matching repositories are
      // served only when signed by a trusted key (cosign, GPG simple signing) or Notary trust data.
      policies: z.array(
        section({
          repositories: z.array(nonEmpty()).min(1, { error: 'must name at least one repository glob' }),
          require: oneOf(['any', 'notary', 'gpg', 'cosign'], true),
          keys: z.array(nonEmpty()),
          notaryroles: z.array(str(z.string().regex(/^targets(?:\/[-a-z0-9_]+)*$/, { error: 'must be targets or a delegation role such as targets/releases' }))),
        }),
      ),
    }),
    auth: section({
      // berth's own token service at /auth/token (see src/auth/token-endpoint.ts).
      tokenservice: section({
        enabled: bool(),
        key: nonEmpty(),
        certificate: nonEmpty(),
        algorithm: oneOf(['ES256', 'RS256']),
        expiration: duration({ positive: true }),
        refreshexpiration: duration({ positive: true }),
      }),
      bruteforce: section({ maxfailures: int(1), lockout: duration({ positive: true }), trustforwardedfor: bool() }),
      // Users, teams and repository roles from the metadata store (src/auth/access) instead of
      // registry:2's "every authenticated user may do everything"; admins are site administrators.
      accesscontrol: section({ enabled: bool(), admins: z.array(str()) }),
      // LDAP / Active Directory users (src/auth/ldap/, rules in src/config/ldap.ts).
      ldap: section({
        url: z.union([nonEmpty(), z.array(nonEmpty()).min(1, { error: 'must not be empty' })]),
        binddn: str(),
        bindpassword: str(),
        basedn: nonEmpty(),
        userfilter: nonEmpty(),
        usernameattribute: nonEmpty(),
        displaynameattribute: str(),
        emailattribute: str(),
        groupattribute: str(),
        groupbasedn: nonEmpty(),
        groupfilter: nonEmpty(),
        admingroups: z.array(nonEmpty()),
        teammapping: z.record(z.string(), nonEmpty()),
        starttls: bool(),
        cafile: nonEmpty(),
        insecureskipverify: bool(),
        connecttimeout: duration({ positive: true }),
        timeout: duration({ positive: true }),
        cachettl: duration(),
      }),
    }),
  }),
});

export type FileConfig = z.output<typeof fileSchema>;
