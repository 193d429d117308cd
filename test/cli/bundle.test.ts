// The bundled CLI (scripts/build-cli.mjs -> dist/bundle/, what bin/berth.js runs): it works as the
// TypeScript does, and start-up loads only what the command needs. The guard on the second point
// reads esbuild's metafile: a static import of a command's code in main.ts (or of node:https in
// the client) would put it back into every start of the CLI without failing anything else.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientSandbox, repoRoot, run, startBerth, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { client, pushRandomImage } from './helpers.ts';

interface Output {
  bytes: number;
  inputs: Record<string, unknown>;
  imports: { path: string; kind: string; external?: boolean }[];
}

const scratch = mkdtempSync(join(tmpdir(), 'berth-cli-bundle-'));
const out = join(scratch, 'bundle');
let outputs: Record<string, Output>;

before(() => {
  const built = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-cli.mjs'), '--out', out, '--metafile', join(scratch, 'meta.json')], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  outputs = (JSON.parse(readFileSync(join(scratch, 'meta.json'), 'utf8')) as { outputs: Record<string, Output> }).outputs;
});
after(() => rmSync(scratch, { recursive: true, force: true }));

const key = (suffix: RegExp) => {
  const k = Object.keys(outputs).find((o) => suffix.test(o));
  assert.ok(k, `no output matching ${suffix}`);
  return k;
};

/**
 * What loading `start` loads, its inputs and external imports: before any dynamic import, or with
 * `dynamic` everything it may load later too (what a command can load, when `start` is its chunk).
 */
function closure(start: string, dynamic = false): { inputs: Set<string>; externals: Set<string> } {
  const inputs = new Set<string>();
  const externals = new Set<string>();
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length) {
    const k = todo.pop()!;
    if (seen.has(k)) continue;
    seen.add(k);
    for (const i of Object.keys(outputs[k].inputs)) inputs.add(i);
    for (const imp of outputs[k].imports) {
      if (imp.kind !== 'import-statement' && !(dynamic && imp.kind === 'dynamic-import')) continue;
      if (imp.external) externals.add(imp.path);
      else todo.push(imp.path);
    }
  }
  return { inputs, externals };
}

describe('CLI bundle: what start-up loads', () => {
  it('berth --version loads commander, the help texts and the flag definitions, nothing of a command', () => {
    const { inputs, externals } = closure(key(/\/berth\.mjs$/));
    const ours = [...inputs].filter((i) => i.startsWith('src/')).sort();
    const allowed = /^src\/(cli\/(program|help-texts|registry-common|push|pull|copy|key|sign|verify)|client\/usage-error|transfer\/pool)\.ts$/;
    assert.deepEqual(ours.filter((i) => !allowed.test(i)), [], 'start-up modules beyond the wiring');
    const packages = new Set([...inputs].filter((i) => i.startsWith('node_modules/')).map((i) => i.split('/')[1]));
    assert.deepEqual([...packages], ['commander']);
    for (const heavy of ['node:crypto', 'node:http', 'node:https', 'node:tls', 'node:zlib']) assert.ok(!externals.has(heavy), `${heavy} loaded at start-up`);
  });

  it('berth tags loads the client but no transfer, trust or server code, and no TLS before an https:// request', () => {
    const { inputs, externals } = closure(key(/\/chunks\/tags-[^/]*\.mjs$/), true);
    const stray = [...inputs].filter((i) => /^src\/(transfer|trust|http|registry\/(?!errors)|metadata|storage)\//.test(i) || /openpgp|tweetnacl|@peculiar/.test(i));
    assert.deepEqual(stray, []);
    assert.ok(inputs.has('src/client/client.ts'), 'the tags chunk holds the registry client');
    assert.ok(!externals.has('node:https') && !externals.has('node:tls'), 'node:https is imported, not loaded on the first https:// request');
    assert.ok(externals.has('node:http'));
  });

  it('the server commands are left to the tsc output in dist/cli/', () => {
    const entry = outputs[key(/\/berth\.mjs$/)];
    const dynamicExternals = [...new Set(entry.imports.filter((i) => i.external && i.kind === 'dynamic-import').map((i) => i.path))];
    assert.deepEqual(dynamicExternals.sort(), ['../cli/gc.js', '../cli/import.js', '../cli/retention.js', '../cli/serve.js', '../cli/user.js']);
    assert.ok(!Object.keys(outputs).some((o) => Object.keys(outputs[o].inputs).includes('src/http/server.ts')), 'the server is bundled');
  });
});

describe('CLI bundle: behaviour', () => {
  let server: RunningServer;
  let sb: ClientSandbox;
  const berth = (args: string[]) => run(process.execPath, [join(out, 'berth.mjs'), ...args], { env: sb.env, allowFail: true, timeoutMs: 60_000 });
  before(async () => {
    server = await startBerth();
    sb = await clientSandbox('cli-bundle', []);
  });
  after(async () => {
    await server?.stop();
    await sb?.cleanup();
  });

  it('prints the version and the help of every command', async () => {
    const version = await berth(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    const help = await berth(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const c of ['serve', 'import', 'gc', 'user', 'login', 'tags', 'inspect', 'push', 'pull', 'copy', 'sign', 'verify']) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'), c);
    const tagsHelp = await berth(['tags', '--help']);
    assert.match(tagsHelp.stdout, /--page-size/);
    assert.match(tagsHelp.stdout, /Examples:\n {2}berth tags registry\.example\.com/);
  });

  it('lists tags over plain HTTP (loopback: HTTPS tried first) and with --insecure', async () => {
    const c = await client(server.host);
    await pushRandomImage(c, 'bundle/app', 'v1');
    await pushRandomImage(c, 'bundle/app', 'v2');
    for (const flags of [[], ['--insecure']]) {
      const r = await berth(['tags', `${server.host}/bundle/app`, ...flags, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { name: 'bundle/app', tags: ['v1', 'v2'] });
    }
  });

  it('reports errors as the TypeScript does: a message, exit 2 for usage, 1 otherwise', async () => {
    const usage = await berth(['tags', 'not a reference']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^berth: /);
    const missing = await berth(['tags', `${server.host}/no/such`, '--insecure']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^berth: .*(NAME_UNKNOWN|not found|404)/i);
    const unknown = await berth(['no-such-command']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown command/);
  });
});
