// The server-side pull policy judged by the real clients (issue 12): skopeo and podman pulls of an
// unsigned image are refused with berth's message, signed ones are served, for each kind of
// signature, signed the way users sign: cosign format with `berth sign` (a multi-platform image,
// whose platform manifest skopeo then fetches by digest), GPG with `skopeo copy --sign-by`
// (stored in berth through the signatures extension), Notary trust data published by the real
// `notary` client (`init`, `addhash` of the pushed manifest's size and sha256, `publish`; it needs
// TLS, so berth serves HTTPS with a CA from `berth tls init`). The clients run with
// insecureAcceptAnything: it is berth that refuses. On the embedded store and on PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { clientSandbox, hasCommand, run, startBerth, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout, readLayoutBlob, type LayoutResult } from '../helpers/images.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { berthCli } from '../cli/helpers.ts';
import { listening, tlsInit } from '../tls/helpers.ts';
import { gpgHome, type GpgHome, type GpgKey } from './gpg-helpers.ts';

const missing = ['skopeo', 'podman', 'gpg'].filter((c) => !hasCommand(c));
const PASSWORD = 'policy-Pa55word';
const NOTARY_PASSPHRASES = {
  NOTARY_ROOT_PASSPHRASE: 'root-Pa55phrase',
  NOTARY_TARGETS_PASSPHRASE: 'targets-Pa55phrase',
  NOTARY_SNAPSHOT_PASSPHRASE: 'snapshot-Pa55phrase',
};

