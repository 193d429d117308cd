// The backends of a replicated berth, started together on loopback: Ceph's RADOS Gateway (S3) with
// a bucket, PostgreSQL with a database, Redis; plus the config.yml lines that point berth at them.
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { cephS3Client, startCeph, type CephCluster } from './ceph.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';
import { startRedis, type RedisServer } from '../cache/redis-server.ts';

export interface ReplicaBackends {
  ceph: CephCluster;
  postgres: PostgresServer;
  redis: RedisServer;
  /** An S3 client on the gateway (cephS3Client). */
  s3: S3Client;
  /** storage.s3 + storage.cache + redis + http.secret + berth.metadata, without `version:`. */
  configYaml: string;
  stop(): Promise<void>;
}

export async function startReplicaBackends(bucket: string, database: string): Promise<ReplicaBackends> {
  const [ceph, postgres, redis] = await Promise.all([startCeph(), startPostgres(), startRedis()]);
  const s3 = cephS3Client(ceph);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const url = await postgres.createDatabase(database);
  const configYaml = [
    'storage:',
    '  s3:',
    `    accesskey: ${ceph.accessKey}`,
    `    secretkey: ${ceph.secretKey}`,
    `    region: ${ceph.region}`,
    `    regionendpoint: ${ceph.endpoint}`,
    `    bucket: ${bucket}`,
    '    rootdirectory: /registry',
    '  cache:',
    '    blobdescriptor: redis',
    'redis:',
    `  addr: ${redis.addr}`,
    'http:',
    '  secret: replicas-share-this-secret',
    'berth:',
    '  metadata:',
    '    driver: postgres',
    '    postgres:',
    `      url: ${url}`,
  ].join('\n');
  return {
    ceph,
    postgres,
    redis,
    s3,
    configYaml,
    async stop() {
      s3.destroy();
      await Promise.allSettled([ceph.stop(), postgres.stop(), redis.stop()]);
    },
  };
}
