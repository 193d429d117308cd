// Shared by the garbage-collection tests: a registry in a temp dir, its collector, and checks
// that every manifest's blobs are still linked, stored and byte-identical.
import assert from 'node:assert/strict';
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import pino from 'pino';
import { startTestRegistry, OCI_INDEX, OCI_MANIFEST, putManifest, sha256, type TestRegistry } from '../http/harness.ts';
import { GarbageCollector, type GcOptions, type GcReport } from '../../src/lifecycle/gc.ts';
import { createCollector } from '../../src/lifecycle/wiring.ts';
import type { BerthConfig } from '../../src/config/index.ts';

export async function gcRegistry(adjust: (c: BerthConfig) => void = () => {}): Promise<TestRegistry & { gc(o?: Partial<GcOptions>): Promise<GcReport>; collector: GarbageCollector }> {
  const registry = await startTestRegistry((c) => {
    c.berth.lifecycle.gc.enabled = false; // tests run collections themselves
    adjust(c);
  });
  const collector = createCollector(registry.services, pino({ level: 'silent' }));
  return Object.assign(registry, {
    collector,
    gc: (o: Partial<GcOptions> = {}) => collector.run({ trigger: 'cli', delayMs: 0, ...o }),
  });
}

/** Sets every blob's last touch (and link time, manifest push time) far in the past, as if a day went by. */
export function ageEverything(root: string, ms = 24 * 3_600_000): void {
  const db = new BetterSqlite3(join(root, 'berth.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('update blobs set touched_at = touched_at - ?').run(ms);
    db.prepare('update repository_blobs set created_at = created_at - ?').run(ms);
    db.prepare('update manifests set pushed_at = pushed_at - ?').run(ms);
  } finally {
    db.close();
  }
}

export async function status(url: string, method = 'GET'): Promise<number> {
  const res = await fetch(url, { method });
  await res.arrayBuffer();
  return res.status;
}

/** Every blob the manifest at `ref` needs answers 200 with exactly these bytes. */
export async function assertPullable(base: string, repo: string, ref: string): Promise<void> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${ref}`, { headers: { Accept: [OCI_MANIFEST, OCI_INDEX, 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ') } });
  assert.equal(res.status, 200, `manifest ${repo}:${ref}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const m = JSON.parse(bytes.toString()) as { manifests?: { digest: string }[]; config?: { digest: string }; layers?: { digest: string }[] };
  for (const child of m.manifests ?? []) await assertPullable(base, repo, child.digest);
  for (const d of [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)].filter((x): x is string => !!x)) {
    const b = await fetch(`${base}/v2/${repo}/blobs/${d}`);
    assert.equal(b.status, 200, `blob ${d} of ${repo}:${ref}`);
    assert.equal(sha256(Buffer.from(await b.arrayBuffer())), d, `bytes of ${d}`);
  }
}

export async function pushIndex(base: string, repo: string, tag: string, children: { digest: string; size: number }[]): Promise<{ digest: string; bytes: Buffer }> {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((c, i) => ({ mediaType: OCI_MANIFEST, digest: c.digest, size: c.size, platform: { os: 'linux', architecture: i ? 'arm64' : 'amd64' } })),
    }),
  );
  const res = await putManifest(base, repo, tag, bytes, OCI_INDEX);
  assert.equal(res.status, 201, await res.text());
  return { digest: sha256(bytes), bytes };
}
