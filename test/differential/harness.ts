// Differential harness: the same raw HTTP conversation is held with docker-registry (CNCF
// Distribution 2.8.2, the reference) and with berth, and the observable answers are compared.
// Only what a client can rely on is compared (status, key headers in normalised form, error
// codes, body digests); wording of error messages, Date, upload ids and _state tokens are not.
// DIFF_SELF_CHECK=1 runs distribution on both sides: the harness itself must then see no difference.
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { hasCommand, startBerth, startDistribution, type RunningServer } from '../helpers/processes.ts';
import { EXPECTED_DIFFERENCES, type ExpectedDifference } from './expected-differences.ts';

export const selfCheck = process.env.DIFF_SELF_CHECK === '1';

/** `describe` options: the reference registry is a Debian package CI installs; skip only without it. */
export const needsDistribution = {
  skip: !hasCommand('docker-registry') && 'docker-registry (CNCF Distribution, Debian package docker-registry) is not installed',
};

export interface Pair {
  distribution: RunningServer;
  berth: RunningServer;
  stop(): Promise<void>;
}

export async function startPair(): Promise<Pair> {
  const distribution = await startDistribution({ deleteEnabled: true });
  let berth: RunningServer;
  try {
    berth = await (selfCheck ? startDistribution : startBerth)({ deleteEnabled: true });
  } catch (e) {
    await distribution.stop();
    throw e;
  }
  return { distribution, berth, stop: async () => void (await Promise.all([distribution.stop(), berth.stop()])) };
}

export interface Req {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** A Buffer is sent with Content-Length; an array of Buffers is streamed chunked (no length). */
  body?: Buffer | string | Buffer[];
}

export interface Res {
  status: number;
  headers: Record<string, string | undefined>;
  body: Buffer;
  json(): any;
}

/** One raw HTTP exchange over node:http (no client library, no redirects followed, no keep-alive). */
export function send(server: RunningServer, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    let body: Buffer | Buffer[] | undefined;
    if (typeof req.body === 'string') body = Buffer.from(req.body);
    else body = req.body;
    if (Buffer.isBuffer(body)) headers['Content-Length'] ??= String(body.length);
    const r = request(
      { host: '127.0.0.1', port: server.port, method: req.method, path: req.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          const buf = Buffer.concat(chunks);
          const h: Record<string, string | undefined> = {};
          for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers: h, body: buf, json: () => JSON.parse(buf.toString('utf8')) });
        };
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', finish);
        // Go's 416 announces the full blob length but sends a short text body and closes: keep
        // what arrived rather than failing the exchange.
        res.on('error', finish);
        res.on('close', finish);
      },
    );
    r.setTimeout(15_000, () => r.destroy(new Error(`timeout: ${req.method} ${req.path}`)));
    r.on('error', reject);
    if (Array.isArray(body)) {
      // Chunked transfer: what a client streaming a blob of unknown length sends.
      for (const c of body) r.write(c);
      r.end();
    } else r.end(body);
  });
}

