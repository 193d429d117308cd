// Manifest GET by tag, with and without the shared Redis cache, over SQLite and PostgreSQL:
// node --import tsx bench/redis-cache.ts [seconds]. A quick comparison, not part of npm run bench;
// needs wrk and redis-server (and PostgreSQL 15 for the PostgreSQL rows).
import { join } from 'node:path';
import pino from 'pino';
import { defaultConfig, type BerthConfig } from '../src/config/index.ts';
import { startRegistry } from '../src/http/server.ts';
import { OCI_MANIFEST, pushImage } from '../test/http/harness.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { tempDir } from '../test/helpers/processes.ts';
import { redisConfig, startRedis } from '../test/cache/redis-server.ts';
import { wrkLoad } from './loadgen.ts';

const seconds = Number(process.argv[2] ?? 5);
const redis = await startRedis();
const postgres = await startPostgres();
const work = await tempDir('berth-bench-redis');

async function measure(name: string, adjust: (c: BerthConfig) => void): Promise<void> {
  const config = defaultConfig();
  config.http.addr = '127.0.0.1:0';
  config.storage.filesystem.rootdirectory = join(work.path, name.replace(/\W+/g, '-'));
  config.log.accesslog.disabled = true;
  adjust(config);
  const registry = await startRegistry(config, pino({ level: 'silent' }));
  try {
    await pushImage(registry.url, 'bench/repo', 'latest');
    const url = `${registry.url}/v2/bench/repo/manifests/latest`;
    const opts = { url, method: 'GET' as const, headers: { Accept: OCI_MANIFEST }, connections: 32, threads: 1, scriptPath: join(work.path, 'wrk.lua') };
    await wrkLoad({ ...opts, seconds: 1 }); // warm: JIT, pools, cache entries
    const r = await wrkLoad({ ...opts, seconds });
    console.log(`${name.padEnd(22)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  bad ${r.bad}`);
  } finally {
    await registry.close();
  }
}

const withRedis = (c: BerthConfig) => {
  c.storage.cache.blobdescriptor = 'redis';
  c.redis = redisConfig(redis.addr);
};
let db = 0;
const withPostgres = async () => {
  const url = await postgres.createDatabase(`bench${db++}`);
  return (c: BerthConfig) => {
    c.berth.metadata.driver = 'postgres';
    c.berth.metadata.postgres = { url };
  };
};
try {
  for (let round = 1; round <= 2; round++) {
    console.log(`round ${round}, wrk -c32 -t1 -d${seconds}s, manifest GET by tag`);
    await measure('sqlite', () => {});
    await measure('sqlite + redis', withRedis);
    const pg1 = await withPostgres();
    await measure('postgres', pg1);
    const pg2 = await withPostgres();
    await measure('postgres + redis', (c) => (pg2(c), withRedis(c)));
    await redis.admin.flushall();
  }
} finally {
  await redis.stop();
  await postgres.stop();
  await work.cleanup();
}
