// The two login flows of the distribution API. Basic: send the credentials with every request.
// Bearer: trade them (or nothing, for anonymous pulls) for a token at the challenge's realm, one
// token per scope set, reused until it expires.
import type { Credentials } from './docker-config.ts';
import type { Challenge } from './challenge.ts';
import { send, header, type TransportOptions } from './transport.ts';

interface CachedToken {
  token: string;
  expires: number;
}

export class Authenticator {
  private tokens = new Map<string, CachedToken>();
  /** The last challenge seen: later requests can authenticate up front instead of eating a 401 each. */
  challenge?: Challenge;

  constructor(
    private host: string,
    private transport: TransportOptions,
    private creds: Credentials | undefined,
  ) {}

  hasCredentials(): boolean {
    return Boolean(this.creds?.username || this.creds?.identityToken);
  }

  private basic(): string | undefined {
    const c = this.creds;
    return c?.username !== undefined ? `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}` : undefined;
  }

  /** The Authorization header for a request needing `scope` under the current challenge, if any. */
  async authorization(scope: string | undefined): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return this.basic();
    if (ch.scheme === 'bearer') return `Bearer ${await this.token(ch, scope)}`;
    return undefined;
  }

  /** Drops the cached token for a scope (the registry refused it: expired or revoked). */
  forget(scope: string | undefined): void {
    this.tokens.delete(scope ?? '');
  }

  private async token(ch: Challenge, scope: string | undefined): Promise<string> {
    const key = scope ?? '';
    const cached = this.tokens.get(key);
    if (cached && cached.expires > Date.now()) return cached.token;
    const realm = ch.params.realm;
    if (!realm) throw new Error(`${this.host}: Bearer challenge without a realm`);
    const scopes = scope ? scope.split(' ') : ch.params.scope ? [ch.params.scope] : [];
    let res;
    if (this.creds?.identityToken) {
      // OAuth2 refresh-token grant (what docker does with an identitytoken).
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.creds.identityToken, client_id: 'berth' });
      if (ch.params.service) form.set('service', ch.params.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await send(realm, this.host, this.transport, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      });
    } else {
      const u = new URL(realm);
      if (ch.params.service) u.searchParams.set('service', ch.params.service);
      for (const s of scopes) u.searchParams.append('scope', s);
      const auth = this.basic();
      res = await send(u.toString(), this.host, this.transport, { method: 'GET', headers: auth ? { Authorization: auth } : {} });
    }
    if (res.status === 401 || res.status === 403) throw new AuthError(`${this.host}: the token service refused the credentials (${res.status})`);
    if (res.status !== 200) throw new Error(`${this.host}: token service answered ${res.status} ${header(res.headers, 'content-type') ?? ''}`.trim());
    const body = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`${this.host}: token service answered without a token`);
    // Distribution's default lifetime is 60 s when expires_in is absent; renew 10 s early.
    this.tokens.set(key, { token, expires: Date.now() + ((body.expires_in ?? 60) - 10) * 1000 });
    return token;
  }
}

export class AuthError extends Error {}