for (const variant of [{ name: 'embedded store', postgres: false }, { name: 'PostgreSQL', postgres: true }]) {
  const skip = missing.length ? `not installed: ${missing.join(', ')}` : variant.postgres ? postgresSkip() : false;

  describe(`pull policy with skopeo and podman (${variant.name})`, { skip }, () => {
    let server: RunningServer;
    let pg: PostgresServer | undefined;
    let sb: ClientSandbox;
    let work: { path: string; cleanup(): Promise<void> };
    let gpg: GpgHome;
    let release: GpgKey;
    let single: LayoutResult;
    let multi: LayoutResult;
    let regd: string;
    let cosignKey: string;
    let berth: ReturnType<typeof berthCli>;
    let ca: string;
    let outputs = 0;

    const env = () => ({ ...sb.env, ...gpg.env });
    const skopeo = (args: string[]) => run('skopeo', ['--registries.d', regd, '--insecure-policy', ...args], { env: env(), allowFail: true, timeoutMs: 120_000 });
    const podman = (args: string[]) => run('podman', [...sb.podmanFlags, ...args], { env: env(), allowFail: true, timeoutMs: 120_000 });
    const push = async (src: LayoutResult, repo: string, extra: string[] = []) => {
      const res = await skopeo(['copy', '--quiet', '--all', '--dest-tls-verify=false', ...extra, `oci:${src.dir}:${src.tag}`, `docker://${server.host}/${repo}`]);
      assert.equal(res.code, 0, res.stderr);
    };
    const pull = (repo: string) => skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${server.host}/${repo}`, `dir:${join(work.path, `out-${++outputs}`)}`]);
    const refusedBy = (res: { code: number; stderr: string }, message: RegExp) => {
      assert.notEqual(res.code, 0, 'the pull must fail');
      assert.match(res.stderr, /denied/i, res.stderr);
      assert.match(res.stderr, message, res.stderr);
    };

    before(async () => {
      work = await tempDir(`policy-clients${variant.postgres ? '-pg' : ''}`);
      gpg = await gpgHome(work.path);
      release = await gpg.generate('release');
      regd = join(work.path, 'registries.d');
      await mkdir(regd);
      berth = berthCli({ HOME: work.path, DOCKER_CONFIG: join(work.path, 'docker'), COSIGN_PASSWORD: PASSWORD });
      const gen = await berth(['key', 'generate', '--output-key-prefix', join(work.path, 'cosign')]);
      assert.equal(gen.code, 0, gen.stderr);
      cosignKey = join(work.path, 'cosign.key');
      single = await makeOciLayout(join(work.path, 'single'), { tag: 'v1', layers: 1, layerBytes: 2048 });
      multi = await makeOciLayout(join(work.path, 'multi'), { tag: 'v1', layers: 1, layerBytes: 2048, platforms: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }] });

      // HTTPS (the notary client speaks nothing else); skopeo and podman skip verification.
      const certs = (await tlsInit(join(work.path, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
      ca = certs.ca;
      let yaml = `http:\n  tls: {certificate: ${certs.cert}, key: ${certs.key}}\n`;
      yaml += `berth:\n  trust:\n    policies:\n`;
      yaml += `      - {repositories: ["cosign/**"], require: cosign, keys: ["${join(work.path, 'cosign.pub')}"]}\n`;
      yaml += `      - {repositories: ["gpg/**"], require: gpg, keys: ["${release.exported}"]}\n`;
      yaml += `      - {repositories: ["notary/**"], require: notary}\n`;
      if (variant.postgres) {
        pg = await startPostgres();
        yaml += `  metadata: {driver: postgres, postgres: {url: "${await pg.createDatabase('policy_clients')}"}}\n`;
      }
      server = await startBerth({ configYaml: yaml, scheme: 'https', ready: listening });
      sb = await clientSandbox('policy-clients', [server.host]);
      await mkdir(join(sb.env.XDG_CONFIG_HOME!, 'containers', 'registries.d'), { recursive: true });
    });
    after(async () => {
      await server?.stop();
      await pg?.stop();
      await gpg?.close();
      await sb?.cleanup();
      await work?.cleanup();
    });

    it('cosign: an unsigned image is refused; signed with berth sign, skopeo and podman pull it (the index and its platform manifest)', async () => {
      await push(multi, 'cosign/app:v1');
      await push(single, 'cosign/unsigned:v1');
      const refused = await pull('cosign/app:v1');
      refusedBy(refused, new RegExp(`no signature by a trusted key for ${multi.digest}`));
      refusedBy(await pull('cosign/unsigned:v1'), /no signature by a trusted key for sha256:[0-9a-f]{64} \(cosign: no cosign signature\)/);
      const p = await podman(['pull', '--quiet', '--tls-verify=false', `${server.host}/cosign/unsigned:v1`]);
      refusedBy(p, /no signature by a trusted key for sha256:/);

      // Signing needs the digest: a HEAD, which the policy answers.
      const signed = await berth(['sign', `${server.host}/cosign/app:v1`, '--key', cosignKey, '--ca-cert', ca]);
      assert.equal(signed.code, 0, signed.stderr);
      const ok = await pull('cosign/app:v1');
      assert.equal(ok.code, 0, ok.stderr);
      const viaPodman = await podman(['pull', '--quiet', '--tls-verify=false', `${server.host}/cosign/app:v1`]);
      assert.equal(viaPodman.code, 0, viaPodman.stderr);
      // The unsigned image is still refused.
      refusedBy(await pull('cosign/unsigned:v1'), /cosign: no cosign signature/);
    });

    it('gpg: skopeo copy --sign-by stores the signature in berth, and the image is served; an unsigned one is refused', async () => {
      await push(single, 'gpg/app:v1', ['--sign-by', release.fingerprint]);
      await push(single, 'gpg/unsigned:v1');
      const ok = await pull('gpg/app:v1');
      assert.equal(ok.code, 0, ok.stderr);
      const viaPodman = await podman(['pull', '--quiet', '--tls-verify=false', `${server.host}/gpg/app:v1`]);
      assert.equal(viaPodman.code, 0, viaPodman.stderr);
      refusedBy(await pull('gpg/unsigned:v1'), /no signature by a trusted key for sha256:[0-9a-f]{64} \(gpg: no GPG simple signature\)/);
      refusedBy(await podman(['pull', '--quiet', '--tls-verify=false', `${server.host}/gpg/unsigned:v1`]), /gpg: no GPG simple signature/);
    });

    it('notary: trust data published by the notary client is honoured: the target with the manifest\'s hash is served, another hash refused', { skip: !hasCommand('notary') && 'notary is not installed' }, async () => {
      await push(single, 'notary/app:v1');
      await push(single, 'notary/bad:v1');
      refusedBy(await pull('notary/app:v1'), new RegExp(`notary: no trust data for ${server.host}/notary/app`));
      const manifest = await readLayoutBlob(single.dir, single.digest);
      assert.equal(`sha256:${createHash('sha256').update(manifest).digest('hex')}`, single.digest);
      // Each GUN from its own client (fresh trust dir: the client pins the first root it sees).
      const notary = (trustDir: string, args: string[]) =>
        run('notary', ['-s', server.url, '-d', trustDir, '--tlscacert', ca, ...args], { env: NOTARY_PASSPHRASES, timeoutMs: 60_000 });
      for (const [repo, sha256] of [
        ['notary/app', single.digest.slice('sha256:'.length)],
        ['notary/bad', randomBytes(32).toString('hex')],
      ] as const) {
        const gun = `${server.host}/${repo}`;
        const trustDir = join(work.path, `notary-${repo.replace('/', '-')}`);
        assert.match((await notary(trustDir, ['init', gun, '-p'])).stdout, /Successfully published changes/);
        // As `docker trust sign` records a tag: the manifest's size and sha256 under the tag's name.
        await notary(trustDir, ['addhash', gun, 'v1', String(manifest.length), '--sha256', sha256]);
        assert.match((await notary(trustDir, ['publish', gun])).stdout, /Successfully published changes/);
        const listed = await notary(join(work.path, `notary-reader-${repo.replace('/', '-')}`), ['list', gun]);
        assert.match(listed.stdout, new RegExp(`^v1\\s+${sha256}\\s+${manifest.length}\\s+targets$`, 'm'));
      }
      const ok = await pull('notary/app:v1');
      assert.equal(ok.code, 0, ok.stderr);
      const viaPodman = await podman(['pull', '--quiet', '--tls-verify=false', `${server.host}/notary/app:v1`]);
      assert.equal(viaPodman.code, 0, viaPodman.stderr);
      refusedBy(await pull('notary/bad:v1'), new RegExp(`notary: target hash does not match for ${server.host}/notary/bad:v1`));
      refusedBy(await podman(['pull', '--quiet', '--tls-verify=false', `${server.host}/notary/bad:v1`]), /notary: target hash does not match/);
    });
  });
}
