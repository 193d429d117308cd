// The client over TLS: a registry with a private CA is refused with a message naming the three
// fixes (certs.d, --ca-cert, --insecure), and works once the CA is given; --insecure on a TLS
// port and https on a plain port both fail clearly.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { clientSandbox, startBerth, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { listening, tlsInit } from '../tls/helpers.ts';
import { berthCli, client, pushRandomImage } from './helpers.ts';
import { makeDockerArchive } from '../helpers/images.ts';

describe('berth client commands over TLS', () => {
  let server: RunningServer;
  let plain: RunningServer;
  let sb: ClientSandbox;
  let ca: string;
  let berth: ReturnType<typeof berthCli>;
  before(async () => {
    sb = await clientSandbox('cli-tls', []);
    const certs = (await tlsInit(join(sb.dir, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
    ca = certs.ca;
    server = await startBerth({ configYaml: `http:\n  tls:\n    certificate: ${certs.cert}\n    key: ${certs.key}\n`, scheme: 'https', ready: listening });
    plain = await startBerth();
    berth = berthCli(sb.env);
  });
  after(async () => {
    await server?.stop();
    await plain?.stop();
    await sb?.cleanup();
  });

  it('names the fixes on an x509 error, and works with --ca-cert', async () => {
    const r = await berth(['catalog', server.host]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`/etc/docker/certs\\.d/${server.host.replace(/\./g, '\\.')}/ca\\.crt`));
    assert.match(r.stderr, /--ca-cert/);
    assert.match(r.stderr, /--insecure/);

    const c = await client(server.host, { caCert: ca, noStoredCredentials: true });
    const img = await pushRandomImage(c, 'tls/app', 'v1');
    const d = await berth(['digest', `${server.host}/tls/app:v1`, '--ca-cert', ca]);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout.trim(), img.digest);
  });

  it('trusts a CA from /etc/docker/certs.d/<host:port>/ as docker does', async (t) => {
    const dir = join('/etc/docker/certs.d', server.host);
    try {
      await mkdir(dir, { recursive: true });
      await copyFile(ca, join(dir, 'registry-ca.crt')); // any *.crt there counts, not only ca.crt
    } catch {
      t.skip('/etc/docker/certs.d is not writable here');
      return;
    }
    try {
      const r = await berth(['catalog', server.host, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { repositories: string[] }).repositories.includes('tls/app'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--insecure against a TLS port, and https against a plain port, fail with exit 1', async () => {
    const a = await berth(['catalog', server.host, '--insecure']);
    assert.equal(a.code, 1);
    assert.match(a.stderr, /drop --insecure/);
    // 0.0.0.0 reaches this machine's 127.0.0.1 but is not a loopback name, so it stands in for a
    // remote registry: no silent fall back to plain HTTP there.
    const remote = `0.0.0.0:${plain.port}`;
    const b = await berth(['catalog', remote]);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /does not speak TLS.*--insecure/);
    assert.equal((await berth(['catalog', remote, '--insecure'])).code, 0);
  });

  it('falls back to plain HTTP for a registry on this machine, as docker does, and only for one that answers in plain HTTP', async () => {
    for (const host of [plain.host, `localhost:${plain.port}`]) {
      const r = await berth(['catalog', host]);
      assert.equal(r.code, 0, `${host}: ${r.stderr}`);
    }
    const img = await pushRandomImage(await client(plain.host, { insecure: true, noStoredCredentials: true }), 'loopback/app', 'v1');
    const out = join(sb.dir, 'loopback-oci');
    const pulled = await berth(['pull', `localhost:${plain.port}/loopback/app:v1`, '--format', 'oci', '-o', out, '--quiet']);
    assert.equal(pulled.code, 0, pulled.stderr);
    const digest = await berth(['digest', `${plain.host}/loopback/app:v1`]);
    assert.equal(digest.stdout.trim(), img.digest);
    // A push sends its blobs' first requests in parallel, all over HTTPS before any has fallen back.
    const archive = join(sb.dir, 'loopback-push.tar');
    await makeDockerArchive(archive, { repoTag: 'loopback/pushed:v1', layers: 4, layerBytes: 64 * 1024 });
    const pushed = await berth(['push', archive, `localhost:${plain.port}/loopback/pushed:v1`, '--quiet']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.deepEqual(await (await client(plain.host)).tags('loopback/pushed'), ['v1']);
    // A TLS registry on this machine with an untrusted certificate still fails: that is not plain HTTP.
    const tls = await berth(['catalog', server.host]);
    assert.equal(tls.code, 1);
    assert.match(tls.stderr, /x509/);
  });

  it("verifies a registry on this machine against its configured CA only, unless NODE_EXTRA_CA_CERTS is set (Node's public roots cannot certify a loopback name)", async () => {
    // Without NODE_EXTRA_CA_CERTS (set to '': unset for Node) no root store is built for loopback
    // hosts: the plain-HTTP fall back, the x509 error and --ca-cert behave as with the roots.
    const bare = berthCli({ ...sb.env, NODE_EXTRA_CA_CERTS: '' });
    assert.equal((await bare(['catalog', plain.host])).code, 0);
    const refused = await bare(['catalog', server.host]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /x509.*--ca-cert/s);
    assert.equal((await bare(['catalog', server.host, '--ca-cert', ca])).code, 0);
    // A private CA for localhost given to Node through NODE_EXTRA_CA_CERTS is trusted, as before.
    const extra = await berthCli({ ...sb.env, NODE_EXTRA_CA_CERTS: ca })(['catalog', `localhost:${server.port}`]);
    assert.equal(extra.code, 0, extra.stderr);
  });
});
