import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, defaultConfig, loadConfig, parseDuration, type BerthConfig } from '../../src/config/index.ts';
import { applyEnv } from '../../src/config/env-overlay.ts';
import { keysOf, resolve, type Warning } from '../../src/config/keytree.ts';
import { fileSchema } from '../../src/config/schema.ts';
import type { z } from 'zod';

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const load = (text: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ text, env });
const V = 'version: 0.1\n';

/** Asserts loading throws a ConfigError whose message matches every pattern. */
function rejects(text: string | undefined, patterns: RegExp[], env: NodeJS.ProcessEnv = {}): ConfigError {
  let caught: unknown;
  try {
    loadConfig({ ...(text !== undefined && { text }), env });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  for (const p of patterns) assert.match(caught.message, p);
  assert.match(caught.message, /^config: /);
  return caught;
}

const hasWarning = (warnings: string[], re: RegExp) =>
  assert.ok(warnings.some((w) => re.test(w)), `no warning matching ${re} in:\n  ${warnings.join('\n  ')}`);

describe('parseDuration (Go time.ParseDuration, in milliseconds)', () => {
  it('parses Go duration strings and takes bare numbers as nanoseconds', () => {
    const cases: Array<[string | number, number]> = [
      ['10s', 10_000],
      ['168h', 168 * 3_600_000],
      ['24h', 86_400_000],
      ['1h30m', 5_400_000],
      ['500ms', 500],
      ['2m', 120_000],
      ['1.5s', 1500],
      ['.5s', 500],
      ['300us', 0.3],
      ['300µs', 0.3],
      ['1000000ns', 1],
      ['0', 0],
      ['-1s', -1000],
      ['+1m1s', 61_000],
      // distribution's Go yaml reads a bare integer into time.Duration as nanoseconds
      [10, 0.00001],
      [1_000_000_000, 1000],
      [0, 0],
    ];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, `parseDuration(${JSON.stringify(input)})`);
    for (const bad of ['', '10', '1x', 'abc', 's', '.s', '1h 30m', '--1s', 1.5]) {
      assert.throws(() => parseDuration(bad), Error, `parseDuration(${JSON.stringify(bad)}) should throw`);
    }
  });
});

describe('rule 1: distribution config.yml files load as they are', () => {
  it('loads the documented configs, the Debian package config, upload purging and berth.yml', () => {
    // (a) seed 001
    const a = loadConfig({ path: example('seed-001.yml'), env: {} });
    assert.deepEqual(a.warnings, []);
    assert.equal(a.config.version, '0.1');
    assert.deepEqual(a.config.log.fields, { service: 'registry' });
    assert.equal(a.config.storage.cache.blobdescriptor, 'inmemory');
    assert.equal(a.config.storage.filesystem.rootdirectory, '/var/lib/registry');
    assert.equal(a.config.storage.delete.enabled, true);
    assert.equal(a.config.http.addr, ':5000');
    assert.equal(a.config.http.host, 'http://registry.example.com:5000');
    assert.deepEqual(a.config.http.headers, { 'X-Content-Type-Options': ['nosniff'] });
    assert.deepEqual(a.config.health.storagedriver, { enabled: true, intervalMs: 10_000, threshold: 3 });

    // (b) seed 003: loads, auth.htpasswd included
    const b = loadConfig({ path: example('seed-003.yml'), env: {} });
    assert.equal(b.config.log.accesslog.disabled, true);
    assert.equal(b.config.log.level, 'debug');
    assert.equal(b.config.log.formatter, 'text');
    assert.deepEqual(b.config.log.fields, { service: 'registry', environment: 'staging' });
    assert.equal(b.config.http.addr, ':443');
    assert.equal(b.config.http.host, 'https://docker.funet8.com');
    assert.equal(b.config.http.http2.disabled, false);
    assert.deepEqual(b.config.http.tls, {
      certificate: '/etc/docker/registry/ssl/docker.funet8.com.crt',
      key: '/etc/docker/registry/ssl/docker.funet8.com.key',
    });
    assert.deepEqual(b.config.auth, { htpasswd: { realm: 'basic-realm', path: '/etc/docker/registry/auth/nginx.htpasswd' } });
    assert.ok(!b.warnings.some((w) => w.startsWith('auth')), b.warnings.join('\n'));
    assert.ok(!b.warnings.some((w) => w.startsWith('http.tls')), 'http.tls is served (test/tls): no warning');

    // (c) the file Debian's docker-registry package installs, copied verbatim
    const debian = example('debian-docker-registry.yml');
    if (existsSync('/etc/docker/registry/config.yml')) {
      assert.equal(readFileSync(debian, 'utf8'), readFileSync('/etc/docker/registry/config.yml', 'utf8'));
    }
    const c = loadConfig({ path: debian, env: {} });
    assert.equal(c.config.storage.filesystem.rootdirectory, '/var/lib/docker-registry');
    assert.equal(c.config.storage.delete.enabled, true);
    assert.deepEqual(c.config.health.storagedriver, { enabled: true, intervalMs: 10_000, threshold: 3 });
    assert.deepEqual(c.warnings, []);
    assert.deepEqual(c.config.auth, { htpasswd: { realm: 'basic-realm', path: '/etc/docker/registry' } });

    // upload purging / read-only, with Go durations
    const m = loadConfig({ path: example('maintenance.yml'), env: {} });
    assert.deepEqual(m.warnings, []);
    assert.deepEqual(m.config.storage.maintenance, {
      uploadpurging: { enabled: true, ageMs: 168 * 3_600_000, intervalMs: 24 * 3_600_000, dryrun: false },
      readonly: { enabled: false },
    });
    const ro = load(`${V}storage:\n  maintenance:\n    readonly:\n      enabled: true\n    uploadpurging:\n      enabled: false\n      dryrun: true\n      age: 1h30m\n`);
    assert.equal(ro.config.storage.maintenance.readonly.enabled, true);
    assert.deepEqual(ro.config.storage.maintenance.uploadpurging, { enabled: false, ageMs: 5_400_000, intervalMs: 86_400_000, dryrun: true });

    // berth's own minimal example: no warnings at all
    const own = loadConfig({ path: example('berth.yml'), env: {} });
    assert.deepEqual(own.warnings, []);
    assert.equal(own.config.storage.filesystem.rootdirectory, './data');
    assert.equal(own.config.berth.metadata.driver, 'sqlite');
    assert.equal(own.config.berth.upload.chunkMinLength, 0);

    // other forms distribution accepts: null sections, `storage: filesystem`, quoted version,
    // YAML anchors and merge keys, other http.addr forms, draintimeout, redirect, prefix
    const misc = load(
      [
        'version: "0.1"',
        'storage: filesystem',
        'log:',
        'http:',
        '  addr: "[::1]:5000"',
        '  draintimeout: 1m',
        '  relativeurls: true',
        '  prefix: /registry',
        '  secret: s',
        'defaults: &d {enabled: true, threshold: 5}',
      ].join('\n'),
    );
    hasWarning(misc.warnings, /^unknown configuration key defaults$/);
    assert.equal(misc.config.http.addr, '[::1]:5000');
    assert.equal(misc.config.http.drainTimeoutMs, 60_000);
    assert.equal(misc.config.http.relativeurls, true);
    assert.equal(misc.config.http.prefix, '/registry/');
    assert.equal(misc.config.storage.filesystem.rootdirectory, './data');
    const merged = load(`${V}x-base: &d {enabled: true, threshold: 5}\nhealth:\n  storagedriver:\n    <<: *d\n    interval: 2s\n`);
    assert.deepEqual(merged.config.health.storagedriver, { enabled: true, intervalMs: 2000, threshold: 5 });
    for (const addr of [':5000', '0.0.0.0:5000', '127.0.0.1:0', 'localhost:8080']) {
      assert.equal(load(`${V}http:\n  addr: ${addr}\n`).config.http.addr, addr);
    }
  });
});

