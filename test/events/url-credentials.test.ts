// An endpoint URL with user information (https://user:password@hooks.example.com/registry), as
// registry:2 configurations have it for receivers behind Basic authentication: distribution's Go
// HTTP client turns the user information into an Authorization header. Node's fetch refuses such
// a URL outright, so every attempt failed and the events ended in the dead-letter list.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.ts';
import { pushBlob, startTestRegistry, type TestRegistry } from '../http/harness.ts';
import { startReceiver, type Receiver } from './receiver.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('notifications: an endpoint URL with user information', { timeout: 60_000 }, () => {
  let r: Receiver;
  let reg: TestRegistry;

  before(async () => {
    r = await startReceiver();
    const withUser = r.url.replace('http://', 'http://hook-user:s%40cret%3A1@');
    const { config } = loadConfig({
      text: `version: 0.1
notifications:
  endpoints:
    - {name: userinfo, url: "${withUser}", timeout: 2s}
    - {name: own-header, url: "${withUser}?which=own", headers: {Authorization: [Bearer configured]}, timeout: 2s}
`,
      env: {},
    });
    reg = await startTestRegistry((cfg) => {
      cfg.notifications = config.notifications;
    });
  });

  after(async () => {
    await reg?.stop();
    await r?.stop();
  });

  it('is POSTed to without the user information, which becomes Basic credentials (unless headers has Authorization)', async () => {
    const digest = await pushBlob(reg.url, 'creds/app', Buffer.from('an event for a receiver behind Basic auth'));
    await r.waitFor((events) => events.filter((e) => e.action === 'push' && e.target.digest === digest).length === 2, 15_000, 'both endpoints got the push');
    const got = r.requests.filter((q) => q.events.some((e) => e.target.digest === digest));
    const own = got.find((q) => q.path.includes('which=own'));
    const plain = got.find((q) => !q.path.includes('which=own'));
    // Percent-escapes in the user information are decoded, as Go's url.UserPassword does.
    assert.equal(plain?.headers.authorization, basic('hook-user', 's@cret:1'));
    // A configured Authorization header wins, as in Go's client.
    assert.equal(own?.headers.authorization, 'Bearer configured');
  });
});
