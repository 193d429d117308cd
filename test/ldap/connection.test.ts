// LdapConnection (src/auth/ldap/connection.ts) against servers that misbehave on purpose, where the
// real slapd of the other tests cannot: a connection the directory drops between operations.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { LdapConnection } from '../../src/auth/ldap/connection.ts';
import { AuthBackendError } from '../../src/auth/types.ts';

describe('LdapConnection', () => {
  it('a connection the directory dropped fails the next operation at once, without connecting again', async () => {
    let accepted = 0;
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      accepted++;
      sockets.push(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const conn = await LdapConnection.open({ url: `ldap://127.0.0.1:${port}`, startTls: false, tls: {}, connectTimeoutMs: 1000, timeoutMs: 3000 });
      // The directory (or a firewall) drops it, as idle connections are.
      while (sockets.length === 0) await new Promise((r) => setTimeout(r, 5));
      sockets[0]!.destroy();
      await new Promise((r) => setTimeout(r, 50));
      const t = performance.now();
      await assert.rejects(conn.bind('cn=x', 'secret-pw'), (e: unknown) => e instanceof AuthBackendError && /bind failed/.test(e.message) && !e.message.includes('secret-pw'));
      assert.ok(performance.now() - t < 1000, 'not the 3 s operation timeout');
      assert.equal(accepted, 1, 'no second connection');
      conn.close();
    } finally {
      server.close();
    }
  });

  it('so does one dropped after a successful bind: ldapts does not reconnect behind our back', async () => {
    let accepted = 0;
    const sockets: Socket[] = [];
    // Answers every request with a successful BindResponse to message id 2, ldapts' first id.
    const BIND_OK = Buffer.from('300c02010261070a010004000400', 'hex');
    const server = createServer((s) => {
      accepted++;
      sockets.push(s);
      s.on('data', () => s.write(BIND_OK));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const conn = await LdapConnection.open({ url: `ldap://127.0.0.1:${port}`, startTls: false, tls: {}, connectTimeoutMs: 1000, timeoutMs: 3000 });
      await conn.bind('cn=service', 'pw');
      sockets[0]!.destroy();
      await new Promise((r) => setTimeout(r, 50));
      const t = performance.now();
      await assert.rejects(conn.bind('cn=x', 'pw'), (e: unknown) => e instanceof AuthBackendError && /bind failed: .*lost/.test(e.message));
      assert.ok(performance.now() - t < 1000, 'not the 3 s operation timeout');
      assert.equal(accepted, 1, 'no second connection');
      conn.close();
    } finally {
      server.close();
    }
  });
});
