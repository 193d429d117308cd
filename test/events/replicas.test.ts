// Two berth replicas on one PostgreSQL database (and one storage directory), two endpoints: every
// event, whichever replica recorded it, reaches each endpoint exactly once. Then a replica is
// killed (SIGKILL) with undelivered events of its own while the endpoints are down: the other
// replica takes the endpoints over when their leases expire and delivers those events, once each.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { pushImage, OCI_MANIFEST } from '../http/harness.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import type { RegistryEvent } from '../../src/events/types.ts';

function countIds(events: RegistryEvent[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) m.set(e.id, (m.get(e.id) ?? 0) + 1);
  return m;
}

describe('notifications with two replicas on PostgreSQL', { skip: postgresSkip(), timeout: 300_000 }, () => {
  let pg: PostgresServer;
  let dir: { path: string; cleanup(): Promise<void> };
  let r1: Receiver;
  let r2: Receiver;
  let a: RunningServer | undefined;
  let b: RunningServer | undefined;

  before(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase('events_replicas');
    dir = await tempDir('events-replicas');
    [r1, r2] = await Promise.all([startReceiver(), startReceiver()]);
    const configYaml = [
      'http: {secret: replicas-share-this-secret}',
      'notifications:',
      '  endpoints:',
      `    - {name: one, url: ${r1.url}, threshold: 2, backoff: 100ms}`,
      `    - {name: two, url: ${r2.url}, threshold: 2, backoff: 100ms}`,
      'berth:',
      '  notifications: {maxbackoff: 500ms}',
      '  metadata:',
      '    driver: postgres',
      `    postgres: {url: "${url}"}`,
    ].join('\n');
    a = await startBerth({ configYaml, root: dir.path, startTimeoutMs: 60_000 });
    b = await startBerth({ configYaml, root: dir.path, startTimeoutMs: 60_000 });
  });

  after(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await Promise.allSettled([r1?.stop(), r2?.stop()]);
    await pg?.stop();
    await dir?.cleanup();
  });

  it('each endpoint gets every event once, whichever replica recorded it', async () => {
    const img = await pushImage(a!.url, 'rep/app', 'v1');
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${b!.url}/v2/rep/app/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    let res = await fetch(`${b!.url}/v2/rep/copy/blobs/uploads/?mount=${img.layer}&from=rep/app`, { method: 'POST' });
    assert.equal(res.status, 201);
    res = await fetch(`${a!.url}/v2/rep/app/manifests/v1`, { method: 'DELETE' });
    assert.equal(res.status, 202);
    const expected = 3 + 2 + 1 + 1;
    for (const r of [r1, r2]) {
      const got = await r.waitFor((ev) => countIds(ev).size >= expected, 30_000, `${expected} events`);
      const counts = countIds(got);
      assert.equal(counts.size, expected);
      assert.ok([...counts.values()].every((n) => n === 1), 'no event twice');
      const byReplica = new Set(got.map((e) => e.source.instanceID));
      assert.equal(byReplica.size, 2, 'events of both replicas');
    }
    assert.deepEqual(
      r1.accepted().map((e) => e.id),
      r2.accepted().map((e) => e.id),
      'the same events in the same order at both endpoints',
    );
  });

  it("a killed replica's undelivered events are delivered by the other one", async () => {
    const before1 = r1.accepted().length;
    const before2 = r2.accepted().length;
    await Promise.all([r1.down(), r2.down()]);
    const img = await pushImage(a!.url, 'rep/crash', 'v1');
    await a!.stop('SIGKILL');
    a = undefined;
    await Promise.all([r1.up(), r2.up()]);
    // The killed replica's leases expire after 30 s; then the survivor delivers.
    for (const r of [r1, r2]) {
      const got = await r.waitFor((ev) => [img.config, img.layer, img.digest].every((d) => ev.some((e) => e.target.digest === d)), 60_000, 'the pushes recorded by the killed replica');
      const fresh = got.slice(r === r1 ? before1 : before2);
      const counts = countIds(fresh);
      assert.equal(counts.size, 3);
      assert.ok([...counts.values()].every((n) => n === 1), 'once each: nothing was in flight at the kill');
    }
    const res = await fetch(`${b!.url}/api/v1/notifications/endpoints`);
    const { endpoints } = (await res.json()) as { endpoints: { name: string; backlog: number }[] };
    assert.deepEqual(endpoints.map((e) => [e.name, e.backlog]), [['one', 0], ['two', 0]]);
  });
});
