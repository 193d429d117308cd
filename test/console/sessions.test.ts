// Console sessions: idle and absolute expiry, only a hash of the id stored, CSRF tokens bound to
// the session or to the visitor cookie.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import type { MetadataStore } from '../../src/metadata/store.ts';
import { SessionManager } from '../../src/console/session/sessions.ts';
import type { Principal } from '../../src/auth/types.ts';

const alice: Principal = { name: 'alice', kind: 'user', via: 'htpasswd', teams: ['devs'], admin: false };
const req = (cookie = '') => ({ headers: { cookie } }) as unknown as IncomingMessage;
const cookieValue = (setCookie: string) => setCookie.split(';')[0];

describe('console sessions', () => {
  let dir: string;
  let store: MetadataStore;
  let sessions: SessionManager;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-sessions-'));
    store = await openSqliteMetadata(join(dir, 'berth.sqlite'));
    sessions = await SessionManager.open(store.console, { ttlMs: 10 * 3_600_000, idleMs: 3_600_000 }, '/');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores only the hash of the id, and loads the principal back', async () => {
    const t0 = 1_000_000_000_000;
    const { cookie, session } = await sessions.create(req(), alice, false, t0);
    const id = cookieValue(cookie).split('=')[1];
    assert.equal(session.idHash, createHash('sha256').update(id).digest('hex'));
    assert.notEqual(session.idHash, id);
    const loaded = await sessions.load(req(cookieValue(cookie)), t0 + 1000);
    assert.equal(loaded?.principal.name, 'alice');
    assert.deepEqual(loaded?.principal.teams, ['devs']);
  });

  it('ends a session unused for the idle time, and any session after its lifetime', async () => {
    const t0 = 2_000_000_000_000;
    const a = await sessions.create(req(), alice, false, t0);
    assert.equal(await sessions.load(req(cookieValue(a.cookie)), t0 + 3_600_000 + 1), undefined, 'idle');
    const b = await sessions.create(req(), alice, false, t0);
    // Used every 50 minutes (so never idle), it still ends after 10 hours.
    let t = t0;
    for (; t < t0 + 10 * 3_600_000 - 50 * 60_000; t += 50 * 60_000) assert.ok(await sessions.load(req(cookieValue(b.cookie)), t), `alive at ${(t - t0) / 60_000} min`);
    assert.equal(await sessions.load(req(cookieValue(b.cookie)), t0 + 10 * 3_600_000), undefined, 'absolute lifetime');
  });

  it('binds CSRF tokens to the session, or to the visitor cookie without one', async () => {
    const { session } = await sessions.create(req(), alice, false);
    assert.ok(sessions.checkCsrf(req(), session, session.csrf));
    assert.ok(!sessions.checkCsrf(req(), session, 'x'.repeat(43)));
    const first = sessions.csrfFor(req(), undefined, false);
    assert.ok(first.cookie, 'a visitor cookie is set');
    const visitor = req(cookieValue(first.cookie!));
    assert.ok(sessions.checkCsrf(visitor, undefined, first.token));
    assert.ok(!sessions.checkCsrf(req('berth_visitor=someone-else'), undefined, first.token));
    assert.ok(!sessions.checkCsrf(visitor, undefined, undefined));
  });
});