describe('rule 2: every known key is validated, with Go yaml typing', () => {
  it('rejects wrong types with a ConfigError naming the key path, and reads YAML as Go does', () => {
    rejects(`${V}storage:\n  delete:\n    enabled: sure\n`, [/^config: storage\.delete\.enabled: expected a boolean, got string$/]);
    rejects(`${V}http:\n  addr: {port: 5000}\n`, [/^config: http\.addr: expected a string, got map$/]);
    rejects(`${V}http:\n  addr: [":5000"]\n`, [/http\.addr: expected a string, got list/]);
    rejects(`${V}http:\n  addr: localhost\n`, [/http\.addr: expected host:port/]);
    rejects(`${V}http:\n  addr: ":99999"\n`, [/http\.addr: expected host:port/]);
    rejects(`${V}http:\n  host: registry.example.com\n`, [/http\.host: expected an absolute http\(s\) URL/]);
    rejects(`${V}http:\n  prefix: registry/\n`, [/http\.prefix: must start with "\/"/]);
    rejects(`${V}http:\n  headers:\n    X-Foo: {a: b}\n`, [/http\.headers\.X-Foo: expected a list, got map/]);
    rejects(`${V}http:\n  net: unix\n`, [/http\.net: expected "tcp", got "unix"/]);
    rejects(`${V}log:\n  level: verbose\n`, [/log\.level: expected one of .*"debug".*, got "verbose"/]);
    rejects(`${V}log:\n  formatter: xml\n`, [/log\.formatter: expected one of "json", "text", "logstash", got "xml"/]);
    rejects(`${V}log:\n  fields: [a]\n`, [/log\.fields: expected a map, got list/]);
    rejects(`${V}health:\n  storagedriver:\n    threshold: 2.5\n`, [/health\.storagedriver\.threshold: expected an integer/]);
    rejects(`${V}health:\n  storagedriver:\n    threshold: -1\n`, [/health\.storagedriver\.threshold: must be at least 0/]);
    rejects(`${V}health:\n  storagedriver:\n    interval: 10x\n`, [/health\.storagedriver\.interval: invalid duration/]);
    rejects(`${V}health:\n  storagedriver:\n    interval: [10s]\n`, [/health\.storagedriver\.interval: expected a duration/]);
    rejects(`${V}http:\n  draintimeout: -5s\n`, [/http\.draintimeout: must not be negative/]);
    rejects(`${V}storage:\n  maintenance:\n    uploadpurging:\n      interval: 0s\n`, [/storage\.maintenance\.uploadpurging\.interval: must be greater than 0/]);
    rejects(`${V}storage:\n  cache:\n    blobdescriptor: memcached\n`, [/storage\.cache\.blobdescriptor: expected one of "inmemory", "redis"/]);
    rejects(`${V}storage:\n  filesystem:\n    rootdirectory: ""\n`, [/storage\.filesystem\.rootdirectory: must not be empty/]);
    rejects(`${V}http:\n  tls:\n    certificate: /c.crt\n`, [/http\.tls\.key: required when http\.tls\.certificate is set/]);
    rejects(`${V}http:\n  tls:\n    clientcas: /ca.pem\n    certificate: a\n    key: b\n`, [/http\.tls\.clientcas: expected a list, got string/]);
    rejects(`${V}berth:\n  metadata:\n    driver: mysql\n`, [/berth\.metadata\.driver: expected one of "sqlite", "postgres", got "mysql"/]);
    rejects(`${V}berth:\n  metadata:\n    driver: postgres\n`, [/^config: berth\.metadata\.postgres: driver postgres needs url or host$/]);
    rejects(`${V}berth:\n  metadata:\n    postgres: {port: http}\n`, [/berth\.metadata\.postgres\.port: expected a number/]);
    rejects(`${V}storage:\n  s3: {bucket: b}\n`, [/^config: storage\.s3\.region: required$/]);
    rejects(`${V}storage:\n  s3: {region: r, bucket: b, accesskey: AK}\n`, [/^config: storage\.s3\.secretkey: required with storage\.s3\.accesskey/]);
    rejects(`${V}storage:\n  s3: {region: r, bucket: b, chunksize: 1024}\n`, [/storage\.s3\.chunksize: must be at least 5242880/]);
    rejects(`${V}storage:\n  cache: {blobdescriptor: redis}\n`, [/^config: storage\.cache\.blobdescriptor: redis needs redis\.addr$/]);
    rejects(`${V}redis: {addr: r:6379, dialtimeout: soon}\n`, [/redis\.dialtimeout: invalid duration/]);
    rejects(`${V}berth:\n  upload:\n    chunkminlength: lots\n`, [/berth\.upload\.chunkminlength: expected a number, got string/]);
    // Go refuses a quoted string for a bool: `"true"` is !!str
    rejects(`${V}storage:\n  delete:\n    enabled: "true"\n`, [/storage\.delete\.enabled: expected a boolean, got string/]);
    // every problem is reported, each with its key
    const e = rejects(`${V}http:\n  relativeurls: 1\nstorage:\n  delete:\n    enabled: 2\n`, [/storage\.delete\.enabled: expected a boolean, got number/, /http\.relativeurls: expected a boolean, got number/]);
    assert.equal(e.key, 'storage.delete.enabled');
    // the file is named when the config came from one
    assert.throws(() => loadConfig({ path: example('seed-001.yml'), text: `${V}log:\n  level: 3\n`, env: {} }), /log\.level \(in .*seed-001\.yml\): expected one of/);

    // The version line is required and must be 0.1, as in distribution.
    rejects('log:\n  level: info\n', [/^config: version: missing/]);
    rejects('', [/version: missing/]);
    rejects('version: 0.2\n', [/version: unsupported version "0\.2"/]);
    rejects('version: 0.10\n', [/version: unsupported version "0\.10"/]);
    rejects('- version: 0.1\n', [/expected a map of settings at the top level/]);
    rejects(`${V}http:\n  addr: :5000\n   bad: indent\n`, [/^config: invalid YAML at line \d+, column \d+/]);
    rejects(`${V}http:\n  addr: :5000\n  addr: :6000\n`, [/invalid YAML/]);
    assert.throws(() => loadConfig({ path: '/nonexistent/config.yml', env: {} }), /^Error: config: cannot read \/nonexistent\/config\.yml: ENOENT|config: cannot read/);

    // YAML 1.1 scalars, as gopkg.in/yaml.v2 reads them
    const go = load(
      [
        V,
        'storage:',
        '  delete: {enabled: yes}',
        '  redirect: {disable: On}',
        '  filesystem: {rootdirectory: 2024}',
        '  maintenance: {readonly: {enabled: True}, uploadpurging: {enabled: off}}',
        'http:',
        '  secret: 12345',
        '  addr: 0.0.0.0:5000',
        '  http2: {disabled: n}',
        'health:',
        '  storagedriver: {threshold: 010, enabled: Y}',
        'log:',
        '  level: DEBUG',
        '  fields: {norway: no, port: 5000, ratio: 0.5, date: 2024-01-02, name: reg}',
      ].join('\n'),
    );
    assert.equal(go.config.storage.delete.enabled, true);
    assert.equal(go.config.storage.redirect.disable, true);
    assert.equal(go.config.storage.filesystem.rootdirectory, '2024'); // a number read into a string field keeps its text
    assert.equal(go.config.storage.maintenance.readonly.enabled, true);
    assert.equal(go.config.storage.maintenance.uploadpurging.enabled, false);
    assert.equal(go.config.http.secret, '12345');
    assert.equal(go.config.http.http2.disabled, false);
    assert.equal(go.config.health.storagedriver.threshold, 8); // YAML 1.1 octal
    assert.equal(go.config.health.storagedriver.enabled, true);
    assert.equal(go.config.log.level, 'debug');
    assert.deepEqual(go.config.log.fields, { norway: false, port: 5000, ratio: 0.5, date: '2024-01-02', name: 'reg' });
    // logrus level names berth's logger does not have
    const level = (l: string) => load(`${V}log:\n  level: ${l}\n`).config.log.level;
    assert.deepEqual(['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace'].map(level), ['error', 'error', 'error', 'warn', 'warn', 'info', 'debug', 'debug']);
  });
});

