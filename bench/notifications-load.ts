// Manifest GET with notifications: what the events cost the hot path. One berth process per case,
// alternating twice, `wrk -c64 -t2` on GET by tag (the `manifest` row's load), against:
//   none     no notifications: section (the benchmark's configuration)
//   ignored  an endpoint with ignore.actions [pull]: pulls are not even recorded
//   queued   the endpoint is down: every pull is recorded (queued in memory, written in batches),
//            nothing is delivered (the worker backs off)
//   sent     the endpoint answers 200: every pull is recorded and POSTed, one event per request
//   batched  the same with berth.notifications.maxbatch: 100
// Run: node --import tsx bench/notifications-load.ts [--seconds=10]
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, type RunningServer } from '../test/helpers/processes.ts';
import { pushTinyImage, tinyImage } from './client.ts';
import { wrkLoad } from './loadgen.ts';

const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.split('=')[1] ?? 10);
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

/** CPU seconds (user + system) a process has used: robust to other load on the machine, unlike req/s. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  let received = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received += body.split('"action":').length - 1;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  const cases: Record<string, string> = {
    none: '',
    ignored: `notifications:\n  endpoints: [{name: hook, url: ${hook}, ignore: {actions: [pull]}}]\n`,
    queued: 'notifications:\n  endpoints: [{name: hook, url: http://127.0.0.1:9/down, threshold: 1, backoff: 1s}]\n',
    sent: `notifications:\n  endpoints: [{name: hook, url: ${hook}}]\n`,
    batched: `notifications:\n  endpoints: [{name: hook, url: ${hook}}]\nberth:\n  notifications: {maxbatch: 100}\n`,
  };
  const work = await mkdtemp(join(tmpdir(), 'notif-bench-'));
  const results: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  try {
    for (let round = 0; round < 2; round++) {
      for (const [name, yaml] of Object.entries(cases)) {
        let s: RunningServer | undefined;
        try {
          s = await startBerth({ configYaml: `log: {level: error, accesslog: {disabled: true}}\n${yaml}` });
          const img = tinyImage();
          await pushTinyImage(s.url, 'bench/manifest', 'latest', img);
          const before = received;
          const cpu0 = cpuSeconds(s.pid);
          const r = await wrkLoad({ url: `${s.url}/v2/bench/manifest/manifests/latest`, method: 'GET', headers: { Accept: ACCEPT }, connections: 64, threads: 2, seconds, scriptPath: join(work, 'accept.lua') });
          (results[name] ??= []).push(r.rps);
          const usPerReq = ((cpuSeconds(s.pid) - cpu0) * 1e6) / r.requests;
          (cpu[name] ??= []).push(usPerReq);
          console.log(`${name.padEnd(8)} round ${round + 1}: ${r.rps.toFixed(0)} req/s, ${usPerReq.toFixed(0)} us CPU/request, p99 ${r.p99ms} ms, bad ${r.bad}${name === 'sent' || name === 'batched' ? `, ${received - before} events delivered during the run` : ''}`);
        } finally {
          await s?.stop();
        }
      }
    }
  } finally {
    receiver.close();
    await rm(work, { recursive: true, force: true });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const base = mean(results.none!);
  const baseCpu = mean(cpu.none!);
  for (const [name, xs] of Object.entries(results)) {
    const c = mean(cpu[name]!);
    console.log(`${name.padEnd(8)} ${mean(xs).toFixed(0)} req/s (${((mean(xs) / base) * 100).toFixed(1)}% of none), ${c.toFixed(1)} us CPU/request (${((c / baseCpu) * 100).toFixed(1)}% of none)`);
  }
}

await main();