export const digestOf = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Upload ids (UUIDs for distribution, opaque for berth) in paths become <id>. */
const normaliseUploadPath = (p: string) => p.replace(/(\/blobs\/uploads\/)[^/?#]+/, '$1<id>');

/** Location/Link URLs: host dropped (absolute vs relative is not compared), query decoded and sorted, _state dropped. */
function normaliseUrl(value: string): string {
  const u = new URL(value, 'http://host.invalid');
  const params = [...u.searchParams.entries()].filter(([k]) => k !== '_state').sort(([a], [b]) => a.localeCompare(b));
  const q = params.map(([k, v]) => `${k}=${v}`).join('&');
  return normaliseUploadPath(u.pathname) + (q ? `?${q}` : '');
}

const isError = (status: number) => status >= 400;

/** The observable, comparable part of a response. Keys are `status`, `errors`, `body`, `header:<name>`. */
export function observe(res: Res, method: string): Record<string, string> {
  const o: Record<string, string> = { status: String(res.status) };
  const h = res.headers;
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined) o[`header:${name}`] = value;
  };
  put('docker-distribution-api-version', h['docker-distribution-api-version']);
  put('docker-content-digest', h['docker-content-digest']);
  // Parameters (charset) carry nothing a registry client uses.
  put('content-type', h['content-type']?.split(';')[0].trim().toLowerCase());
  put('content-length', normaliseLength(res, method));
  put('location', h['location'] === undefined ? undefined : normaliseUrl(h['location']));
  put('range', h['range']);
  put('content-range', h['content-range']);
  put('docker-upload-uuid', h['docker-upload-uuid'] === undefined ? undefined : '<present>');
  put('etag', h['etag']);
  put('link', h['link']?.replace(/<([^>]*)>/, (_, url: string) => `<${normaliseUrl(url)}>`));
  put('oci-subject', h['oci-subject']);
  put('oci-filters-applied', h['oci-filters-applied']);
  if (isError(res.status)) {
    try {
      const codes = (res.json().errors as { code: string }[]).map((e) => e.code);
      o.errors = codes.join(',');
    } catch {
      o.errors = res.body.length ? '<not a JSON error body>' : '<empty body>';
    }
  } else if (method !== 'HEAD' && res.body.length) {
    o.body = isJson(h['content-type']) && res.body.length < 4096 ? canonicalJson(res.body) : digestOf(res.body);
  }
  return o;
}

/**
 * Error bodies are free text and JSON bodies differ in whitespace (Go adds a newline), so for
 * those only "the length is the body's length" is compared; for blobs, manifests, empty bodies
 * and HEAD the exact value is.
 */
function normaliseLength(res: Res, method: string): string | undefined {
  const value = res.headers['content-length'];
  if (value === undefined) return undefined;
  if (isError(res.status)) return '<present>';
  if (method !== 'HEAD' && res.body.length > 0 && isJson(res.headers['content-type'])) {
    return Number(value) === res.body.length ? '<length of body>' : `<${value}, but the body has ${res.body.length}>`;
  }
  return value;
}

const isJson = (ct?: string) => !!ct && /json/.test(ct) && !/manifest|index/.test(ct);
function canonicalJson(b: Buffer): string {
  try {
    const v = JSON.parse(b.toString('utf8'));
    // Distribution 2.8 lists tags in directory order, not the lexical order the spec asks for;
    // comparing sorted copies keeps the order question out of every tag-list comparison.
    if (v && Array.isArray(v.tags)) v.tags = [...v.tags].sort();
    return JSON.stringify(v);
  } catch {
    return digestOf(b);
  }
}

export interface Step {
  id: string; // scenario/step, unique
  req: Req;
  obs: Record<string, string>;
}

/**
 * What a scenario sees: `call` sends a request to the server under test, records its observation
 * under `id`, and returns the response so later steps can follow Location etc.
 */
export class Recorder {
  readonly steps: Step[] = [];
  constructor(readonly server: RunningServer, readonly scenario: string) {}
  async call(id: string, req: Req): Promise<Res> {
    const res = await send(this.server, req);
    this.steps.push({ id: `${this.scenario}/${id}`, req, obs: observe(res, req.method) });
    return res;
  }
}

export interface Difference {
  step: string;
  field: string;
  distribution: string | undefined;
  berth: string | undefined;
  request: string;
}

export type Scenario = (r: Recorder) => Promise<void>;

