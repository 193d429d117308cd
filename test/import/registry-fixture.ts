// Shared by the end-to-end import tests (filesystem and S3 sources): the CLI runner, and one set of
// images pushed with skopeo into a running docker-registry (CNCF Distribution 2.8), then pulled back
// from berth and compared byte for byte with what docker-registry served.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImportReport } from '../../src/import/report.ts';
import { makeOciLayout, readLayoutBlob, sha256, type LayoutResult } from '../helpers/images.ts';
import { repoRoot, run, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';

export const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { allowFail: true, timeoutMs: 300_000 });

export async function berthConfig(path: string, root: string): Promise<string> {
  await writeFile(path, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n`);
  return path;
}

export function parseReport(stdout: string, stderr: string): ImportReport {
  try {
    return JSON.parse(stdout) as ImportReport;
  } catch {
    throw new Error(`berth import printed no JSON\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  }
}

export async function withServerLogs<T>(server: RunningServer, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    (e as Error).message += `\n--- ${server.url} logs (tail) ---\n${server.logs().slice(-4000)}`;
    throw e;
  }
}

export interface Pushed {
  repo: string;
  tag: string;
  /** Manifest bytes as docker-registry served them before the import. */
  raw: string;
  /** Source OCI layout, when pushed with --preserve-digests from one. */
  layout?: LayoutResult;
  all?: boolean;
}

export interface Fixture {
  pushed: Pushed[];
  /** Pushed, then deleted through the API: must not come back. */
  deleted: { repo: string; tag: string; digest: string };
}

/** What importing the fixture yields. alpine: v1, v2, docker; team: v2; team/app: v1; multi/img: index + 3 images. */
export const EXPECTED = { repositories: 4, manifests: 9, tags: 7, catalog: ['library/alpine', 'multi/img', 'team', 'team/app'] };

export function skopeoClient(sb: ClientSandbox, workDir: string) {
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { env: sb.env });
  const copy = (...args: string[]) => skopeo('copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...args);
  const inspectRaw = async (host: string, ref: string) => (await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${host}/${ref}`)).stdout;

  /** Pushes every image of the fixture into the docker-registry at `dist` (which must allow deletes). */
  const fill = async (dist: RunningServer): Promise<Fixture> => {
    const src = join(workDir, 'layout');
    const v1 = await makeOciLayout(src, { tag: 'v1', layers: 3, layerBytes: 256 * 1024 });
    const v2 = await makeOciLayout(src, { tag: 'v2', layers: 2, layerBytes: 128 * 1024 });
    const old = await makeOciLayout(src, { tag: 'old', layers: 1, layerBytes: 64 * 1024 });
    const multi = await makeOciLayout(src, {
      tag: 'multi',
      layers: 2,
      layerBytes: 32 * 1024,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        { os: 'linux', architecture: 's390x' },
      ],
    });
    const pushed: Pushed[] = [];
    const push = async (layout: LayoutResult, repo: string, tag: string, all = false) => {
      await copy('--preserve-digests', ...(all ? ['--all'] : []), `oci:${src}:${layout.tag}`, `docker://${dist.host}/${repo}:${tag}`);
      pushed.push({ repo, tag, layout, all, raw: await inspectRaw(dist.host, `${repo}:${tag}`) });
    };
    await push(v1, 'library/alpine', 'v1');
    await push(v2, 'library/alpine', 'v2');
    await push(v2, 'library/alpine', 'latest');
    await push(v2, 'team', 'base');
    await push(v1, 'team/app', 'v1');
    await push(multi, 'multi/img', 'multi', true);
    // A Docker schema 2 manifest too (converted by skopeo, so its digest is whatever the registry got).
    await copy('--format', 'v2s2', `oci:${src}:v1`, `docker://${dist.host}/library/alpine:docker`);
    pushed.push({ repo: 'library/alpine', tag: 'docker', raw: await inspectRaw(dist.host, 'library/alpine:docker') });

    // Deleted through the API (by digest, which is what registry:2 2.8 supports).
    await copy('--preserve-digests', `oci:${src}:old`, `docker://${dist.host}/team/app:old`);
    await skopeo('delete', '--tls-verify=false', `docker://${dist.host}/team/app:old`);
    const gone = await fetch(`${dist.url}/v2/team/app/manifests/old`);
    assert.equal(gone.status, 404, 'docker-registry itself no longer has the deleted tag');
    return { pushed, deleted: { repo: 'team/app', tag: 'old', digest: old.digest } };
  };

  /** Pulls every pushed reference from `host`; manifests, digests and blob bytes must be as pushed. */
  const pullAndCompare = async (host: string, pushed: Pushed[]) => {
    for (const p of pushed) {
      const ref = `${p.repo}:${p.tag}`;
      assert.equal(await inspectRaw(host, ref), p.raw, `${ref}: manifest bytes`);
      const out = await mkdtemp(join(workDir, 'pull-'));
      if (p.layout) {
        await copy('--preserve-digests', ...(p.all ? ['--all'] : []), `docker://${host}/${ref}`, `oci:${out}:${p.tag}`);
        const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
        assert.equal(index.manifests[0]!.digest, p.layout.digest, `${ref}: digest`);
        for (const d of p.layout.blobs) assert.deepEqual(await readLayoutBlob(out, d), await readLayoutBlob(p.layout.dir, d), `${ref}: blob ${d}`);
      } else {
        await copy(`docker://${host}/${ref}`, `dir:${out}`);
        assert.equal(await readFile(join(out, 'manifest.json'), 'utf8'), p.raw);
        const m = JSON.parse(p.raw) as { config: { digest: string }; layers: { digest: string }[] };
        for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) assert.equal(sha256(await readFile(join(out, d.slice(7)))), d, `${ref}: blob ${d}`);
      }
    }
  };

  /** berth serves what was pushed, lists the expected repositories, and not the deleted tag or manifest. */
  const checkServed = async (berth: RunningServer, fixture: Fixture) => {
    const catalog = (await (await fetch(`${berth.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, EXPECTED.catalog);
    // A failed pull is easier to read next to what the server logged.
    await withServerLogs(berth, () => pullAndCompare(berth.host, fixture.pushed));
    const { deleted } = fixture;
    const tags = JSON.parse((await skopeo('list-tags', '--tls-verify=false', `docker://${berth.host}/${deleted.repo}`)).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1'], 'the deleted tag is absent');
    const gone = await fetch(`${berth.url}/v2/${deleted.repo}/manifests/${deleted.digest}`);
    assert.equal(gone.status, 404, 'and so is its deleted manifest');
  };

  return { skopeo, copy, inspectRaw, fill, pullAndCompare, checkServed };
}
