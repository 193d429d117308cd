// Part of the manifest row (manifest-load.ts): what the server-side pull policy costs a manifest
// GET (issue 12: no more than 20% below the same run without one). berth only, on the same server
// and in the same run: `bench/signed` gets a cosign policy through the admin API and a cosign
// signature (the sha256-<hex>.sig tag), then GET by tag is loaded alternately on `bench/manifest`
// (no policy applies) and on `bench/signed` (the policy verifies, from its verdict cache), twice
// each, so that drift on a busy machine hits both. The policy is removed afterwards.
import { generateKeyPairSync } from 'node:crypto';
import { log, pushTinyImage, tinyImage } from './client.ts';
import type { Ctx } from './context.ts';
import { nodeLoad, type LoadResult } from './loadgen.ts';
import type { Row } from './report.ts';
import { cosignSign } from '../test/trust/policy-fixtures.ts';

const SIGNED = 'bench/signed';

export async function manifestPolicyRows(ctx: Ctx, plainRepo: string, accept: string): Promise<Row[]> {
  const s = ctx.servers.berth;
  if (!s) return [];
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const policyUrl = `${s.url}/api/v1/trust/policies/${SIGNED}`;
  try {
    const img = tinyImage();
    await pushTinyImage(s.url, SIGNED, 'latest', img);
    const unsignedImg = tinyImage();
    await pushTinyImage(s.url, SIGNED, 'unsigned', unsignedImg);
    const put = await fetch(policyUrl, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ require: 'cosign', keys: [publicKey.export({ format: 'pem', type: 'spki' }).toString()] }),
    });
    if (put.status !== 200) throw new Error(`PUT ${policyUrl}: HTTP ${put.status} ${(await put.text()).slice(0, 300)} (is the server built with the pull policy? try --berth=tsx)`);
    const digest = (await fetch(`${s.url}/v2/${SIGNED}/manifests/latest`, { method: 'HEAD', headers: { Accept: accept } })).headers.get('docker-content-digest')!;
    await cosignSign(s.url, SIGNED, digest, privateKey);
    const ok = await fetch(`${s.url}/v2/${SIGNED}/manifests/latest`, { headers: { Accept: accept } });
    if (ok.status !== 200) throw new Error(`signed manifest: HTTP ${ok.status} ${(await ok.text()).slice(0, 300)}`);
    const refused = await fetch(`${s.url}/v2/${SIGNED}/manifests/unsigned`, { headers: { Accept: accept } });
    if (refused.status !== 403) throw new Error(`unsigned manifest under the policy: HTTP ${refused.status}, expected 403`);
    await refused.text();
  } catch (e) {
    ctx.error(`manifest policy setup: ${(e as Error).message}`);
    return [];
  }

  const secs = ctx.sizes.wrkSeconds;
  const load = (repo: string) => nodeLoad({ url: `${s.url}/v2/${repo}/manifests/latest`, method: 'GET', headers: { Accept: accept }, connections: 64, threads: 2, seconds: secs });
  await load(SIGNED).catch(() => undefined); // warm-up: JIT, the verdict cache
  const plain: LoadResult[] = [];
  const withPolicy: LoadResult[] = [];
  try {
    for (let round = 0; round < 2; round++) {
      ctx.phase('manifest-policy-off');
      plain.push(await load(plainRepo));
      ctx.phase('manifest-policy-on');
      withPolicy.push(await load(SIGNED));
      log(`manifest policy round ${round + 1}: no policy ${plain.at(-1)!.rps.toFixed(0)} req/s, cosign policy ${withPolicy.at(-1)!.rps.toFixed(0)} req/s`);
    }
  } catch (e) {
    ctx.error(`manifest policy load: ${(e as Error).message}`);
    return [];
  } finally {
    await fetch(policyUrl, { method: 'DELETE' }).catch(() => undefined);
  }
  for (const r of [...plain, ...withPolicy]) if (r.bad) ctx.error(`manifest policy: ${r.bad} of ${r.requests} requests failed or were not 2xx ${r.detail}`);
  const mean = (rs: LoadResult[], f: (r: LoadResult) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
  const offRps = mean(plain, (r) => r.rps);
  const onRps = mean(withPolicy, (r) => r.rps);
  const share = onRps / offRps;
  return [
    {
      bench: 'manifest',
      metric: 'GET by tag, no policy (node -c64, alternating) req/s',
      unit: 'req/s',
      better: 'higher',
      berth: offRps,
      note: `mean of ${plain.length} runs alternating with the row below: ${plain.map((r) => r.rps.toFixed(0)).join(', ')}`,
    },
    {
      bench: 'manifest',
      metric: 'GET by tag with a cosign policy (node -c64) req/s',
      unit: 'req/s',
      better: 'higher',
      berth: onRps,
      target: '>= 80% of no policy',
      verdict: withPolicy.some((r) => r.bad) ? 'FAIL' : share >= 0.8 ? 'PASS' : 'FAIL',
      note: `${(share * 100).toFixed(0)}% of the no-policy rate (runs ${withPolicy.map((r) => r.rps.toFixed(0)).join(', ')}); p99 ms no policy ${mean(plain, (r) => r.p99ms).toFixed(2)}, with policy ${mean(withPolicy, (r) => r.p99ms).toFixed(2)}`,
    },
  ];
}