/** Runs `scenario` against both servers (distribution first) and returns every field that differs. */
export async function differences(pair: Pair, name: string, scenario: Scenario): Promise<Difference[]> {
  const d = new Recorder(pair.distribution, name);
  const b = new Recorder(pair.berth, name);
  const failures: string[] = [];
  for (const r of [d, b]) {
    try {
      await scenario(r);
    } catch (e) {
      // A scenario that cannot continue (e.g. no Location) is itself a difference, with context.
      failures.push(`${r === d ? 'distribution' : 'berth'}: ${(e as Error).stack ?? e}`);
    }
  }
  if (process.env.DIFF_DUMP === '1') {
    // Debug aid: every observation of both sides, to see what the registries actually said.
    for (const s of d.steps) console.error(`[distribution] ${s.id} ${s.req.method} ${s.req.path} ${JSON.stringify(s.obs)}`);
    for (const s of b.steps) console.error(`[berth] ${s.id} ${s.req.method} ${s.req.path} ${JSON.stringify(s.obs)}`);
  }
  const out: Difference[] = [];
  const ids = [...new Set([...d.steps, ...b.steps].map((s) => s.id))];
  for (const id of ids) {
    const ds = d.steps.find((s) => s.id === id);
    const bs = b.steps.find((s) => s.id === id);
    const fields = new Set([...Object.keys(ds?.obs ?? {}), ...Object.keys(bs?.obs ?? {})]);
    const req = (ds ?? bs)!.req;
    for (const f of fields) {
      if (ds?.obs[f] !== bs?.obs[f]) {
        out.push({ step: id, field: f, distribution: ds?.obs[f], berth: bs?.obs[f], request: `${req.method} ${normaliseUrl(req.path)}` });
      }
    }
  }
  if (failures.length) out.push({ step: `${name}/<scenario>`, field: 'exception', distribution: failures.find((f) => f.startsWith('distribution')), berth: failures.find((f) => f.startsWith('berth')), request: '-' });
  return out;
}

const matches = (want: string | RegExp | undefined, got: string | undefined) =>
  want instanceof RegExp ? got !== undefined && want.test(got) : want === got;

/**
 * Fails unless the differences are exactly the expected ones for this scenario: an unlisted
 * difference is a berth bug (or an undocumented deviation), a listed one that did not happen
 * means the table is stale.
 */
export function assertOnlyExpected(scenario: string, diffs: Difference[]): void {
  const expected = selfCheck ? [] : EXPECTED_DIFFERENCES.filter((e) => e.step.startsWith(`${scenario}/`));
  const seen = (e: ExpectedDifference) => diffs.some((d) => isThis(e, d));
  // A listed status difference that happened may cover the rest of its step (see coversStep).
  const covered = (d: Difference) =>
    expected.some((e) => isThis(e, d) || (e.coversStep && e.step === d.step && seen(e)));
  const unexpected = diffs.filter((d) => !covered(d));
  const missing = expected.filter((e) => !seen(e));
  // One block per step: the request, then `field: distribution | berth` for each difference.
  const bySteps = new Map<string, Difference[]>();
  for (const d of unexpected) bySteps.set(d.step, [...(bySteps.get(d.step) ?? []), d]);
  const lines = [
    ...[...bySteps].map(
      ([step, ds]) =>
        `UNEXPECTED ${step}: ${ds[0].request}   (distribution | berth)\n` +
        ds.map((d) => `    ${d.field}: ${d.distribution ?? '<absent>'} | ${d.berth ?? '<absent>'}`).join('\n'),
    ),
    ...missing.map((e) => `EXPECTED DIFFERENCE NOT SEEN ${e.step} [${e.field}] (${e.reason})`),
  ];
  assert.ok(lines.length === 0, `berth and distribution differ in ${scenario}:\n${lines.join('\n')}`);
}

function isThis(e: ExpectedDifference, d: Difference): boolean {
  return e.step === d.step && e.field === d.field && matches(e.distribution, d.distribution) && matches(e.berth, d.berth);
}

/** Runs a scenario on both registries and fails on any difference not in the expected table. */
export async function compare(pair: Pair, name: string, scenario: Scenario): Promise<void> {
  const diffs = await differences(pair, name, scenario);
  assertOnlyExpected(name, diffs);
}

/** Adds query parameters to a (possibly absolute) Location, keeping the server's own (e.g. _state). */
export function withQuery(location: string | undefined, params: Record<string, string>): string {
  if (!location) throw new Error('response had no Location header');
  const u = new URL(location, 'http://host.invalid');
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.pathname + u.search;
}

/** POST + PUT ?digest (the upload every registry supports; 2.8 ignores POST ?digest=), recorded as two steps. */
export async function pushBlob(r: Recorder, id: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  const started = await r.call(`${id}-post`, { method: 'POST', path: `/v2/${repo}/blobs/uploads/` });
  await r.call(`${id}-put`, {
    method: 'PUT',
    path: withQuery(started.headers.location, { digest }),
    headers: { 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  return digest;
}
