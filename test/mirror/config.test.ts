// proxy: (distribution's keys, REGISTRY_PROXY_* too) and berth.mirrors: defaults, normalisation,
// the rules checked before start, and no credential ever in an error or a warning.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { DEFAULT_MIRROR_TTL_MS } from '../../src/config/mirrors.ts';
import { Mirror } from '../../src/mirror/mirror.ts';
import pino from 'pino';

const V = 'version: 0.1\n';
const load = (text: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ text: V + text, env });
const SECRET = 'Pr0xy-S3cret-Value';

function rejects(text: string, pattern: RegExp): void {
  assert.throws(
    () => load(text),
    (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && !e.message.includes(SECRET),
    `expected a ConfigError matching ${pattern}`,
  );
}

describe('proxy: and berth.mirrors configuration', () => {
  it("reads distribution's proxy section as it is, with no warning", () => {
    const { config, warnings } = load(`proxy:\n  remoteurl: https://registry-1.docker.io\n  username: me\n  password: ${SECRET}\n  ttl: 10m\n`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.proxy, {
      key: 'proxy',
      prefix: '',
      remoteUrl: 'https://registry-1.docker.io',
      host: 'registry-1.docker.io',
      insecure: false,
      username: 'me',
      password: SECRET,
      ttlMs: 600_000,
      dockerHub: true,
    });
    assert.equal(config.berth.mirrors, undefined);
  });

  it('takes REGISTRY_PROXY_* from the environment, as distribution does', () => {
    const { config } = loadConfig({ text: V, env: { REGISTRY_PROXY_REMOTEURL: 'http://upstream.internal:5000', REGISTRY_PROXY_USERNAME: 'u', REGISTRY_PROXY_PASSWORD: SECRET } });
    assert.equal(config.proxy?.remoteUrl, 'http://upstream.internal:5000');
    assert.equal(config.proxy?.insecure, true);
    assert.equal(config.proxy?.dockerHub, false);
    assert.equal(config.proxy?.ttlMs, DEFAULT_MIRROR_TTL_MS);
    assert.equal(config.proxy?.password, SECRET);
  });

  it('reads berth.mirrors: prefixes end with a slash, ns is lower case, docker.io means the library/ rule', () => {
    const { config, warnings } = load(
      [
        'berth:',
        '  mirrors:',
        '    - {prefix: dockerhub, remoteurl: "https://registry-1.docker.io/", ns: Docker.IO}',
        `    - {prefix: ghcr/, remoteurl: "https://ghcr.io", username: bot, password: ${SECRET}, ttl: 30s, ns: ghcr.io}`,
        '',
      ].join('\n'),
    );
    assert.deepEqual(warnings, []);
    const [hub, ghcr] = config.berth.mirrors!;
    assert.deepEqual(hub, { key: 'berth.mirrors.0', prefix: 'dockerhub/', remoteUrl: 'https://registry-1.docker.io', host: 'registry-1.docker.io', insecure: false, ttlMs: DEFAULT_MIRROR_TTL_MS, ns: 'docker.io', dockerHub: true });
    assert.equal(ghcr!.prefix, 'ghcr/');
    assert.equal(ghcr!.ttlMs, 30_000);
    assert.equal(ghcr!.dockerHub, false);
  });

  it('refuses what cannot work, naming the key and never the secret', () => {
    rejects(`proxy:\n  username: u\n  password: ${SECRET}\n`, /^config: proxy\.remoteurl: required/);
    rejects(`proxy:\n  remoteurl: ftp://x\n  password: ${SECRET}\n`, /proxy\.remoteurl/);
    rejects(`proxy:\n  remoteurl: https://x.example/some/path\n`, /proxy\.remoteurl: must name the registry only/);
    rejects(`proxy:\n  remoteurl: https://u:${SECRET}@x.example\n`, /proxy\.remoteurl: put credentials in proxy\.username/);
    rejects(`proxy:\n  remoteurl: https://x.example\n  password: ${SECRET}\n`, /proxy\.username: required with proxy\.password/);
    rejects('berth:\n  mirrors:\n    - {remoteurl: "https://x.example"}\n', /berth\.mirrors\.0\.prefix: required/);
    rejects('berth:\n  mirrors:\n    - {prefix: Upper/, remoteurl: "https://x.example"}\n', /berth\.mirrors\.0\.prefix: must be the start of repository names/);
    rejects('berth:\n  mirrors:\n    - {prefix: a/, remoteurl: "https://x.example"}\n    - {prefix: a, remoteurl: "https://y.example"}\n', /berth\.mirrors\.1\.prefix: berth\.mirrors\.0 has the same prefix/);
    rejects('berth:\n  mirrors:\n    - {prefix: a/, remoteurl: "https://x.example", ns: x.io}\n    - {prefix: b/, remoteurl: "https://y.example", ns: X.io}\n', /berth\.mirrors\.1\.ns: another mirror answers the same ns/);
  });

  it("warns that a ttl copied from registry:2 (its cache expiry, 168h) means tags are checked weekly", () => {
    const { warnings } = load(`proxy:\n  remoteurl: https://registry-1.docker.io\n  password: ${SECRET}\n  username: u\n  ttl: 168h\n`);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^proxy\.ttl: cached tags are checked against the upstream only this often/);
    assert.ok(!warnings[0]!.includes(SECRET));
  });

  it('examples/mirror.yml and examples/mirrors.yml load', () => {
    for (const f of ['mirror.yml', 'mirrors.yml']) {
      const { config, warnings } = loadConfig({ path: fileURLToPath(new URL(`../../examples/${f}`, import.meta.url)), env: {} });
      assert.deepEqual(warnings, [], f);
      assert.ok(config.proxy || config.berth.mirrors?.length, f);
    }
  });

  it('matches names by the longest prefix; the proxy section covers every name; ?ns= maps to the prefix', () => {
    const { config } = load(
      [
        'proxy: {remoteurl: "https://fallback.example"}',
        'berth:',
        '  mirrors:',
        '    - {prefix: hub/, remoteurl: "https://registry-1.docker.io", ns: docker.io}',
        '    - {prefix: hub/special/, remoteurl: "https://special.example"}',
        '',
      ].join('\n'),
    );
    const m = new Mirror([...config.berth.mirrors!, config.proxy!], pino({ level: 'silent' }));
    assert.equal(m.match('hub/alpine')?.upstreamRepository, 'library/alpine');
    assert.equal(m.match('hub/library/alpine')?.upstreamRepository, 'library/alpine');
    assert.equal(m.match('hub/special/x')?.upstream.config.remoteUrl, 'https://special.example');
    assert.equal(m.match('hub/special/x')?.upstreamRepository, 'x');
    assert.equal(m.match('team/app')?.upstream.config.key, 'proxy');
    const headers: Record<string, string> = {};
    const res = { setHeader: (k: string, v: string) => (headers[k] = v) } as never;
    const route = m.mapRoute({ kind: 'manifest', name: 'library/alpine', reference: 'latest' }, new URL('http://x/v2/library/alpine/manifests/latest?ns=docker.io'), res);
    assert.deepEqual(route, { kind: 'manifest', name: 'hub/library/alpine', reference: 'latest' });
    assert.deepEqual(headers, { 'OCI-Namespace': 'docker.io' });
    // containerd's override_path (the mirror's URL ends in /v2/hub): the name has the prefix already.
    const overridden = m.mapRoute({ kind: 'blob', name: 'hub/library/alpine', digest: 'sha256:x' }, new URL('http://x/v2/hub/library/alpine/blobs/sha256:x?ns=docker.io'), res);
    assert.equal('name' in overridden && overridden.name, 'hub/library/alpine');
    assert.throws(() => m.refuseWrite({ kind: 'uploads', name: 'hub/alpine' }), /hub\/ is a pull-through cache/);
    assert.throws(() => m.refuseWrite({ kind: 'uploads', name: 'team/app' }), /this registry is a pull-through cache/);
  });
});
