// The Redis link on its own: a registry that starts before Redis, a wrong password (never shown
// in a log line), close() paying an owed epoch replacement, and redis.addr parsing.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { openRedisCache, parseRedisAddr } from '../../src/cache/open.ts';
import { openSqliteMetadata } from '../../src/metadata/sqlite.ts';
import { freePort } from '../helpers/processes.ts';
import { capturedLog, redisConfig, redisSkip, startRedis, type RedisServer } from './redis-server.ts';
import { startTcpProxy } from './tcp-proxy.ts';
import { digest, image, until } from './fixtures.ts';

describe('the Redis link', { skip: redisSkip() }, () => {
  const servers: RedisServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  it('starts without Redis, serves from the store, and pays for the writes it made once Redis comes', async () => {
    // Through a proxy that is down at first: Redis can then be started and seeded before the
    // link gets through to it.
    const port = await freePort();
    const proxy = await startTcpProxy(port);
    await proxy.cut();
    const logs = capturedLog('info');
    const started = Date.now();
    const { metadata: store, link } = await openRedisCache(redisConfig(`127.0.0.1:${proxy.port}`, { dialTimeoutMs: 300 }), await openSqliteMetadata(':memory:'), logs.log);
    assert.ok(Date.now() - started < 2000, 'opening waits at most about dialtimeout');
    try {
      const cfg = digest();
      await store.linkBlob('l/repo', cfg, 3);
      assert.deepEqual(await store.putManifest('l/repo', image([cfg]), 'v1'), { missingBlobs: [], missingChildren: [] });
      assert.equal((await store.repositoryBlob('l/repo', cfg))?.size, 3);
      assert.ok(store.stats.bypassed > 0);
      assert.equal(logs.count('warn', 'Redis cache not reachable'), 1);

      const redis = await startRedis({ port });
      servers.push(redis);
      await redis.admin.set('berth:cache:v1:epoch', 'left-by-an-earlier-run');
      await proxy.restore();
      assert.equal(await link.waitUntilUsable(10_000), true);
      // The write made without Redis was owed an invalidation: the epoch was replaced first.
      assert.notEqual(await redis.admin.get('berth:cache:v1:epoch'), 'left-by-an-earlier-run');
      assert.equal(logs.count('info', 'Redis cache available again'), 1);
      await until('an entry to be cached', async () => {
        await store.repositoryBlob('l/repo', cfg);
        return store.stats.hits > 0;
      });
    } finally {
      await store.close();
      await proxy.close();
    }
    assert.equal(logs.count('warn', 'Redis cache'), 1, 'no warning for the close itself');
  });

  it('never logs the password, even when Redis refuses it', async () => {
    const redis = await startRedis({ args: ['--requirepass', 'the-right-one'] });
    servers.push(redis);
    const logs = capturedLog('debug');
    const secret = 'hunter2-not-for-logs';
    const { metadata: store } = await openRedisCache(redisConfig(redis.addr, { password: secret, dialTimeoutMs: 300 }), await openSqliteMetadata(':memory:'), logs.log);
    try {
      assert.equal(await store.repositoryBlob('x/y', digest()), undefined);
      await until('the warning', () => logs.count('warn', 'Redis cache') === 1);
      assert.match(JSON.stringify(logs.lines), /WRONGPASS/);
      assert.doesNotMatch(JSON.stringify(logs.lines), new RegExp(secret));
    } finally {
      await store.close();
    }
  });

  it('connects with the right password', async () => {
    const redis = await startRedis({ args: ['--requirepass', 's3cret'] });
    servers.push(redis);
    const { metadata: store, link } = await openRedisCache(redisConfig(redis.addr, { password: 's3cret' }), await openSqliteMetadata(':memory:'), capturedLog().log);
    try {
      assert.equal(link.usable, true);
    } finally {
      await store.close();
    }
  });

  it('replaces the epoch on close() when it owes one and Redis is back', async () => {
    const redis = await startRedis();
    servers.push(redis);
    const { metadata: store, link } = await openRedisCache(redisConfig(redis.addr), await openSqliteMetadata(':memory:'), capturedLog().log);
    await redis.admin.set('berth:cache:v1:epoch', 'before');
    await redis.pause();
    try {
      const cfg = digest();
      await store.linkBlob('c/repo', cfg, 1);
      await store.repositoryBlob('c/repo', cfg); // times out: the link is down
      await until('the link to go down', () => link.state === 'down');
      await store.putManifest('c/repo', image([cfg]), 'v1'); // owes an invalidation
    } finally {
      redis.resume();
    }
    await store.close();
    assert.notEqual(await redis.admin.get('berth:cache:v1:epoch'), 'before');
  });

  it('parses redis.addr as distribution does', () => {
    assert.deepEqual(parseRedisAddr('redis:6380'), { host: 'redis', port: 6380 });
    assert.deepEqual(parseRedisAddr('cache.internal'), { host: 'cache.internal', port: 6379 });
    assert.deepEqual(parseRedisAddr('[::1]:7000'), { host: '::1', port: 7000 });
    assert.throws(() => parseRedisAddr('host:notaport'), /redis\.addr/);
    assert.throws(() => parseRedisAddr(':6379'), /redis\.addr/);
  });
});
