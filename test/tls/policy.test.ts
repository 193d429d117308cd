// What the TLS listener enforces and how it changes while running: http.tls.minimumtls, mutual TLS
// with http.tls.clientcas (Node clients and skopeo with a client certificate), and certificate
// and client-CA reload when the files are replaced, without a restart and without dropping open
// connections; a broken replacement keeps the old certificate and logs an error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import pino from 'pino';
import { defaultConfig, type BerthConfig } from '../../src/config/index.ts';
import { startRegistry, type RunningRegistry } from '../../src/http/server.ts';
import { createCA, issue } from '../../src/tls/issue.ts';
import { clientSandbox, hasCommand, run, tempDir } from '../helpers/processes.ts';
import { makeOciLayout } from '../helpers/images.ts';
import { h2, handshake, https1, tlsInit, waitFor, type CertFiles } from './helpers.ts';

interface Running {
  registry: RunningRegistry;
  port: number;
  logs(): string;
  stop(): Promise<void>;
}

/** An in-process registry with the given http.tls, its log lines kept for assertions. */
async function start(tls: NonNullable<BerthConfig['http']['tls']>, adjust: (c: BerthConfig) => void = () => {}): Promise<Running> {
  const root = await mkdtemp(join(tmpdir(), 'berth-tls-policy-'));
  const config = defaultConfig();
  config.http.addr = '127.0.0.1:0';
  config.storage.filesystem.rootdirectory = root;
  config.log.accesslog.disabled = true;
  config.http.tls = tls;
  adjust(config);
  const lines: string[] = [];
  const registry = await startRegistry(config, pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) }));
  return {
    registry,
    port: Number(new URL(registry.url).port),
    logs: () => lines.join(''),
    async stop() {
      await registry.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Copies a certificate/key pair over the live files the way a deployment would: write aside, rename in. */
async function replace(from: CertFiles, live: { cert: string; key: string }): Promise<void> {
  await copyFile(from.key, `${live.key}.new`);
  await copyFile(from.cert, `${live.cert}.new`);
  await rename(`${live.key}.new`, live.key);
  await rename(`${live.cert}.new`, live.cert);
}

const fingerprint = async (file: string) => new X509Certificate(await readFile(file)).fingerprint256;

describe('TLS policy and reload', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let a: CertFiles;
  let b: CertFiles;

  before(async () => {
    ({ path: work, cleanup } = await tempDir('tls-policy'));
    a = (await tlsInit(join(work, 'a'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
    // b: a new server certificate from the same CA, as a renewal would be
    await mkdir(join(work, 'b'));
    await copyFile(a.ca, join(work, 'b', 'ca.crt'));
    await copyFile(a.caKey, join(work, 'b', 'ca.key'));
    b = (await tlsInit(join(work, 'b'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
  });
  after(() => cleanup?.());

  describe('http.tls.minimumtls', () => {
    it('default tls1.2: TLS 1.2 and 1.3 clients connect, a TLS 1.1 client is refused by the server', async () => {
      const r = await start({ certificate: a.cert, key: a.key });
      try {
        assert.equal((await handshake(r.port, { ca: a.ca, maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
        assert.equal((await handshake(r.port, { ca: a.ca })).protocol, 'TLSv1.3');
        await assert.rejects(handshake(r.port, { ca: a.ca, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' }), { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
      } finally {
        await r.stop();
      }
    });

    it('tls1.3: a client limited to TLS 1.2 gets a protocol_version alert (Node and openssl s_client)', async () => {
      const r = await start({ certificate: a.cert, key: a.key, minimumtls: 'tls1.3' });
      try {
        await assert.rejects(handshake(r.port, { ca: a.ca, maxVersion: 'TLSv1.2' }), { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
        const s = await run('openssl', ['s_client', '-connect', `127.0.0.1:${r.port}`, '-tls1_2', '-CAfile', a.ca], { allowFail: true, input: '' });
        assert.notEqual(s.code, 0);
        assert.match(s.stdout + s.stderr, /alert protocol version/);
        assert.equal((await handshake(r.port, { ca: a.ca })).protocol, 'TLSv1.3');
        // h2 works on TLS 1.3 too
        const c = await h2(r.port, { ca: a.ca });
        assert.equal((await c.request({ ':path': '/v2/' })).status, 200);
        await c.close();
      } finally {
        await r.stop();
      }
    });
  });

  describe('mutual TLS (http.tls.clientcas)', () => {
    let clientCA: string;
    let clientCert: string;
    let clientKey: string;
    let strangerCert: string;
    let strangerKey: string;
    let r: Running;

    before(async () => {
      const dir = join(work, 'clients');
      await mkdir(dir);
      const ca = await createCA({ commonName: 'test client CA', days: 2 });
      const stranger = await createCA({ commonName: 'some other CA', days: 2 });
      const names = { dns: ['builder-1'], ips: [] };
      const good = await issue(ca, { names, days: 1, usage: 'client' });
      const bad = await issue(stranger, { names, days: 1, usage: 'client' });
      clientCA = join(dir, 'client-ca.crt');
      clientCert = join(dir, 'client.cert');
      clientKey = join(dir, 'client.key');
      strangerCert = join(dir, 'stranger.cert');
      strangerKey = join(dir, 'stranger.key');
      await writeFile(clientCA, ca.cert.toString('pem'));
      await writeFile(clientCert, good.certPem);
      await writeFile(clientKey, good.keyPem, { mode: 0o600 });
      await writeFile(strangerCert, bad.certPem);
      await writeFile(strangerKey, bad.keyPem, { mode: 0o600 });
      r = await start({ certificate: a.cert, key: a.key, clientcas: [clientCA] });
    });
    after(() => r?.stop());

    it('refuses a client without a certificate, or with one from another CA', async () => {
      await assert.rejects(handshake(r.port, { ca: a.ca }), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
      await assert.rejects(handshake(r.port, { ca: a.ca, maxVersion: 'TLSv1.2' }), /handshake failure|certificate|socket hang up|ECONNRESET/i);
      await assert.rejects(https1(r.port, { ca: a.ca, cert: strangerCert, key: strangerKey }, '/v2/'), /unknown ca|certificate|socket hang up|ECONNRESET/i);
    });

    it('accepts the right client certificate over HTTP/1.1 and HTTP/2', async () => {
      const one = await https1(r.port, { ca: a.ca, cert: clientCert, key: clientKey }, '/v2/');
      assert.equal(one.status, 200);
      const c = await h2(r.port, { ca: a.ca, cert: clientCert, key: clientKey });
      assert.equal((await c.request({ ':path': '/v2/' })).status, 200);
      await c.close();
    });

    it('skopeo with client.cert/client.key in its cert dir pushes; without them it is refused', { skip: !hasCommand('skopeo') && 'skopeo is not installed' }, async () => {
      const sb = await clientSandbox('tls-mtls');
      try {
        const withCert = join(work, 'skopeo-mtls');
        const without = join(work, 'skopeo-no-cert');
        await mkdir(withCert);
        await mkdir(without);
        await copyFile(a.ca, join(withCert, 'ca.crt'));
        await copyFile(a.ca, join(without, 'ca.crt'));
        await copyFile(clientCert, join(withCert, 'client.cert'));
        await copyFile(clientKey, join(withCert, 'client.key'));
        const src = await makeOciLayout(join(work, 'mtls-src'), { tag: 'v1', layers: 1, layerBytes: 4096 });
        const ref = `docker://127.0.0.1:${r.port}/mtls/img:v1`;
        await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-cert-dir', withCert, `oci:${src.dir}:v1`, ref], { env: sb.env });
        const ok = await run('skopeo', ['--insecure-policy', 'inspect', '--raw', '--cert-dir', withCert, ref], { env: sb.env });
        assert.equal(JSON.parse(ok.stdout).schemaVersion, 2);
        const refused = await run('skopeo', ['--insecure-policy', 'inspect', '--raw', '--cert-dir', without, ref], { env: sb.env, allowFail: true });
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /certificate required|bad certificate|tls/i);
      } finally {
        await sb.cleanup();
      }
    });
  });

  describe('reload without restart', () => {
    it('new connections get a replaced certificate; open ones keep working; a broken file keeps the old one', async () => {
      const live = { cert: join(work, 'live.crt'), key: join(work, 'live.key') };
      await copyFile(a.cert, live.cert);
      await copyFile(a.key, live.key);
      const r = await start({ certificate: live.cert, key: live.key });
      try {
        const fa = await fingerprint(a.cert);
        const fb = await fingerprint(b.cert);
        assert.equal((await handshake(r.port, { ca: a.ca })).fingerprint256, fa);
        const open = await h2(r.port, { ca: a.ca });
        assert.equal((await open.request({ ':path': '/v2/' })).status, 200);

        await replace(b, live);
        await waitFor('the new certificate', async () => (await handshake(r.port, { ca: a.ca })).fingerprint256 === fb, 15_000);
        assert.match(r.logs(), /TLS certificate reloaded/);
        // New connections still get HTTP/2 and the configured minimum version after the swap.
        const fresh = await h2(r.port, { ca: a.ca });
        assert.equal((await fresh.request({ ':path': '/v2/' })).status, 200);
        await fresh.close();
        // The session opened before the swap carries on.
        assert.equal((await open.request({ ':path': '/v2/' })).status, 200);
        await open.close();

        // A half-written or wrong file: logged, and the previous certificate stays in service.
        await writeFile(live.cert, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
        await waitFor('the reload error', async () => /cannot be used; still serving the previous one/.test(r.logs()), 15_000);
        assert.equal((await handshake(r.port, { ca: a.ca })).fingerprint256, fb);
        // A certificate that does not match the key is refused the same way.
        const errors = () => r.logs().split('\n').filter((l) => l.includes('still serving the previous one')).length;
        const before = errors();
        await copyFile(a.cert, live.cert);
        await waitFor('the mismatch error', async () => errors() > before, 15_000);
        assert.match(r.logs(), /key values mismatch/);
        assert.equal((await handshake(r.port, { ca: a.ca })).fingerprint256, fb);
        // Once the pair is whole again, it is picked up.
        await replace(a, live);
        await waitFor('certificate a again', async () => (await handshake(r.port, { ca: a.ca })).fingerprint256 === fa, 15_000);
        assert.doesNotMatch(r.logs(), /PRIVATE KEY/);
      } finally {
        await r.stop();
      }
    });

    it('reloads the client CA file too', async () => {
      const dir = join(work, 'ca-reload');
      await mkdir(dir);
      const [ca1, ca2] = [await createCA({ commonName: 'clients 1', days: 2 }), await createCA({ commonName: 'clients 2', days: 2 })];
      const names = { dns: ['ci'], ips: [] };
      const [c1, c2] = [await issue(ca1, { names, days: 1, usage: 'client' }), await issue(ca2, { names, days: 1, usage: 'client' })];
      const files = { ca: join(dir, 'clients.pem'), c1: join(dir, 'c1.cert'), k1: join(dir, 'c1.key'), c2: join(dir, 'c2.cert'), k2: join(dir, 'c2.key') };
      await writeFile(files.ca, ca1.cert.toString('pem'));
      await writeFile(files.c1, c1.certPem);
      await writeFile(files.k1, c1.keyPem);
      await writeFile(files.c2, c2.certPem);
      await writeFile(files.k2, c2.keyPem);
      const r = await start({ certificate: a.cert, key: a.key, clientcas: [files.ca] });
      try {
        assert.equal((await https1(r.port, { ca: a.ca, cert: files.c1, key: files.k1 }, '/v2/')).status, 200);
        await assert.rejects(https1(r.port, { ca: a.ca, cert: files.c2, key: files.k2 }, '/v2/'));
        await writeFile(`${files.ca}.new`, ca2.cert.toString('pem'));
        await rename(`${files.ca}.new`, files.ca);
        await waitFor('client CA 2 accepted', async () => (await https1(r.port, { ca: a.ca, cert: files.c2, key: files.k2 }, '/v2/')).status === 200, 15_000);
        await assert.rejects(https1(r.port, { ca: a.ca, cert: files.c1, key: files.k1 }, '/v2/'));
      } finally {
        await r.stop();
      }
    });
  });
});
