// Which keys may sign the bearer tokens berth accepts, found the way distribution finds them:
//   - an `x5c` header: the certificate chain must lead to a certificate of auth.token.rootcertbundle;
//   - a `kid` header: a key of the bundle (by RFC 7638 thumbprint, as distribution 3 names them,
//     or by libtrust fingerprint, as distribution 2 and issuers like docker_auth do), or a key of
//     auth.token.jwks (a file, as distribution reads it, or an https URL, refetched when an
//     unknown kid shows up).
// berth's own signing key, when its token service is on, is simply one more trusted key and
// certificate: its tokens go through the same checks as anyone else's.
import { createHash, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint, createRemoteJWKSet, type JWK, type JWSHeaderParameters } from 'jose';
import type { SigningKey } from './signing-key.ts';

export class TrustError extends Error {}

/** Why a token's key was not trusted; short, safe to log, never contains the token. */
export class UntrustedKey extends Error {}

export interface ResolvedKey {
  key: KeyObject;
  /** Signed by berth's own token service key. */
  own: boolean;
}

export interface TrustOptions {
  rootcertbundle?: string;
  jwks?: string;
  own?: SigningKey;
}

const MAX_CHAIN = 5;

export class TrustStore {
  private constructor(
    private readonly roots: X509Certificate[],
    private readonly byKid: Map<string, KeyObject>,
    private readonly remote: ReturnType<typeof createRemoteJWKSet> | undefined,
    private readonly own: SigningKey | undefined,
  ) {}

  static async load(opts: TrustOptions): Promise<TrustStore> {
    const roots: X509Certificate[] = [];
    const byKid = new Map<string, KeyObject>();
    if (opts.rootcertbundle) {
      let text: string;
      try {
        text = await readFile(opts.rootcertbundle, 'utf8');
      } catch (e) {
        throw new TrustError(`auth.token.rootcertbundle: cannot read ${opts.rootcertbundle}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      for (const pem of text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
        try {
          roots.push(new X509Certificate(pem));
        } catch {
          throw new TrustError(`auth.token.rootcertbundle: ${opts.rootcertbundle} holds a certificate that cannot be parsed`);
        }
      }
    }
    for (const cert of roots) {
      byKid.set(await thumbprint(cert.publicKey), cert.publicKey);
      byKid.set(libtrustKeyID(cert.publicKey), cert.publicKey);
    }
    let remote: ReturnType<typeof createRemoteJWKSet> | undefined;
    if (opts.jwks && /^https?:\/\//.test(opts.jwks)) {
      // jose caches the set, refetches on an unknown kid at most every 30 s, and times out after 5 s.
      remote = createRemoteJWKSet(new URL(opts.jwks), { cooldownDuration: 30_000, timeoutDuration: 5_000 });
    } else if (opts.jwks) {
      for (const [kid, key] of await readJwksFile(opts.jwks)) byKid.set(kid, key);
    }
    if (opts.own) {
      byKid.set(opts.own.kid, opts.own.publicKey);
      if (opts.own.certificate) roots.push(opts.own.certificate);
    }
    if (roots.length === 0 && byKid.size === 0 && !remote) {
      throw new TrustError('auth.token: no token signing key to trust: set rootcertbundle or jwks (or enable berth.auth.tokenservice)');
    }
    return new TrustStore(roots, byKid, remote, opts.own);
  }

  /** The key that must have signed a token with this header; throws UntrustedKey. */
  async resolve(header: JWSHeaderParameters): Promise<ResolvedKey> {
    let key: KeyObject | undefined;
    if (Array.isArray(header.x5c) && header.x5c.length > 0) key = this.verifyChain(header.x5c);
    else {
      if (typeof header.kid === 'string' && header.kid) key = this.byKid.get(header.kid);
      if (!key && this.remote) {
        try {
          // jose picks the key by kid and alg (refetching the set for an unknown kid) and returns a CryptoKey.
          key = KeyObject.from((await this.remote(header, { payload: '', signature: '' })) as CryptoKey);
        } catch {
          key = undefined;
        }
      }
    }
    if (!key) throw new UntrustedKey(header.x5c ? 'certificate chain not trusted' : header.kid ? 'unknown key id' : 'no x5c or kid header');
    const own = !!this.own && key.equals(this.own.publicKey);
    return { key, own };
  }

  private verifyChain(x5c: unknown[]): KeyObject {
    if (x5c.length > MAX_CHAIN || !x5c.every((c) => typeof c === 'string')) throw new UntrustedKey('malformed certificate chain');
    let chain: X509Certificate[];
    try {
      chain = (x5c as string[]).map((c) => new X509Certificate(Buffer.from(c, 'base64')));
    } catch {
      throw new UntrustedKey('malformed certificate chain');
    }
    const now = Date.now();
    for (let i = 0; i < chain.length; i++) {
      const cert = chain[i]!;
      if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) throw new UntrustedKey('certificate outside its validity period');
      if (this.roots.some((r) => r.raw.equals(cert.raw))) return chain[0]!.publicKey;
      const next = chain[i + 1];
      if (next) {
        if (!next.ca || !cert.checkIssued(next) || !cert.verify(next.publicKey)) throw new UntrustedKey('broken certificate chain');
        continue;
      }
      const root = this.roots.find((r) => r.ca && cert.checkIssued(r) && cert.verify(r.publicKey));
      if (root) return chain[0]!.publicKey;
    }
    throw new UntrustedKey('certificate chain not trusted');
  }
}

async function readJwksFile(path: string): Promise<Map<string, KeyObject>> {
  let doc: { keys?: unknown };
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as { keys?: unknown };
  } catch (e) {
    throw new TrustError(`auth.token.jwks: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'not JSON'}`);
  }
  if (!Array.isArray(doc.keys)) throw new TrustError(`auth.token.jwks: ${path} is not a JSON Web Key Set ({"keys": [...]})`);
  const out = new Map<string, KeyObject>();
  for (const jwk of doc.keys as JWK[]) {
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    let key: KeyObject;
    try {
      // Only the public members: a private JWK in the file must not turn into a private key here.
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, ...pub } = jwk;
      key = createPublicKey({ key: pub as never, format: 'jwk' });
    } catch {
      throw new TrustError(`auth.token.jwks: ${path} holds a key that cannot be used${jwk.kid ? ` (kid ${JSON.stringify(jwk.kid)})` : ''}`);
    }
    out.set(jwk.kid ?? (await thumbprint(key)), key);
  }
  return out;
}

export async function thumbprint(key: KeyObject): Promise<string> {
  return calculateJwkThumbprint(key.export({ format: 'jwk' }) as JWK, 'sha256');
}

/**
 * docker/libtrust's key ID: the first 240 bits of SHA-256 over the DER public key, base32,
 * in twelve groups of four separated by ':' (the `kid` distribution 2 and docker_auth use).
 */
export function libtrustKeyID(key: KeyObject): string {
  const hash = createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join(':');
}
