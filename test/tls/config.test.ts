// http.tls.* and http.http2 as config.yml and REGISTRY_* give them, and how a bad certificate or
// key stops the start: with the key path and the file named, never the file's contents.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/index.ts';
import { startRegistry } from '../../src/http/server.ts';
import { tempDir } from '../helpers/processes.ts';
import { tlsInit, type CertFiles } from './helpers.ts';

const V = 'version: 0.1\n';
const load = (text: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ text, env });

describe('http.tls configuration', () => {
  it('reads certificate, key, clientcas and minimumtls without warnings', () => {
    const { config, warnings } = load(`${V}http:\n  tls:\n    certificate: /c.crt\n    key: /c.key\n    clientcas: [/ca1.pem, /ca2.pem]\n    minimumtls: tls1.3\n  http2:\n    disabled: true\n`);
    assert.deepEqual(config.http.tls, { certificate: '/c.crt', key: '/c.key', clientcas: ['/ca1.pem', '/ca2.pem'], minimumtls: 'tls1.3' });
    assert.equal(config.http.http2.disabled, true);
    assert.deepEqual(warnings, []);
  });

  it('takes REGISTRY_HTTP_TLS_* and REGISTRY_HTTP_HTTP2_DISABLED from the environment (seed 002)', () => {
    const { config, warnings } = loadConfig({
      env: {
        REGISTRY_HTTP_TLS_CERTIFICATE: '/certs/domain.crt',
        REGISTRY_HTTP_TLS_KEY: '/certs/domain.key',
        REGISTRY_HTTP_TLS_MINIMUMTLS: 'tls1.3',
        REGISTRY_HTTP_TLS_CLIENTCAS_0: '/certs/clients.pem',
        REGISTRY_HTTP_HTTP2_DISABLED: 'true',
        REGISTRY_HTTP_SECRET: '123456secret',
      },
    });
    assert.deepEqual(config.http.tls, { certificate: '/certs/domain.crt', key: '/certs/domain.key', clientcas: ['/certs/clients.pem'], minimumtls: 'tls1.3' });
    assert.equal(config.http.http2.disabled, true);
    assert.deepEqual(warnings, []);
  });

  it('minimumtls takes distribution\'s names only; tls1.0/tls1.1 load with a warning', () => {
    assert.throws(() => load(`${V}http:\n  tls: {certificate: c, key: k, minimumtls: TLS1.3}\n`), /http\.tls\.minimumtls: expected one of "tls1\.0", "tls1\.1", "tls1\.2", "tls1\.3", got "TLS1\.3"/);
    assert.throws(() => load(`${V}http:\n  tls: {certificate: c, key: k}\n`, { REGISTRY_HTTP_TLS_MINIMUMTLS: 'ssl3' }), /http\.tls\.minimumtls \(from REGISTRY_HTTP_TLS_MINIMUMTLS\)/);
    const old = load(`${V}http:\n  tls: {certificate: c, key: k, minimumtls: tls1.0}\n`);
    assert.deepEqual(old.warnings, ['http.tls.minimumtls: tls1.0 is not offered: berth (OpenSSL 3) accepts TLS 1.2 and 1.3 only']);
  });

  it('warns loudly when client certificates are asked for but TLS is off, and about letsencrypt', () => {
    const w = load(`${V}http:\n  tls:\n    clientcas: [/ca.pem]\n`).warnings;
    assert.match(w[0], /^http\.tls\.clientcas is ignored without http\.tls\.certificate and http\.tls\.key/);
    const le = load(`${V}http:\n  tls:\n    letsencrypt: {cachefile: /c, email: a@b.c}\n`);
    assert.match(le.warnings[0], /^http\.tls\.letsencrypt is not supported; .*certbot/);
    assert.equal(le.config.http.tls, undefined);
    assert.match(load(`${V}http:\n  tls: {certificate: c, key: k, ciphersuites: [TLS_AES_128_GCM_SHA256]}\n`).warnings[0], /^http\.tls\.ciphersuites is not supported yet/);
  });
});

describe('http.tls files at start', () => {
  let work: { path: string; cleanup(): Promise<void> };
  let certs: CertFiles;
  before(async () => {
    work = await tempDir('tls-config');
    certs = (await tlsInit(join(work.path, 'certs'), ['--host', 'localhost'])).files;
  });
  after(() => work?.cleanup());

  const startWith = async (tls: { certificate: string; key: string; clientcas?: string[] }) => {
    const { config } = loadConfig({ env: { REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(work.path, 'data') } });
    config.http.tls = tls;
    const r = await startRegistry(config, pino({ level: 'silent' }));
    await r.close();
  };

  it('names the key and the file that cannot be used, never its contents', async () => {
    const garbage = join(work.path, 'garbage.pem');
    await writeFile(garbage, 'not pem\n');
    await assert.rejects(startWith({ certificate: join(work.path, 'missing.crt'), key: certs.key }), /^TlsFileError: http\.tls\.certificate: cannot use .*missing\.crt: ENOENT$/);
    await assert.rejects(startWith({ certificate: certs.cert, key: garbage }), /http\.tls\.key: cannot use .*garbage\.pem/);
    // The key given as the certificate: the message must not echo the key.
    await assert.rejects(startWith({ certificate: certs.key, key: certs.key }), (e: Error) => {
      assert.match(e.message, /http\.tls\.certificate: cannot use .*server\.key/);
      assert.doesNotMatch(e.message, /PRIVATE KEY|MII/);
      return true;
    });
    await assert.rejects(startWith({ certificate: certs.ca, key: certs.key }), /http\.tls\.key: .*key values mismatch/);
    await assert.rejects(startWith({ certificate: certs.cert, key: certs.key, clientcas: [garbage] }), /http\.tls\.clientcas: cannot use .*garbage\.pem/);
  });
});
