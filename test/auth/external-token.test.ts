// auth.token with an external issuer, as distribution trusts one: an X.509 rootcertbundle (token
// header `x5c` chains to it, or `kid` names one of its keys by libtrust fingerprint or RFC 7638
// thumbprint), or a JWKS (file or URL). The token's `access` claim is the grant; iss, aud, exp and
// nbf are checked. Certificates are made with the openssl CLI, tokens signed with jose.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { calculateJwkThumbprint, SignJWT, type JWK } from 'jose';
import { libtrustKeyID } from '../../src/auth/trust.ts';
import { hasCommand, tempDir } from '../helpers/processes.ts';
import { basic, bearer, errorBody, pushImage, startAuthRegistry, type AuthRegistry } from './harness.ts';

const REALM = 'https://auth.example.com/token';

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA and a leaf it signed (EC P-256), plus an unrelated self-signed CA and its leaf. */
async function makePki(dir: string): Promise<void> {
  await writeFile(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  for (const ca of ['ca', 'rogue']) {
    openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${ca}.key`);
    openssl(dir, 'req', '-x509', '-new', '-key', `${ca}.key`, '-subj', `/CN=${ca}`, '-days', '2', '-out', `${ca}.pem`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${ca}-leaf.key`);
    openssl(dir, 'req', '-new', '-key', `${ca}-leaf.key`, '-subj', `/CN=${ca} issuer`, '-out', `${ca}-leaf.csr`);
    openssl(dir, 'x509', '-req', '-in', `${ca}-leaf.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-out', `${ca}-leaf.pem`, '-extfile', 'leaf.ext');
  }
}

const der = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');

describe('auth.token: an external issuer', { skip: !hasCommand('openssl') && 'openssl is not installed' }, () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let r: AuthRegistry;
  let caKey: KeyObject;
  let leafKey: KeyObject;
  let rogueLeafKey: KeyObject;
  let leafCert: string;
  let rogueLeafCert: string;
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({ iss: 'ext-issuer', aud: 'ext-registry', sub: 'ext-user', iat: now(), nbf: now(), exp: now() + 300, jti: randomBytes(8).toString('hex'), ...over });
  const pushPull = (name: string) => [{ type: 'repository', name, actions: ['pull', 'push'] }];

  before(async () => {
    ({ path: dir, cleanup } = await tempDir('berth-ext-token'));
    await makePki(dir);
    caKey = createPrivateKey(await readFile(join(dir, 'ca.key')));
    leafKey = createPrivateKey(await readFile(join(dir, 'ca-leaf.key')));
    rogueLeafKey = createPrivateKey(await readFile(join(dir, 'rogue-leaf.key')));
    leafCert = der(await readFile(join(dir, 'ca-leaf.pem'), 'utf8'));
    rogueLeafCert = der(await readFile(join(dir, 'rogue-leaf.pem'), 'utf8'));
    r = await startAuthRegistry((c) => {
      c.auth = { token: { realm: REALM, service: 'ext-registry', issuer: 'ext-issuer', rootcertbundle: join(dir, 'ca.pem'), autoredirect: false } };
    });
  });
  after(async () => {
    await r?.stop();
    await cleanup?.();
  });

  it('challenges with the configured realm and refuses Basic credentials', async () => {
    const res = await fetch(`${r.url}/v2/ext/app/tags/list`, { headers: { Authorization: basic('someone', 'password-123') } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), `Bearer realm="${REALM}",service="ext-registry",scope="repository:ext/app:pull"`);
    // berth's own token service is off: there is no /auth/token here
    assert.equal((await fetch(`${r.url}/auth/token`)).status, 404);
  });

  it('accepts a token whose x5c chain leads to the root bundle; its access claim is the grant', async () => {
    const token = await new SignJWT(claims({ access: [...pushPull('ext/app'), { type: 'registry', name: 'catalog', actions: ['*'] }] }))
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [leafCert] })
      .sign(leafKey);
    // the subject is not a user berth knows: the issuer vouches for it, as in distribution
    await pushImage(r.url, 'ext/app', 'v1', bearer(token));
    const cat = await fetch(`${r.url}/v2/_catalog`, { headers: { Authorization: bearer(token) } });
    assert.deepEqual(await cat.json(), { repositories: ['ext/app'] });
    // the grant stops at the claim
    const other = await fetch(`${r.url}/v2/ext/other/tags/list`, { headers: { Authorization: bearer(token) } });
    assert.equal(other.status, 401);
    assert.match(other.headers.get('www-authenticate')!, /error="insufficient_scope"/);
    assert.equal((await fetch(`${r.url}/v2/ext/app/manifests/v1`, { method: 'DELETE', headers: { Authorization: bearer(token) } })).status, 401);
    // `repository(plugin)` is the same resource type (distribution ignores the class); aud may be a list
    const plugin = await new SignJWT(claims({ aud: ['elsewhere', 'ext-registry'], access: [{ type: 'repository(plugin)', name: 'ext/app', actions: ['pull'] }] }))
      .setProtectedHeader({ alg: 'ES256', x5c: [leafCert] })
      .sign(leafKey);
    assert.equal((await fetch(`${r.url}/v2/ext/app/tags/list`, { headers: { Authorization: bearer(plugin) } })).status, 200);
  });

  it('finds a bundle key by kid: libtrust fingerprint (distribution 2, docker_auth) or RFC 7638 thumbprint', async () => {
    const caPub = createPublicKey(caKey);
    const kids = [libtrustKeyID(caPub), await calculateJwkThumbprint(caPub.export({ format: 'jwk' }) as JWK)];
    assert.match(kids[0], /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    for (const kid of kids) {
      const token = await new SignJWT(claims({ access: pushPull('ext/kid') })).setProtectedHeader({ alg: 'ES256', kid }).sign(caKey);
      assert.equal((await fetch(`${r.url}/v2/ext/kid/tags/list`, { headers: { Authorization: bearer(token) } })).status, 404, kid); // authorized; no such repository
    }
  });

  it('refuses foreign chains, unknown keys, the wrong issuer or audience, and expired tokens', async () => {
    const access = pushPull('ext/app');
    const bad: Record<string, string> = {
      'rogue chain': await new SignJWT(claims({ access })).setProtectedHeader({ alg: 'ES256', x5c: [rogueLeafCert] }).sign(rogueLeafKey),
      'trusted chain, other key': await new SignJWT(claims({ access })).setProtectedHeader({ alg: 'ES256', x5c: [leafCert] }).sign(rogueLeafKey),
      'no key hint': await new SignJWT(claims({ access })).setProtectedHeader({ alg: 'ES256' }).sign(leafKey),
      'unknown kid': await new SignJWT(claims({ access })).setProtectedHeader({ alg: 'ES256', kid: 'AAAA:BBBB' }).sign(caKey),
      'wrong issuer': await new SignJWT(claims({ iss: 'other-issuer', access })).setProtectedHeader({ alg: 'ES256', x5c: [leafCert] }).sign(leafKey),
      'wrong audience': await new SignJWT(claims({ aud: 'other-registry', access })).setProtectedHeader({ alg: 'ES256', x5c: [leafCert] }).sign(leafKey),
      expired: await new SignJWT(claims({ exp: now() - 3600, access })).setProtectedHeader({ alg: 'ES256', x5c: [leafCert] }).sign(leafKey),
      'garbage x5c': await new SignJWT(claims({ access })).setProtectedHeader({ alg: 'ES256', x5c: ['bm90IGEgY2VydA=='] }).sign(leafKey),
    };
    for (const [what, t] of Object.entries(bad)) {
      const res = await fetch(`${r.url}/v2/ext/app/tags/list`, { headers: { Authorization: bearer(t) } });
      assert.equal(res.status, 401, what);
      assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/, what);
      assert.deepEqual((await errorBody(res)).map((e) => e.code), ['UNAUTHORIZED'], what);
    }
    assert.match(r.logs(), /"reason":"untrusted signing key: certificate chain not trusted"/);
  });

  it('trusts the keys of a JWKS, from a file or a URL', async () => {
    const { privateKey, publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    const jwks = JSON.stringify({ keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'jwks-key-1', use: 'sig', alg: 'ES256' }] });
    await writeFile(join(dir, 'jwks.json'), jwks);
    const server: Server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(jwks));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    try {
      for (const source of [join(dir, 'jwks.json'), jwksUrl]) {
        const reg = await startAuthRegistry((c) => {
          c.auth = { token: { realm: REALM, service: 'ext-registry', issuer: 'ext-issuer', jwks: source, autoredirect: false } };
        });
        try {
          const good = await new SignJWT(claims({ access: pushPull('j/app') })).setProtectedHeader({ alg: 'ES256', kid: 'jwks-key-1' }).sign(privateKey);
          assert.equal((await fetch(`${reg.url}/v2/j/app/tags/list`, { headers: { Authorization: bearer(good) } })).status, 404, source);
          const unknown = await new SignJWT(claims({ access: pushPull('j/app') })).setProtectedHeader({ alg: 'ES256', kid: 'jwks-key-2' }).sign(privateKey);
          assert.equal((await fetch(`${reg.url}/v2/j/app/tags/list`, { headers: { Authorization: bearer(unknown) } })).status, 401, source);
        } finally {
          await reg.stop();
        }
      }
    } finally {
      server.close();
    }
  });
});