describe('rule 3: unsupported and unknown keys are warned about, never silently ignored', () => {
  it('names every unsupported distribution key, shouts about auth, and refuses other storage drivers alone', () => {
    const { config, warnings } = load(
      [
        V,
        'loglevel: debug',
        'log:',
        '  hooks: [{type: mail}]',
        '  reportcaller: true',
        'storage:',
        '  filesystem: {rootdirectory: /srv, maxthreads: 100}',
        '  cache: {blobdescriptor: redis}',
        '  tag: {concurrencylimit: 5}',
        'auth:',
        '  token: {realm: https://auth.example.com/token, service: registry, issuer: me, rootcertbundle: /x}',
        'middleware:',
        '  registry: [{name: cloudfront}]',
        'reporting: {bugsnag: {apikey: k}}',
        'http:',
        '  debug: {addr: :5001, prometheus: {enabled: true}}',
        '  h2c: {enabled: true}',
        '  tls:',
        '    letsencrypt: {cachefile: /c, email: a@b.c}',
        '    ciphersuites: [TLS_AES_128_GCM_SHA256]',
        'notifications:',
        '  endpoints: [{name: alistener, url: https://example.com/hook}]',
        'redis: {addr: localhost:6379, password: pw}',
        'health:',
        '  file: [{file: /tmp/x}]',
        '  http: [{uri: http://x}]',
        '  tcp: [{addr: x:1}]',
        'catalog: {maxentries: 100}',
        'proxy: {remoteurl: https://registry-1.docker.io}',
        'compatibility: {schema1: {enabled: true}}',
        'validation: {disabled: true, manifests: {indexes: {images: true}}}',
        'policy: {repository: {classes: [image]}}',
        'htpp: {addr: :1}',
        'Storage: {}',
        'berth:',
        '  upload: {chunkMinLength: 5}',
        '  metadata: {sqlite: {path: /m.db, journal: wal}}',
      ].join('\n'),
    );
    // auth.token is supported: no warning, and the section is there
    assert.ok(!warnings.some((w) => w.startsWith('auth')), warnings.join('\n'));
    assert.deepEqual(config.auth, { token: { realm: 'https://auth.example.com/token', service: 'registry', issuer: 'me', rootcertbundle: '/x', autoredirect: false } });
    const expected = [
      'loglevel is deprecated',
      'log.hooks is not supported yet',
      'log.reportcaller is not supported yet',
      'storage.filesystem.maxthreads is not supported yet',
      'storage.tag is not supported yet',
      'middleware is not supported yet',
      'reporting is not supported yet',
      'http.h2c is not supported yet',
      'http.tls.letsencrypt is not supported',
      'http.tls.ciphersuites is not supported yet',
      'health.file is not supported yet',
      'health.http is not supported yet',
      'health.tcp is not supported yet',
      'catalog is not supported yet',
      'compatibility is not supported yet',
      'validation.manifests.indexes is not supported yet',
      'policy is not supported yet',
      'unknown configuration key htpp',
      'unknown configuration key Storage',
      'unknown configuration key berth.upload.chunkMinLength (keys are lower case: chunkminlength)',
      'unknown configuration key berth.metadata.sqlite.journal',
    ];
    for (const w of expected) assert.ok(warnings.some((x) => x.startsWith(w)), `missing warning "${w}" in:\n  ${warnings.join('\n  ')}`);
    assert.equal(warnings.length, expected.length);
    // the supported parts still apply; the deprecated top-level loglevel is honoured like distribution does
    assert.equal(config.log.level, 'debug');
    assert.equal(config.storage.filesystem.rootdirectory, '/srv');
    assert.equal(config.storage.cache.blobdescriptor, 'redis');
    assert.equal(config.berth.metadata.sqlite.path, '/m.db');
    assert.equal(config.http.tls, undefined); // letsencrypt only: no certificate to carry
    assert.equal(load(`${V}loglevel: debug\nlog: {level: warn}\n`).config.log.level, 'warn');

    // auth: distribution's required keys, the shorthand form, silly and types distribution does not know
    rejects(`${V}auth:\n  htpasswd: {realm: r}\n`, [/^config: auth\.htpasswd\.path: required$/]);
    rejects(`${V}auth: htpasswd\n`, [/^config: auth\.htpasswd\.realm: required$/]);
    rejects(`${V}auth:\n  token: {realm: r}\n`, [/^config: auth\.token\.service: required$/]);
    rejects(`${V}auth:\n  token: {realm: r, service: s, issuer: i}\n`, [/^config: auth\.token: rootcertbundle or jwks is required/]);
    rejects(`${V}auth:\n  token: {realm: r, service: s, issuer: i, jwks: /j, signingalgorithms: [HS256]}\n`, [/^config: auth\.token\.signingalgorithms: "HS256" is not accepted/]);
    rejects(`${V}auth:\n  htpasswd: {realm: r, path: /p}\n  token: {realm: r, service: s, issuer: i, jwks: /j}\n`, [/^config: auth: configure one of auth\.htpasswd and auth\.token/]);
    // with berth's token service, htpasswd + token go together and token needs nothing else
    const both = load(`${V}auth:\n  htpasswd: {realm: r, path: /p}\n  token: {}\nberth:\n  auth:\n    tokenservice: {enabled: true}\n`).config;
    assert.deepEqual(both.auth, { htpasswd: { realm: 'r', path: '/p' }, token: { service: 'berth', issuer: 'berth', autoredirect: false } });
    assert.equal(both.berth.auth.tokenservice.enabled, true);
    rejects(`${V}berth:\n  auth:\n    tokenservice: {enabled: true, expiration: 30s}\n`, [/^config: berth\.auth\.tokenservice\.expiration: must be at least 60s/]);
    assert.match(load(`${V}auth:\n  silly: {realm: r}\n`).warnings[0], /^auth\.silly is not supported \(it accepts any credentials\); without auth\.htpasswd or auth\.token, requests are not authenticated/);
    assert.match(load(`${V}auth: {ldap: {}}\n`).warnings[0], /^auth\.ldap is not a known auth type \(berth has htpasswd and token\); ignored: without auth\.htpasswd or auth\.token, requests are not authenticated/);

    // a storage driver berth cannot write to, on its own, is an error
    rejects(`${V}storage:\n  gcs: {bucket: b}\n  delete: {enabled: true}\n`, [/^config: storage\.gcs is not supported yet; berth stores blobs with storage\.filesystem or storage\.s3$/]);
    // as distribution: exactly one driver
    rejects(`${V}storage:\n  filesystem: {rootdirectory: /srv}\n  s3: {bucket: b, region: r}\n`, [/^config: storage: exactly one storage driver must be configured, found storage\.filesystem and storage\.s3$/]);
    rejects(`${V}storage: inmemory\n`, [/storage\.inmemory is not supported yet/]);
    rejects(`${V}storage:\n  azure: {accountname: a}\n`, [/storage\.azure is not supported yet/]);
    rejects(`${V}storage:\n  ceph: {}\n`, [/storage\.ceph is not supported yet/]);
    // ...and next to filesystem too: distribution takes exactly one driver
    for (const d of ['gcs', 'azure', 'swift', 'oss', 'inmemory', 'ceph']) {
      rejects(`${V}storage:\n  filesystem: {rootdirectory: /d}\n  ${d}: {}\n`, [new RegExp(`^config: storage: exactly one storage driver must be configured, found storage\\.filesystem and storage\\.${d}$`)]);
    }

    // durations given as bare numbers are nanoseconds, as in distribution; say so
    const ns = load(`${V}health:\n  storagedriver:\n    interval: 10\n`);
    hasWarning(ns.warnings, /^health\.storagedriver\.interval: the bare number 10 is read as nanoseconds/);
  });
});

