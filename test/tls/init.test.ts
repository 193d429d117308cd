// `berth tls init`: the files it writes, checked by two independent readers (openssl's text dump
// and Node's X509Certificate): names, key usages, the chain, key permissions; and what it prints.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, tempDir } from '../helpers/processes.ts';
import { tlsInit, type CertFiles } from './helpers.ts';

const openssl = (...args: string[]) => run('openssl', args);
const text = async (file: string) => (await openssl('x509', '-in', file, '-noout', '-text')).stdout;
const mode = async (file: string) => (await stat(file)).mode & 0o777;

describe('berth tls init', () => {
  let work: string;
  let cleanup: () => Promise<void>;
  let files: CertFiles;
  let stdout: string;

  before(async () => {
    ({ path: work, cleanup } = await tempDir('tls-init'));
    const r = await tlsInit(join(work, 'main'), ['--host', 'docker.example.com', '--host', 'Registry.Internal', '--ip', '192.168.0.1', '--ip', '::1']);
    files = r.files;
    stdout = r.stdout + r.stderr;
  });
  after(() => cleanup?.());

  it('issues a server certificate with the SANs, key usages and chain TLS clients check', async () => {
    const server = new X509Certificate(await readFile(files.cert));
    const ca = new X509Certificate(await readFile(files.ca));
    // Node's reading
    assert.equal(server.subjectAltName, 'DNS:docker.example.com, DNS:registry.internal, IP Address:192.168.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.equal(server.checkHost('docker.example.com'), 'docker.example.com');
    assert.equal(server.checkIP('192.168.0.1'), '192.168.0.1');
    assert.equal(server.checkHost('other.example.com'), undefined);
    assert.equal(server.ca, false);
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']); // Node lists the extended key usages: serverAuth
    assert.ok(server.checkIssued(ca), 'issued by the CA');
    assert.ok(server.verify(ca.publicKey), "signed with the CA's key");
    assert.ok(server.checkPrivateKey(createPrivateKey(await readFile(files.key))), 'server.key belongs to server.crt');
    assert.ok(ca.ca && ca.verify(ca.publicKey), 'the CA is self-signed');
    assert.ok(ca.checkPrivateKey(createPrivateKey(await readFile(files.caKey))));
    assert.ok(new Date(server.validTo).getTime() - Date.now() > 820 * 86_400_000, 'default validity 825 days');

    // openssl's reading, as an independent check of the DER encoding
    const s = await text(files.cert);
    assert.match(s, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(s, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
    assert.match(s, /Extended Key Usage:\s+TLS Web Server Authentication/);
    assert.match(s, /Subject Alternative Name:\s+DNS:docker\.example\.com, DNS:registry\.internal, IP Address:192\.168\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(s, /Subject: CN = docker\.example\.com/);
    assert.match(s, /Authority Key Identifier/);
    const c = await text(files.ca);
    assert.match(c, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(c, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(c, /Public-Key: \(3072 bit\)/);
    const verified = await openssl('verify', '-purpose', 'sslserver', '-CAfile', files.ca, files.cert);
    assert.match(verified.stdout, /: OK/);
  });

  it('writes private keys 0600 and certificates 0644, and never prints a key', async () => {
    assert.equal(await mode(files.key), 0o600);
    assert.equal(await mode(files.caKey), 0o600);
    assert.equal(await mode(files.cert), 0o644);
    assert.equal(await mode(files.ca), 0o644);
    assert.doesNotMatch(stdout, /PRIVATE KEY|BEGIN/);
  });

  it('prints what the registry and each kind of client needs', () => {
    for (const needle of [
      // berth: config.yml and the environment form
      `certificate: ${files.cert}`,
      `key: ${files.key}`,
      `REGISTRY_HTTP_TLS_CERTIFICATE=${files.cert}`,
      `REGISTRY_HTTP_TLS_KEY=${files.key}`,
      // docker, per name and port
      'sudo cp ca.crt /etc/docker/certs.d/docker.example.com:5000/ca.crt',
      'sudo cp ca.crt /etc/docker/certs.d/192.168.0.1:5000/ca.crt',
      'sudo cp ca.crt /etc/docker/certs.d/[::1]:5000/ca.crt',
      '/etc/containers/certs.d/registry.internal:5000/ca.crt',
      // containerd
      '/etc/containerd/certs.d/docker.example.com:5000/hosts.toml',
      'server = "https://docker.example.com:5000"',
      'ca = "/etc/containerd/certs.d/docker.example.com:5000/ca.crt"',
      'config_path = "/etc/containerd/certs.d"',
      // system trust stores
      'sudo cp ca.crt /usr/local/share/ca-certificates/berth-docker.example.com.crt',
      'sudo update-ca-certificates',
      'sudo cp ca.crt /etc/pki/ca-trust/source/anchors/berth-docker.example.com.crt',
      'sudo update-ca-trust',
    ]) {
      assert.ok(stdout.includes(needle), `missing ${JSON.stringify(needle)} in:\n${stdout}`);
    }
  });

  it('refuses to overwrite without --force; with --force reissues from the same CA', async () => {
    const again = await tlsInit(files.dir, ['--host', 'docker.example.com'], true);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /server\.crt exists; add --force/);

    const caBefore = await readFile(files.ca);
    const r = await tlsInit(files.dir, ['--host', 'docker.example.com', '--host', 'new.example.com', '--force', '--days', '30']);
    assert.match(r.stdout, /Using the existing CA/);
    assert.deepEqual(await readFile(files.ca), caBefore, 'the CA clients already trust stays');
    const server = new X509Certificate(await readFile(files.cert));
    assert.match(server.subjectAltName ?? '', /DNS:new\.example\.com/);
    assert.ok(server.verify(new X509Certificate(caBefore).publicKey));
    assert.ok(new Date(server.validTo).getTime() - Date.now() < 31 * 86_400_000, '--days 30');
    assert.equal(await mode(files.key), 0o600);
  });

  it('signs with an existing CA made with openssl (seed 003 steps), RSA or ECDSA', async () => {
    const dir = join(work, 'company-ca');
    await run('mkdir', ['-p', dir]);
    const p = (f: string) => join(dir, f);
    // Seed 003, steps 1-4 (2048 bits instead of 4096 to keep the test quick).
    await openssl('genrsa', '-out', p('root-ca.key'), '2048');
    await openssl('req', '-new', '-key', p('root-ca.key'), '-out', p('root-ca.csr'), '-sha256', '-subj', '/C=CN/ST=Shanxi/L=Datong/O=Your Company Name/CN=Your Company Name Docker Registry CA');
    await writeFile(p('root-ca.cnf'), '[root_ca]\nbasicConstraints = critical,CA:TRUE,pathlen:1\nkeyUsage = critical, nonRepudiation, cRLSign, keyCertSign\nsubjectKeyIdentifier=hash\n');
    await openssl('x509', '-req', '-days', '3650', '-in', p('root-ca.csr'), '-signkey', p('root-ca.key'), '-sha256', '-out', p('root-ca.crt'), '-extfile', p('root-ca.cnf'), '-extensions', 'root_ca');

    const out = join(work, 'with-company-ca');
    const r = await tlsInit(out, ['--host', 'docker.funet8.com', '--ip', '127.0.0.1', '--ca-cert', p('root-ca.crt'), '--ca-key', p('root-ca.key')]);
    assert.doesNotMatch(r.stdout, /ca\.key/, 'no CA key is written when the CA is given');
    assert.deepEqual(await readFile(join(out, 'ca.crt'), 'utf8'), (await readFile(p('root-ca.crt'), 'utf8')).replace(/\n*$/, '\n'));
    assert.match((await openssl('verify', '-purpose', 'sslserver', '-CAfile', p('root-ca.crt'), r.files.cert)).stdout, /: OK/);
    assert.match(await text(r.files.cert), /Issuer: C = CN, ST = Shanxi, L = Datong, O = Your Company Name, CN = Your Company Name Docker Registry CA/);

    // An ECDSA P-256 CA signs with ecdsa-with-SHA256.
    await openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('ec.key'));
    await openssl('req', '-x509', '-new', '-key', p('ec.key'), '-days', '30', '-subj', '/CN=EC CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', p('ec.crt'));
    const ec = await tlsInit(join(work, 'with-ec-ca'), ['--host', 'docker.example.com', '--ca-cert', p('ec.crt'), '--ca-key', p('ec.key')]);
    const ecText = await text(ec.files.cert);
    assert.match(ecText, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match((await openssl('verify', '-CAfile', p('ec.crt'), ec.files.cert)).stdout, /: OK/);
  });

  it('explains bad input instead of writing anything', async () => {
    const dir = join(work, 'bad');
    const fail = async (args: string[], message: RegExp) => {
      const r = await tlsInit(dir, args, true);
      assert.notEqual(r.code, 0, `expected failure for ${args.join(' ')}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /PRIVATE KEY/);
    };
    await fail([], /at least one --host or --ip/);
    await fail(['--host', 'docker.example.com:5000'], /not a DNS name.*give the port with --port/);
    await fail(['--ip', '300.1.1.1'], /--ip "300\.1\.1\.1": not an IPv4 or IPv6 address/);
    await fail(['--host', 'a.example', '--days', '0'], /--days: expected a positive whole number/);
    await fail(['--host', 'a.example', '--ca-cert', files.ca], /--ca-cert and --ca-key go together/);
    await fail(['--host', 'a.example', '--ca-cert', files.cert, '--ca-key', files.key], /--ca-cert: not a CA certificate/);
    await fail(['--host', 'a.example', '--ca-cert', files.ca, '--ca-key', files.key], /--ca-key does not belong to --ca-cert/);
  });

  it('leaves the port out of the client paths for 443, as docker and containerd do', async () => {
    const r = await tlsInit(join(work, 'p443'), ['--host', 'docker.example.com', '--port', '443']);
    assert.ok(r.stdout.includes('/etc/docker/certs.d/docker.example.com/ca.crt'));
    assert.ok(r.stdout.includes('server = "https://docker.example.com"'));
    assert.ok(r.stdout.includes('addr: :443'));
  });
});
