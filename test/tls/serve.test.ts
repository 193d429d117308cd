// berth serving HTTPS itself (seed 002's REGISTRY_HTTP_TLS_CERTIFICATE/_KEY, seed 003's config.yml)
// with a certificate from `berth tls init`: real clients (skopeo, curl) trust it through the CA
// alone, refuse a registry whose CA they do not know, and negotiate HTTP/2 unless it is disabled.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { clientSandbox, hasCommand, run, startBerth, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { layoutRef, makeOciLayout, readLayoutBlob } from '../helpers/images.ts';
import { listening, tlsInit, type CertFiles } from './helpers.ts';

const missing = ['skopeo', 'curl'].filter((c) => !hasCommand(c));

describe('berth serving TLS', { skip: missing.length > 0 && `${missing.join(', ')} not installed` }, () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let certs: CertFiles;
  let trustDir: string; // a --cert-dir holding our ca.crt, as /etc/containers/certs.d/<host>/ would
  let wrongDir: string; // the same with some other CA
  let sb: ClientSandbox;

  before(async () => {
    ({ path: work, cleanup } = await tempDir('tls-serve'));
    certs = (await tlsInit(join(work, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
    const other = (await tlsInit(join(work, 'other'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
    trustDir = join(work, 'trust');
    wrongDir = join(work, 'wrong');
    await mkdir(trustDir);
    await mkdir(wrongDir);
    await copyFile(certs.ca, join(trustDir, 'ca.crt'));
    await copyFile(other.ca, join(wrongDir, 'ca.crt'));
    sb = await clientSandbox('tls-serve'); // no insecure registries: TLS is verified
  });
  after(async () => {
    await sb?.cleanup();
    await cleanup?.();
  });

  const skopeo = (args: string[], allowFail = false) => run('skopeo', ['--insecure-policy', ...args], { env: sb.env, allowFail });
  const curl = (args: string[]) => run('curl', ['-sS', '--max-time', '20', ...args], { allowFail: true });

  /** Push a fresh image through TLS and pull it back: same manifest digest, same blob bytes. */
  async function roundTrip(server: RunningServer, host: string, name: string): Promise<void> {
    const src = await makeOciLayout(join(work, `${name}-src`), { tag: 'v1', layers: 2, layerBytes: 256 * 1024 });
    const ref = `docker://${host}:${server.port}/${name}:v1`;
    await skopeo(['copy', '--quiet', '--preserve-digests', '--dest-cert-dir', trustDir, `oci:${src.dir}:v1`, ref]);
    const out = join(work, `${name}-back`);
    await skopeo(['copy', '--quiet', '--preserve-digests', '--src-cert-dir', trustDir, ref, `oci:${out}:v1`]);
    assert.equal((await layoutRef(out, 'v1'))?.digest, src.digest);
    for (const d of src.blobs) assert.deepEqual(await readLayoutBlob(out, d), await readLayoutBlob(src.dir, d), `blob ${d}`);
  }

  async function refusesUnknownCA(server: RunningServer): Promise<void> {
    const wrong = await skopeo(['inspect', '--raw', '--cert-dir', wrongDir, `docker://127.0.0.1:${server.port}/tls/any:v1`], true);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /x509: certificate signed by unknown authority/);
  }

  const httpVersion = async (server: RunningServer, flag: string) =>
    (await curl(['--cacert', certs.ca, flag, '-o', '/dev/null', '-w', '%{http_version}', `https://localhost:${server.port}/v2/`])).stdout;

  describe('from config.yml (http.tls.certificate/key), HTTP/2 on', () => {
    let server: RunningServer;
    before(async () => {
      server = await startBerth({
        configYaml: `http:\n  tls:\n    certificate: ${certs.cert}\n    key: ${certs.key}\n`,
        scheme: 'https',
        ready: listening,
      });
    });
    after(() => server?.stop());

    it('skopeo pushes and pulls with --cert-dir holding the CA from berth tls init (IP and DNS names)', async () => {
      await roundTrip(server, '127.0.0.1', 'tls/by-ip');
      await roundTrip(server, 'localhost', 'tls/by-name');
    });

    it('a client with another CA fails with an x509 error', () => refusesUnknownCA(server));

    it('negotiates HTTP/2 over ALPN and still speaks HTTP/1.1', async () => {
      assert.equal(await httpVersion(server, '--http2'), '2');
      assert.equal(await httpVersion(server, '--http1.1'), '1.1');
    });

    it('builds https Location headers', async () => {
      const r = await curl(['--cacert', certs.ca, '-i', '-X', 'POST', `https://localhost:${server.port}/v2/tls/loc/blobs/uploads/`]);
      assert.match(r.stdout, new RegExp(`^location: https://localhost:${server.port}/v2/tls/loc/blobs/uploads/`, 'im'));
    });

    it('does not answer plain HTTP on the TLS port', async () => {
      const r = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${server.port}/v2/`]);
      assert.notEqual(r.stdout, '200');
    });
  });

  describe('from REGISTRY_HTTP_TLS_* (seed 002) with REGISTRY_HTTP_HTTP2_DISABLED', () => {
    let server: RunningServer;
    before(async () => {
      server = await startBerth({
        env: { REGISTRY_HTTP_TLS_CERTIFICATE: certs.cert, REGISTRY_HTTP_TLS_KEY: certs.key, REGISTRY_HTTP_HTTP2_DISABLED: 'true' },
        scheme: 'https',
        ready: listening,
      });
    });
    after(() => server?.stop());

    it('skopeo pushes and pulls; another CA is refused', async () => {
      await roundTrip(server, '127.0.0.1', 'tls/env');
      await refusesUnknownCA(server);
    });

    it('http.http2.disabled: HTTP/1.1 even when the client offers h2', async () => {
      assert.equal(await httpVersion(server, '--http2'), '1.1');
    });
  });
});