/** Every leaf key path of the schema (sections berth ignores count as leaves). */
function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const r = resolve(schema);
  if (r.kind !== 'object') return [prefix];
  return keysOf(r.core).flatMap((k) => leafPaths((r.core as z.ZodObject).shape[k] as z.ZodType, [...prefix, k]));
}

describe('rule 4: REGISTRY_* environment overrides, as distribution', () => {
  it('maps REGISTRY_<KEY_PATH> onto the schema, parses values as YAML, and wins over the file', () => {
    const env = {
      REGISTRY_HTTP_ADDR: '127.0.0.1:0',
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/env/data',
      REGISTRY_STORAGE_DELETE_ENABLED: 'true',
      REGISTRY_HTTP_SECRET: 'env-secret',
      REGISTRY_HTTP_TLS_CERTIFICATE: '/tls/c.crt',
      REGISTRY_HTTP_TLS_KEY: '/tls/c.key',
      REGISTRY_HTTP_TLS_CLIENTCAS: '[/ca/a.pem, /ca/b.pem]',
      REGISTRY_LOG_LEVEL: 'warn',
      REGISTRY_LOG_FIELDS: '{service: env, replica: 2}',
      REGISTRY_HEALTH_STORAGEDRIVER_INTERVAL: '5s',
      REGISTRY_HEALTH_STORAGEDRIVER_THRESHOLD: '7',
      REGISTRY_HTTP_HEADERS: '{X-Frame-Options: [DENY]}',
      REGISTRY_BERTH_METADATA_SQLITE_PATH: '/env/berth.sqlite',
      REGISTRY_BERTH_UPLOAD_CHUNKMINLENGTH: '5242880',
      REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: '72h',
      REGISTRY_STORAGE_MAINTENANCE_READONLY_ENABLED: 'yes',
      REGISTRY_HTTP_DRAINTIMEOUT: '30s',
    };
    const { config, warnings } = loadConfig({ path: example('seed-001.yml'), env });
    assert.equal(config.http.addr, '127.0.0.1:0');
    assert.equal(config.storage.filesystem.rootdirectory, '/env/data');
    assert.equal(config.storage.delete.enabled, true);
    assert.equal(config.http.secret, 'env-secret');
    assert.deepEqual(config.http.tls, { certificate: '/tls/c.crt', key: '/tls/c.key', clientcas: ['/ca/a.pem', '/ca/b.pem'] });
    assert.equal(config.log.level, 'warn');
    assert.deepEqual(config.log.fields, { service: 'env', replica: 2 });
    assert.deepEqual(config.health.storagedriver, { enabled: true, intervalMs: 5000, threshold: 7 });
    assert.deepEqual(config.http.headers, { 'X-Frame-Options': ['DENY'] });
    assert.equal(config.berth.metadata.sqlite.path, '/env/berth.sqlite');
    assert.equal(config.berth.upload.chunkMinLength, 5_242_880);
    assert.equal(config.storage.maintenance.uploadpurging.ageMs, 72 * 3_600_000);
    assert.equal(config.storage.maintenance.readonly.enabled, true);
    assert.equal(config.http.drainTimeoutMs, 30_000);
    assert.deepEqual(warnings, []);

    // no file: the environment still applies on top of the defaults
    const bare = loadConfig({ env: { REGISTRY_HTTP_ADDR: ':8080', REGISTRY_STORAGE_DELETE_ENABLED: 'false' } });
    assert.equal(bare.config.http.addr, ':8080');
    assert.equal(bare.config.storage.delete.enabled, false);
    // list items by index, as distribution allows
    assert.deepEqual(loadConfig({ env: { REGISTRY_HTTP_TLS_CERTIFICATE: 'c', REGISTRY_HTTP_TLS_KEY: 'k', REGISTRY_HTTP_TLS_CLIENTCAS_0: '/ca0' } }).config.http.tls?.clientcas, ['/ca0']);
    // an empty value resets the key (YAML null), like distribution
    assert.equal(load(`${V}http: {addr: ':6000'}\n`, { REGISTRY_HTTP_ADDR: '' }).config.http.addr, ':5000');

    // REGISTRY_STORAGE names the driver and replaces the whole section (lexical order:
    // it applies before the REGISTRY_STORAGE_* variables, whatever order env lists them in)
    const st = load(`${V}storage:\n  filesystem: {rootdirectory: /file}\n  delete: {enabled: true}\n`, {
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/from-env',
      REGISTRY_STORAGE: 'filesystem',
    });
    assert.equal(st.config.storage.filesystem.rootdirectory, '/from-env');
    assert.equal(st.config.storage.delete.enabled, false);
    const s3 = load(`${V}storage: {filesystem: {rootdirectory: /file}}\n`, { REGISTRY_STORAGE: 's3', REGISTRY_STORAGE_S3_BUCKET: 'b', REGISTRY_STORAGE_S3_REGION: 'eu', REGISTRY_STORAGE_S3_CHUNKSIZE: '10485760' });
    assert.equal(s3.config.storage.driver, 's3');
    assert.deepEqual(s3.config.storage.s3, { bucket: 'b', region: 'eu', chunkSize: 10485760 });
    rejects(`${V}storage: {filesystem: {}}\n`, [/^config: storage: exactly one storage driver must be configured, found storage\.filesystem and storage\.s3 \(from REGISTRY_STORAGE_S3_REGION\)$/], { REGISTRY_STORAGE_S3_REGION: 'eu' });
    rejects(V, [/^config: storage\.s3\.bucket: required$/], { REGISTRY_STORAGE_S3_REGION: 'eu' });
    rejects(V, [/^config: storage\.gcs \(from REGISTRY_STORAGE_GCS_BUCKET\) is not supported yet/], { REGISTRY_STORAGE_GCS_BUCKET: 'b' });

    // auth from the environment, as distribution's docs show it; sections berth ignores still reach the warnings
    const auth = load(V, { REGISTRY_AUTH: 'htpasswd', REGISTRY_AUTH_HTPASSWD_REALM: 'Registry Realm', REGISTRY_AUTH_HTPASSWD_PATH: '/auth/htpasswd' });
    assert.deepEqual(auth.config.auth, { htpasswd: { realm: 'Registry Realm', path: '/auth/htpasswd' } });
    // notifications (src/events/) from the environment, as distribution's docs show it
    assert.deepEqual(load(V, { REGISTRY_NOTIFICATIONS_ENDPOINTS: '[{name: a, url: "http://x"}]' }).config.notifications?.endpoints.map((e) => [e.name, e.url]), [['a', 'http://x']]);

    // what the environment cannot do is warned about, and ignored
    const odd = load(V, {
      'REGISTRY_HTTP_HEADERS_X-FOO': '[bar]',
      REGISTRY_LOG_FIELDS_SERVICE: 'x',
      REGISTRY_HTTP_ADRESS: ':1',
      REGISTRY_PORT: 'tcp://10.0.0.1:5000', // a Kubernetes service link, not a setting
      REGISTRY_HTTP_ADDR_PORT: '1',
      REGISTRY_VERSION: '0.2',
      REGISTRY__X: '1',
      REGISTRY_HTTP_TLS_CLIENTCAS_5: '/ca',
      PATH: '/usr/bin', // not ours at all: no warning
      REGISTRY_CONFIGURATION_PATH: '/etc/docker/registry/config.yml', // locates the file, not a setting: no warning
    });
    hasWarning(odd.warnings, /^http\.headers has free-form keys, which an environment variable cannot name .*REGISTRY_HTTP_HEADERS=.*\(environment variable REGISTRY_HTTP_HEADERS_X-FOO is ignored\)$/);
    hasWarning(odd.warnings, /^log\.fields has free-form keys.*REGISTRY_LOG_FIELDS_SERVICE is ignored/);
    hasWarning(odd.warnings, /^unknown configuration key http\.adress \(environment variable REGISTRY_HTTP_ADRESS is ignored\)$/);
    hasWarning(odd.warnings, /^unknown configuration key port \(environment variable REGISTRY_PORT is ignored\)$/);
    hasWarning(odd.warnings, /^unknown configuration key http\.addr\.port .*REGISTRY_HTTP_ADDR_PORT/);
    hasWarning(odd.warnings, /^version cannot be set from the environment .*REGISTRY_VERSION/);
    hasWarning(odd.warnings, /REGISTRY__X is ignored/);
    hasWarning(odd.warnings, /^http\.tls\.clientcas is a list.*REGISTRY_HTTP_TLS_CLIENTCAS_5 is ignored/);
    assert.equal(odd.warnings.length, 8);
    assert.deepEqual(odd.config, defaultConfig());

    // errors in values from the environment name the variable
    rejects(V, [/^config: storage\.delete\.enabled \(from REGISTRY_STORAGE_DELETE_ENABLED\): expected a boolean, got string$/], { REGISTRY_STORAGE_DELETE_ENABLED: 'maybe' });
    rejects(V, [/^config: health\.storagedriver\.interval \(from REGISTRY_HEALTH_STORAGEDRIVER\): /], { REGISTRY_HEALTH_STORAGEDRIVER: '{interval: soon}' });
    rejects(V, [/^config: http\.addr \(from REGISTRY_HTTP_ADDR\): the value is not valid YAML; quote it/], { REGISTRY_HTTP_ADDR: '[::1]:5000' });
    assert.equal(load(V, { REGISTRY_HTTP_ADDR: '"[::1]:5000"' }).config.http.addr, '[::1]:5000');

    // the mapping is derived from the schema: every known key has a variable that reaches it
    const leaves = leafPaths(fileSchema).filter((p) => p[0] !== 'version');
    assert.ok(leaves.length > 50, `only ${leaves.length} leaf keys found`);
    for (const p of leaves) {
      const name = `REGISTRY_${p.join('_').toUpperCase()}`;
      const raw: Record<string, unknown> = {};
      const w: Warning[] = [];
      const origins = applyEnv(raw, { [name]: 'x' }, fileSchema, w);
      assert.deepEqual(w, [], `${name}`);
      assert.equal(origins.get(p.join('.')), name);
    }
  });
});

