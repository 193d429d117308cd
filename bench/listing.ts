// Row 5: `_catalog` and tags/list with many repositories. Both registries are populated through the
// API: one seed repository gets a tiny image's config and layer; every other repository mounts both
// from it (POST ?mount=&from=) and PUTs the same manifest under tag `v1`, with bounded concurrency.
import { performance } from 'node:perf_hooks';
import { log, median, mountBlob, percentile, pool, pushTinyImage, putManifest, tinyImage } from './client.ts';
import { TARGETS, type Bench, type Target } from './context.ts';
import type { Row, Verdict } from './report.ts';

const PREFIX = 'list/r';
const MANY = 'list/many-tags';
const CONCURRENCY = 16;
const WALK_LIMIT_MS = 180_000;

const repoName = (i: number) => `${PREFIX}${String(i).padStart(5, '0')}`;

async function populate(base: string, repos: number, manyTags: number): Promise<{ seconds: number; refusedMounts: number }> {
  const img = tinyImage();
  const t0 = performance.now();
  await pushTinyImage(base, repoName(0), 'v1', img);
  const from = repoName(0);
  let refusedMounts = 0;
  const one = async (repo: string, tags: string[]) => {
    if (!(await mountBlob(base, repo, img.configDigest, from, img.config))) refusedMounts++;
    if (!(await mountBlob(base, repo, img.layerDigest, from, img.layer))) refusedMounts++;
    for (const tag of tags) await putManifest(base, repo, tag, img.manifest);
  };
  let done = 0;
  await pool(
    (function* () {
      for (let i = 1; i < repos; i++) yield i;
    })(),
    CONCURRENCY,
    async (i) => {
      await one(repoName(i), ['v1']);
      if (++done % 2000 === 0) log(`  ${done} repos`);
    },
  );
  await one(MANY, []);
  const tags = Array.from({ length: manyTags }, (_, i) => `t${String(i).padStart(5, '0')}`);
  await pool(tags, CONCURRENCY, (tag) => putManifest(base, MANY, tag, img.manifest));
  return { seconds: (performance.now() - t0) / 1000, refusedMounts };
}

async function getJson(url: string): Promise<{ body: any; next?: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const link = res.headers.get('link');
  const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  return { body: JSON.parse(text), next: m ? new URL(m[1], url).toString() : undefined, ms };
}

/** Follows Link: rel="next" from `first`; returns seconds, page count and the names seen. */
async function walk(first: string): Promise<{ seconds: number; pages: number; names: string[] }> {
  const t0 = performance.now();
  const names: string[] = [];
  let url: string | undefined = first;
  let pages = 0;
  while (url) {
    const r = await getJson(url);
    pages++;
    names.push(...(r.body.repositories ?? []));
    url = r.next;
    if (performance.now() - t0 > WALK_LIMIT_MS) throw new Error(`catalog walk from ${first} exceeded ${WALK_LIMIT_MS / 1000} s after ${pages} pages`);
  }
  return { seconds: (performance.now() - t0) / 1000, pages, names };
}

function checkWalk(t: string, what: string, names: string[], repos: number): string | undefined {
  const listed = names.filter((n) => n.startsWith(PREFIX)).length;
  if (listed !== repos) return `${t} ${what}: listed ${listed} of ${repos} bench repositories (${names.length} names in all)`;
  if (new Set(names).size !== names.length) return `${t} ${what}: duplicate names across pages`;
  for (let i = 1; i < names.length; i++) if (names[i - 1] >= names[i]) return `${t} ${what}: names out of order at ${names[i]}`;
  return undefined;
}

async function latency(url: string, n: number): Promise<{ p50: number; p99: number }> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push((await getJson(url)).ms);
  return { p50: percentile(xs, 50), p99: percentile(xs, 99) };
}

