// Row "scale": tags/list and _catalog pages straight from the metadata stores at fleet size
// (100,000 repositories, 10,000 tags in one repository), on PostgreSQL (replicas) and SQLite
// (embedded). distribution has no database to compare with: its listing rows are in "listing".
import { log } from './client.ts';
import type { Bench } from './context.ts';
import { PAGE_TARGET_MS, runMetadataScale } from './metadata-scale.ts';
import type { Row } from './report.ts';

export const metadataScale: Bench = async (ctx) => {
  const repositories = ctx.quick ? 10_000 : 100_000;
  const tags = ctx.quick ? 2_000 : 10_000;
  ctx.phase('scale');
  const result = await runMetadataScale({ repositories, tags, samples: ctx.quick ? 100 : 300, log });
  const rows: Row[] = [];
  for (const r of result.rows) {
    const paged = !r.case.includes('unpaginated');
    rows.push({
      bench: 'scale',
      metric: `${r.backend} ${r.case} p99 (${repositories.toLocaleString('en-US')} repos, ${tags.toLocaleString('en-US')} tags)`,
      unit: 'ms',
      better: 'lower',
      berth: r.p99,
      target: paged ? `< ${PAGE_TARGET_MS} ms` : undefined,
      verdict: paged ? (r.p99 < PAGE_TARGET_MS ? 'PASS' : 'FAIL') : undefined,
      note: `p50 ${r.p50.toFixed(2)} ms, ${r.rows} rows`,
    });
  }
  for (const [backend, s] of Object.entries(result.fillSeconds)) ctx.note(`scale: ${backend} filled with bulk SQL in ${s!.toFixed(1)} s (not a berth metric)`);
  return rows;
};