describe('rule 5: zero configuration and no secrets in messages', () => {
  it('returns the defaults without a file, and never puts secret values in errors or warnings', () => {
    const expected: BerthConfig = {
      version: '0.1',
      log: { level: 'info', formatter: 'json', fields: {}, accesslog: { disabled: false } },
      storage: {
        driver: 'filesystem',
        filesystem: { rootdirectory: './data' },
        delete: { enabled: false },
        cache: {},
        maintenance: {
          uploadpurging: { enabled: true, ageMs: 168 * 3_600_000, intervalMs: 24 * 3_600_000, dryrun: false },
          readonly: { enabled: false },
        },
        redirect: { disable: false },
      },
      http: { addr: ':5000', prefix: '/', relativeurls: false, headers: {}, http2: { disabled: false }, drainTimeoutMs: 0 },
      health: { storagedriver: { enabled: false, intervalMs: 10_000, threshold: 3 } },
      validation: {},
      berth: {
        metadata: { driver: 'sqlite', sqlite: {} },
        upload: { chunkMinLength: 0 },
        auth: {
          tokenservice: { enabled: false, algorithm: 'ES256', expirationMs: 300_000, refreshExpirationMs: 720 * 3_600_000 },
          bruteforce: { maxFailures: 10, lockoutMs: 300_000, trustForwardedFor: false },
          accessControl: { enabled: false, admins: ['admin'] },
        },
        lifecycle: {
          gc: { enabled: true, intervalMs: 3_600_000, delayMs: 3_600_000, pace: 0.05 },
          retention: { dryrun: false, intervalMs: 24 * 3_600_000, policies: [] },
          immutableTags: [],
          quotas: [],
        },
        ui: { enabled: true, sessionTtlMs: 12 * 3_600_000, sessionIdleMs: 2 * 3_600_000, secureCookies: 'auto' },
        trust: { hostnames: [] },
      },
    };
    assert.deepEqual(defaultConfig(), expected);
    assert.deepEqual(loadConfig({ env: {} }), { config: expected, warnings: [] });
    if (!Object.keys(process.env).some((k) => k.startsWith('REGISTRY_'))) {
      assert.deepEqual(loadConfig({}).config, expected);
      assert.deepEqual(loadConfig().config, expected);
    }
    // each call gets its own objects
    const d = defaultConfig();
    d.http.headers['X-A'] = ['1'];
    d.log.fields.a = 1;
    assert.deepEqual(defaultConfig(), expected);
    // a file with just the version line is the defaults too
    assert.deepEqual(load(V).config, expected);

    const SECRET = 'hunter2-S3CR3T';
    const leaks: Array<{ text?: string; env?: NodeJS.ProcessEnv }> = [
      { text: `${V}http:\n  secret: {value: ${SECRET}}\n` },
      { text: `${V}http:\n  secret: [${SECRET}]\n` },
      { text: `${V}http:\n  secret: "${SECRET}\n` }, // unterminated quote: a YAML syntax error on the secret's line
      { text: `${V}http:\n  secret: ${SECRET}\n  secret: ${SECRET}\n` },
      { text: `${V}http:\n  secret: ${SECRET}: x\n` },
      { env: { REGISTRY_HTTP_SECRET: `[${SECRET}` } },
      { env: { REGISTRY_HTTP_SECRET: `*${SECRET}` } },
      { env: { REGISTRY_HTTP_SECRET: `{a: ${SECRET}}` } },
      { env: { REGISTRY_HTTP_SECRET: `${SECRET}`, REGISTRY_HTTP_ADDR: 'nope' } },
      { text: `${V}storage:\n  s3: {region: r, bucket: b, secretkey: ${SECRET}}\n` },
      { text: `${V}storage:\n  s3: {region: r, bucket: b, accesskey: a, secretkey: [${SECRET}]}\n` },
      { env: { REGISTRY_REDIS_PASSWORD: `{${SECRET}` } },
      { env: { REGISTRY_BERTH_METADATA_POSTGRES_PASSWORD: SECRET, REGISTRY_BERTH_METADATA_DRIVER: 'postgres' } },
    ];
    for (const { text, env } of leaks) {
      assert.throws(
        () => loadConfig({ ...(text !== undefined && { text }), env: env ?? {} }),
        (e: unknown) => e instanceof ConfigError && !e.message.includes(SECRET) && !String(e.stack).split('\n')[0].includes(SECRET),
        `leak check failed for ${JSON.stringify({ text, env })}`,
      );
    }
    // warnings name keys, never values
    const { config, warnings } = load(
      `${V}http:\n  secret: ${SECRET}\nredis: {password: ${SECRET}}\nproxy: {remoteurl: https://mirror.example.com, username: u, password: ${SECRET}, ttl: 168h}\nauth:\n  silly: {realm: ${SECRET}}\nhttp2: {x: ${SECRET}}\n`,
      { REGISTRY_REPORTING_BUGSNAG_APIKEY: SECRET },
    );
    assert.equal(config.http.secret, SECRET);
    assert.ok(warnings.length >= 4);
    for (const w of warnings) assert.ok(!w.includes(SECRET.toLowerCase()) && !w.includes(SECRET), w);
  });
});