export const listing: Bench = async (ctx) => {
  const { repos, manyTags, reps } = ctx.sizes;
  const v: Record<string, Partial<Record<Target, number>>> = {};
  const notes: Record<string, string[]> = {};
  const set = (k: string, t: Target, x: number) => ((v[k] ??= {})[t] = x);
  for (const t of TARGETS) {
    const s = ctx.servers[t];
    if (!s) continue;
    try {
      ctx.phase('listing-populate');
      log(`listing: populating ${t} with ${repos} repositories (API, mounts, concurrency ${CONCURRENCY})`);
      const p = await populate(s.url, repos, manyTags);
      set('populate', t, p.seconds);
      if (p.refusedMounts) ctx.error(`listing ${t}: ${p.refusedMounts} cross-repository mounts answered 202 instead of 201 (uploaded instead)`);
      log(`listing: ${t} populated in ${v.populate[t]!.toFixed(1)} s`);
      ctx.phase('listing-query');
      const w: number[] = [];
      for (let i = 0; i < reps; i++) {
        const r = await walk(`${s.url}/v2/_catalog?n=1000`);
        const bad = checkWalk(t, 'walk n=1000', r.names, repos);
        if (bad) ctx.error(bad);
        w.push(r.seconds);
        log(`listing: ${t} catalog walk n=1000: ${r.pages} pages, ${r.seconds.toFixed(3)} s`);
      }
      set('walk1000', t, median(w));
      try {
        const d = await walk(`${s.url}/v2/_catalog`);
        const bad = checkWalk(t, 'walk default page', d.names, repos);
        if (bad) ctx.error(bad);
        set('walkDefault', t, d.seconds);
        (notes.walkDefault ??= []).push(`${t}: ${d.pages} pages`);
        log(`listing: ${t} catalog walk default page: ${d.pages} pages, ${d.seconds.toFixed(3)} s`);
      } catch (e) {
        ctx.error(`listing ${t} default-page walk: ${(e as Error).message}`);
      }
      const pages: [string, string][] = [
        ['first', `${s.url}/v2/_catalog?n=100`],
        ['middle', `${s.url}/v2/_catalog?n=100&last=${encodeURIComponent(repoName(Math.floor(repos / 2)))}`],
        ['tags1', `${s.url}/v2/${repoName(Math.floor(repos / 2))}/tags/list`],
        ['tagsMany', `${s.url}/v2/${MANY}/tags/list`],
      ];
      for (const [k, url] of pages) {
        const l = await latency(url, k === 'middle' || k === 'first' ? 50 : 200);
        set(k, t, l.p50);
        (notes[k] ??= []).push(`${t} p99 ${l.p99.toFixed(2)} ms`);
      }
      const many = (await getJson(`${s.url}/v2/${MANY}/tags/list`)).body.tags?.length ?? 0;
      if (many !== manyTags) (notes.tagsMany ??= []).push(`${t} returned ${many} of ${manyTags} tags without n`);
    } catch (e) {
      ctx.error(`listing ${t}: ${(e as Error).message}`);
    }
  }
  const row = (k: string, metric: string, unit: string, target?: string, verdict?: Verdict): Row => ({
    bench: 'listing',
    metric,
    unit,
    better: 'lower',
    distribution: v[k]?.distribution,
    berth: v[k]?.berth,
    target,
    verdict,
    note: notes[k]?.join('; '),
  });
  const walkRow = row('walk1000', `_catalog full walk n=1000, ${repos} repos`, 's', '< 0.5x dist');
  walkRow.verdict =
    walkRow.berth === undefined || walkRow.distribution === undefined
      ? 'n/a'
      : repos < 2000
        ? 'n/a'
        : walkRow.berth < 0.5 * walkRow.distribution
          ? 'PASS'
          : 'FAIL';
  if (repos < 2000) walkRow.note = 'target applies at 2,000+ repositories only';
  return [
    row('populate', `populate ${repos} repos via API (c=${CONCURRENCY})`, 's'),
    walkRow,
    row('walkDefault', '_catalog full walk, default page', 's'),
    row('first', '_catalog?n=100 first page p50', 'ms'),
    row('middle', '_catalog?n=100 middle page p50', 'ms'),
    row('tags1', 'tags/list (1 tag) p50', 'ms'),
    row('tagsMany', `tags/list (${manyTags} tags) p50`, 'ms'),
  ];
};
