// Console sessions: a random 256-bit id in an HttpOnly, SameSite=Strict cookie (Secure over TLS);
// the store keeps only its SHA-256, so a database dump holds no usable session. Sessions live in
// the metadata store, so they survive a restart and every replica knows them. Each login makes a
// new id (no fixation); logout deletes the row. Every form carries a CSRF token: the session's own
// random token, or, for a visitor without a session (no auth configured, or the login form), an
// HMAC of a random per-browser cookie under a key shared by the replicas.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../../auth/types.ts';
import type { ConsoleSession, ConsoleStore } from '../../metadata/console/console-store.ts';
import { readCookies, setCookie } from '../http/cookies.ts';

export const SESSION_COOKIE = 'berth_session';
export const VISITOR_COOKIE = 'berth_visitor';

export interface SessionSettings {
  /** Absolute lifetime of a session. */
  ttlMs: number;
  /** A session unused for this long ends. */
  idleMs: number;
}

export interface LoadedSession {
  session: ConsoleSession;
  principal: Principal;
}

const hash = (v: string) => createHash('sha256').update(v).digest('hex');
const token = () => randomBytes(32).toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SessionManager {
  private constructor(
    private readonly store: ConsoleStore,
    private readonly key: Buffer,
    private readonly settings: SessionSettings,
    private readonly cookiePath: string,
  ) {}

  static async open(store: ConsoleStore, settings: SessionSettings, cookiePath: string): Promise<SessionManager> {
    const key = await store.secret('console-csrf', () => randomBytes(32).toString('base64url'));
    return new SessionManager(store, Buffer.from(key, 'base64url'), settings, cookiePath);
  }

  /** The session named by the request's cookie, when it exists and has not expired (sliding idle time). */
  async load(req: IncomingMessage, now = Date.now()): Promise<LoadedSession | undefined> {
    const id = readCookies(req).get(SESSION_COOKIE);
    if (!id || id.length > 100) return undefined;
    const session = await this.store.sessions.get(hash(id), now);
    if (!session) return undefined;
    if (now - session.lastSeenAt > this.settings.idleMs || now >= session.expiresAt) {
      await this.store.sessions.delete(session.idHash);
      return undefined;
    }
    // Write the last-seen time at most once a minute: a page view must not be a write each time.
    if (now - session.lastSeenAt > 60_000) await this.store.sessions.touch(session.idHash, now, session.expiresAt);
    return { session, principal: session.principal as Principal };
  }

  /** Starts a new session for a principal; returns the Set-Cookie header. Any old session of this browser ends. */
  async create(req: IncomingMessage, principal: Principal, secure: boolean, now = Date.now()): Promise<{ cookie: string; session: ConsoleSession }> {
    const old = readCookies(req).get(SESSION_COOKIE);
    if (old && old.length <= 100) await this.store.sessions.delete(hash(old));
    const id = token();
    const session: ConsoleSession = {
      idHash: hash(id),
      userName: principal.name,
      principal: { name: principal.name, kind: principal.kind, via: principal.via, teams: principal.teams, admin: principal.admin, ...(principal.restrictedTo && { restrictedTo: principal.restrictedTo }) },
      csrf: token(),
      createdAt: now,
      expiresAt: now + this.settings.ttlMs,
      lastSeenAt: now,
    };
    await this.store.sessions.create(session);
    return { cookie: setCookie(SESSION_COOKIE, id, { path: this.cookiePath, httpOnly: true, secure, maxAge: Math.round(this.settings.ttlMs / 1000) }), session };
  }

  /** Ends the request's session; returns the Set-Cookie header that clears it. */
  async destroy(req: IncomingMessage, secure: boolean): Promise<string> {
    const id = readCookies(req).get(SESSION_COOKIE);
    if (id && id.length <= 100) await this.store.sessions.delete(hash(id));
    return setCookie(SESSION_COOKIE, '', { path: this.cookiePath, httpOnly: true, secure, maxAge: 0 });
  }

  /**
   * The CSRF token for forms rendered to this request, and the Set-Cookie header when a visitor
   * cookie had to be made. With a session: its token. Without: HMAC(key, visitor cookie).
   */
  csrfFor(req: IncomingMessage, session: ConsoleSession | undefined, secure: boolean): { token: string; cookie?: string } {
    if (session) return { token: session.csrf };
    let visitor = readCookies(req).get(VISITOR_COOKIE);
    let cookie: string | undefined;
    if (!visitor || visitor.length > 100) {
      visitor = token();
      cookie = setCookie(VISITOR_COOKIE, visitor, { path: this.cookiePath, httpOnly: true, secure });
    }
    return { token: this.visitorToken(visitor), cookie };
  }

  /** Whether a posted CSRF token belongs to this request's session (or visitor cookie). */
  checkCsrf(req: IncomingMessage, session: ConsoleSession | undefined, posted: string | undefined): boolean {
    if (!posted) return false;
    if (session) return sameText(posted, session.csrf);
    const visitor = readCookies(req).get(VISITOR_COOKIE);
    return !!visitor && visitor.length <= 100 && sameText(posted, this.visitorToken(visitor));
  }

  private visitorToken(visitor: string): string {
    return createHmac('sha256', this.key).update(`visitor:${visitor}`).digest('base64url');
  }
}