describe('examples/', () => {
  it('every example config loads, with no unknown-key warnings', async () => {
    const { readdirSync } = await import('node:fs');
    const dir = fileURLToPath(new URL('../../examples/', import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'));
    assert.ok(files.length >= 5);
    for (const f of files) {
      const { warnings } = loadConfig({ path: example(f), env: {} });
      for (const w of warnings) assert.ok(!/unknown configuration key/.test(w), `${f}: ${w}`);
    }
  });

  it('examples/gc.yml sets the background collector', () => {
    const { config } = loadConfig({ path: example('gc.yml'), env: {} });
    assert.deepEqual(config.berth.lifecycle.gc, { enabled: true, intervalMs: 3_600_000, delayMs: 3_600_000, pace: 0.05 });
    assert.equal(config.storage.delete.enabled, true);
  });

  it('rejects a bad lifecycle setting with the key path', () => {
    rejects(`${V}berth:\n  gc:\n    interval: 0s\n`, [/berth\.gc\.interval/]);
    rejects(`${V}berth:\n  gc:\n    pace: 0\n`, [/berth\.gc\.pace/]);
    rejects(`${V}berth:\n  gc:\n    pace: 1.5\n`, [/berth\.gc\.pace/]);
    rejects(`${V}berth:\n  quotas:\n    - repositories: ["a/**"]\n      limit: lots\n`, [/berth\.quotas\.0\.limit/]);
    rejects(`${V}berth:\n  immutabletags:\n    - repositories: ["a/**"]\n      tags: ["("]\n`, [/berth\.immutabletags\.0\.tags\.0/]);
    rejects(`${V}berth:\n  retention:\n    policies:\n      - deleteuntagged: true\n`, [/berth\.retention\.policies\.0\.repositories/]);
  });
});
