// Result rows and their rendering: a fixed-width table for the terminal and a Markdown file.

export type Verdict = 'PASS' | 'FAIL' | 'n/a';

export interface Row {
  /** Which benchmark produced it (the --only name). */
  bench: string;
  metric: string;
  unit: string;
  better: 'higher' | 'lower';
  distribution?: number;
  berth?: number;
  /** Reference value (nginx, or the client's own ceiling) when there is one. */
  reference?: number;
  referenceName?: string;
  /** Human-readable target, e.g. ">= 2x distribution". */
  target?: string;
  verdict?: Verdict;
  note?: string;
  /** Details that do not fit one row (e.g. a curve over client counts), printed after the main table. */
  table?: Table;
}

export interface Table {
  title: string;
  head: string[];
  rows: string[][];
  /** Indexes of columns holding numbers (right-aligned). */
  numeric?: number[];
}

export interface Report {
  started: string;
  finished: string;
  durationSec: number;
  quick: boolean;
  berthMode: string;
  host: { cpus: number; memGiB: number; node: string; kernel: string };
  sizes: Record<string, number | string>;
  /** Average cores used by processes outside the benchmark, per benchmark. */
  foreignLoad: Record<string, number>;
  rows: Row[];
  notes: string[];
  errors: string[];
}

/** berth relative to distribution: how many times better (>1 = berth is better). */
export function ratio(row: Row): number | undefined {
  if (row.berth === undefined || row.distribution === undefined || !row.berth || !row.distribution) return undefined;
  return row.better === 'higher' ? row.berth / row.distribution : row.distribution / row.berth;
}

export function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  const a = Math.abs(v);
  if (a >= 10_000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function cells(r: Row): string[] {
  const q = ratio(r);
  return [
    r.bench,
    `${r.metric} (${r.unit})`,
    fmt(r.distribution),
    fmt(r.berth),
    q === undefined ? '-' : `${q.toFixed(2)}x`,
    r.reference === undefined ? '-' : `${fmt(r.reference)} ${r.referenceName ?? ''}`.trim(),
    r.target ?? '',
    r.verdict ?? '',
  ];
}

const HEAD = ['bench', 'metric', 'distribution', 'berth', 'berth vs dist', 'reference', 'target', 'result'];

export function renderText(rep: Report): string {
  const rows = rep.rows.map(cells);
  const w = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i >= 2 && i <= 4 ? x.padStart(w[i]) : x.padEnd(w[i]))).join('  ').trimEnd();
  const out = [line(HEAD), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)];
  const pass = rep.rows.filter((r) => r.verdict === 'PASS').length;
  const fail = rep.rows.filter((r) => r.verdict === 'FAIL');
  out.push('');
  out.push(`targets: ${pass} PASS, ${fail.length} FAIL${fail.length ? ' <<< ' + fail.map((r) => `${r.bench}/${r.metric}`).join(', ') : ''}`);
  out.push('("berth vs dist" is how many times better berth is: higher-is-better metrics berth/dist, lower-is-better dist/berth)');
  for (const t of rep.rows.flatMap((r) => (r.table ? [r.table] : []))) out.push('', t.title, ...textTable(t));
  for (const n of rep.notes) out.push(`note: ${n}`);
  for (const r of rep.rows) if (r.note) out.push(`note (${r.bench} ${r.metric}): ${r.note}`);
  for (const e of rep.errors) out.push(`ERROR: ${e}`);
  return out.join('\n') + '\n';
}

function textTable(t: Table): string[] {
  const num = new Set(t.numeric ?? []);
  const w = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((x, i) => (num.has(i) ? x.padStart(w[i]) : x.padEnd(w[i]))).join('  ').trimEnd();
  return [line(t.head), w.map((n) => '-'.repeat(n)).join('  '), ...t.rows.map(line)];
}

export function renderMarkdown(rep: Report): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [
    '# berth benchmark: latest run',
    '',
    `Run ${rep.started} .. ${rep.finished} (${Math.round(rep.durationSec)} s), ${rep.quick ? '`--quick`' : 'full size'}, berth ${rep.berthMode}.`,
    `Host: ${rep.host.cpus} CPUs, ${rep.host.memGiB} GiB, Node ${rep.host.node}, Linux ${rep.host.kernel}.`,
    `Sizes: ${Object.entries(rep.sizes)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}.`,
    `CPU used by other processes meanwhile (average cores): ${
      Object.entries(rep.foreignLoad)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '-'
    }.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map((_, i) => (i >= 2 && i <= 4 ? '---:' : '---')).join('|')}|`,
    ...rep.rows.map((r) => `| ${cells(r).map((c, i) => (i === 7 && c === 'FAIL' ? '**FAIL**' : esc(c))).join(' | ')} |`),
    '',
    '"berth vs dist" is how many times better berth is (berth/dist for higher-is-better metrics, dist/berth for lower-is-better).',
    '',
  ];
  for (const t of rep.rows.flatMap((r) => (r.table ? [r.table] : []))) {
    const num = new Set(t.numeric ?? []);
    out.push(`### ${t.title}`, '', `| ${t.head.map(esc).join(' | ')} |`, `|${t.head.map((_, i) => (num.has(i) ? '---:' : '---')).join('|')}|`);
    out.push(...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`), '');
  }
  const notes = [...rep.notes, ...rep.rows.filter((r) => r.note).map((r) => `${r.bench} ${r.metric}: ${r.note}`)];
  if (notes.length) out.push('Notes:', '', ...notes.map((n) => `- ${esc(n)}`), '');
  if (rep.errors.length) out.push('Errors:', '', ...rep.errors.map((e) => `- ${'`'}${e.replace(/`/g, "'").slice(0, 800)}${'`'}`), '');
  return out.join('\n');
}

/** PASS/FAIL for "berth >= k x distribution" on a higher-is-better row (n/a when a side is missing). */
export function atLeast(row: Row, k: number): Verdict {
  if (row.berth === undefined || row.distribution === undefined) return 'n/a';
  return row.berth >= k * row.distribution ? 'PASS' : 'FAIL';
}

/** PASS/FAIL for "berth strictly below distribution" on a lower-is-better row. */
export function lower(row: Row): Verdict {
  if (row.berth === undefined || row.distribution === undefined) return 'n/a';
  return row.berth < row.distribution ? 'PASS' : 'FAIL';
}
