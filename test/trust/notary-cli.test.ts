// The real trust clients against berth over TLS (a CA from `berth tls init`): Debian's `notary`
// (0.7) and `docker trust` (docker CLI 28, no daemon). Each run uses fresh trust directories and
// homes (both clients pin the first root they see). Three setups: no authentication; berth's token
// service with htpasswd users; and the same with the metadata on PostgreSQL.
//   notary: init, add, publish, list from a second client, remove, server-managed snapshot
//   (key rotate snapshot -r), a delegation published by the delegate, root key rotation followed
//   by an old and a new client, timestamp key rotation, delete --remote.
//   docker trust: key generate, signer add, a tag signed into targets/releases, inspect, revoke,
//   signer remove (skipped alone when the docker CLI is missing: the notary tests need only notary).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasCommand, run, startBerth, tempDir, type RunningServer } from '../helpers/processes.ts';
import { postgresSkip, startPostgres, type PostgresServer } from '../helpers/postgres.ts';
import { htpasswdText } from '../auth/harness.ts';
import { listening, tlsInit } from '../tls/helpers.ts';
import { selfSignedCertificate } from '../../src/auth/self-signed-cert.ts';

const noDocker = !hasCommand('docker') && 'the docker CLI is not installed';
const USER = 'alice';
const PASSWORD = 'alice-Trust-Pa55word';
const PASSPHRASES = {
  NOTARY_ROOT_PASSPHRASE: 'root-Pa55phrase',
  NOTARY_TARGETS_PASSPHRASE: 'targets-Pa55phrase',
  NOTARY_SNAPSHOT_PASSPHRASE: 'snapshot-Pa55phrase',
  NOTARY_DELEGATION_PASSPHRASE: 'delegation-Pa55phrase',
};

const variants = [
  { name: 'without authentication', auth: false, postgres: false },
  { name: "with berth's token service and htpasswd", auth: true, postgres: false },
  { name: "with berth's token service, metadata on PostgreSQL", auth: true, postgres: true },
];

for (const v of variants) {
  const skip = !hasCommand('notary') ? 'not installed: notary' : v.postgres ? postgresSkip() : false;
  describe(`notary and docker trust against berth ${v.name}`, { skip }, () => {
    let server: RunningServer;
    let pg: PostgresServer | undefined;
    let work: string;
    let cleanup: () => Promise<void>;
    let ca: string;
    let origin: string; // https://localhost:PORT
    let host: string; // localhost:PORT
    let dirs = 0;
    const fresh = async (name: string) => {
      const d = join(work, `${name}-${++dirs}`);
      await mkdir(d, { recursive: true });
      return d;
    };
    const auth: Record<string, string> = v.auth ? { NOTARY_AUTH: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } : {};
    const notary = (trustDir: string, args: string[], { env, ...opts }: { allowFail?: boolean; input?: string; env?: Record<string, string> } = {}) =>
      run('notary', ['-s', origin, '-d', trustDir, '--tlscacert', ca, ...args], { env: { ...PASSPHRASES, ...auth, ...env }, timeoutMs: 60_000, ...opts });

    before(async () => {
      const t = await tempDir(`notary-cli-${v.auth ? 'auth' : 'open'}${v.postgres ? '-pg' : ''}`);
      work = t.path;
      cleanup = t.cleanup;
      const certs = (await tlsInit(join(work, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
      ca = certs.ca;
      let yaml = `log: {level: info}\nhttp:\n  tls: {certificate: ${certs.cert}, key: ${certs.key}}\n`;
      if (v.auth) {
        const htpasswd = join(work, 'htpasswd');
        await writeFile(htpasswd, await htpasswdText({ [USER]: PASSWORD }, 4));
        yaml += `auth:\n  htpasswd: {realm: berth-trust, path: ${htpasswd}}\n  token: {service: berth-trust, issuer: berth-trust}\n`;
      }
      yaml += 'berth:\n';
      if (v.auth) yaml += '  auth:\n    tokenservice: {enabled: true}\n';
      if (v.postgres) {
        pg = await startPostgres();
        yaml += `  metadata: {driver: postgres, postgres: {url: "${await pg.createDatabase('notary_cli')}"}}\n`;
      }
      server = await startBerth({ configYaml: yaml, scheme: 'https', ready: listening });
      host = `localhost:${server.port}`;
      origin = `https://${host}`;
    });
    after(async () => {
      await server?.stop();
      await pg?.stop();
      await cleanup?.();
    });

    it('notary: init, add, publish, list from a second client, remove; a server-managed snapshot; delete --remote', async () => {
      const gun = `${host}/team/app`;
      const owner = await fresh('owner');
      if (v.auth) {
        const anon = await notary(owner, ['init', gun, '-p'], { allowFail: true, env: { NOTARY_AUTH: '' } });
        assert.notEqual(anon.code, 0);
        assert.match(anon.stderr + anon.stdout, /not authorized|401|unauthorized/i);
        const wrong = await notary(await fresh('wrong'), ['init', gun, '-p'], { allowFail: true, env: { NOTARY_AUTH: Buffer.from(`${USER}:not-the-password`).toString('base64') } });
        assert.notEqual(wrong.code, 0);
        assert.match(wrong.stderr + wrong.stdout, /unauthorized|invalid username or password/i);
      }
      const init = await notary(owner, ['init', gun, '-p']);
      assert.match(init.stdout, /Successfully published changes/);
      const file = join(work, 'v1.txt');
      await writeFile(file, 'version one\n');
      await notary(owner, ['add', gun, 'v1', file, '-p']);
      await notary(owner, ['add', gun, 'v2', file]);
      await notary(owner, ['publish', gun]);

      const reader = await fresh('reader');
      let list = await notary(reader, ['list', gun]);
      assert.match(list.stdout, /^v1\s+[0-9a-f]{64}\s+12\s+targets$/m);
      assert.match(list.stdout, /^v2\s/m);

      // The server takes over the snapshot key; later publishes get a snapshot made by berth.
      const rotated = await notary(owner, ['key', 'rotate', gun, 'snapshot', '-r']);
      assert.match(rotated.stdout, /Successfully rotated snapshot key/);
      await notary(owner, ['remove', gun, 'v2', '-p']);
      await writeFile(file, 'version three\n');
      await notary(owner, ['add', gun, 'v3', file, '-p']);
      list = await notary(reader, ['list', gun]);
      assert.match(list.stdout, /^v1\s/m);
      assert.doesNotMatch(list.stdout, /^v2\s/m);
      assert.match(list.stdout, /^v3\s+[0-9a-f]{64}\s+14\s+targets$/m);
      // The timestamp key too (it is always the server's).
      assert.match((await notary(owner, ['key', 'rotate', gun, 'timestamp', '-r'])).stdout, /Successfully rotated timestamp key/);
      assert.match((await notary(await fresh('after-ts'), ['list', gun])).stdout, /^v3\s/m);

      const del = await notary(owner, ['delete', gun, '--remote']);
      assert.match(del.stdout, /Successfully deleted local and remote trust data/);
      const gone = await notary(await fresh('gone'), ['list', gun], { allowFail: true });
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr + gone.stdout, /does not have trust data/);
    });

    it('notary: a delegation published by the delegate, then a root key rotation that old and new clients follow', async () => {
      const gun = `${host}/team/delegated`;
      const owner = await fresh('owner');
      await notary(owner, ['init', gun, '-p']);
      await notary(owner, ['key', 'rotate', gun, 'snapshot', '-r']);
      // The delegate's key and certificate, made outside notary (as `openssl req -x509` would).
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const certFile = join(work, 'delegate.crt');
      const keyFile = join(work, 'delegate.key');
      await writeFile(certFile, selfSignedCertificate(privateKey, publicKey, 'releases', 30));
      await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }));
      await notary(owner, ['delegation', 'add', gun, 'targets/releases', certFile, '--all-paths', '-p']);
      assert.match((await notary(owner, ['delegation', 'list', gun])).stdout, /targets\/releases/);

      const delegate = await fresh('delegate');
      await notary(delegate, ['key', 'import', keyFile, '--role', 'targets/releases']);
      const artifact = join(work, 'release.txt');
      await writeFile(artifact, 'a release\n');
      const published = await notary(delegate, ['add', gun, 'rel-1', artifact, '--roles', 'targets/releases', '-p']);
      assert.match(published.stdout, /Successfully published changes/);

      const early = await fresh('early');
      assert.match((await notary(early, ['list', gun])).stdout, /^rel-1\s+[0-9a-f]{64}\s+10\s+targets\/releases$/m);

      // Root key rotation: the new root is signed by the old and the new root key.
      const rotation = await notary(owner, ['key', 'rotate', gun, 'root'], { input: 'yes\n' });
      assert.match(rotation.stdout + rotation.stderr, /Successfully rotated root key/);
      // The client that pinned the first root walks to the new one; a new client starts from it.
      assert.match((await notary(early, ['list', gun])).stdout, /^rel-1\s/m);
      assert.match((await notary(await fresh('late'), ['list', gun])).stdout, /^rel-1\s/m);
      const debug = await notary(await fresh('walk'), ['-D', 'list', gun]);
      assert.match(debug.stderr, /root validation succeeded/);
    });

    it('docker trust: key generate, signer add, inspect, revoke, signer remove', { skip: noDocker }, async () => {
      const home = await fresh('docker-home');
      const config = join(home, '.docker');
      await mkdir(join(config, 'tls', host), { recursive: true });
      // Only localhost and 127.0.0.0/8 skip verification; the CA where docker looks for any other host.
      await writeFile(join(config, 'tls', host, 'ca.crt'), await readFile(ca));
      if (v.auth) await writeFile(join(config, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
      const env = {
        HOME: home,
        DOCKER_CONFIG: config,
        DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: 'docker-root-Pa55phrase',
        DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'docker-repo-Pa55phrase',
      };
      const docker = (args: string[], opts: { input?: string; allowFail?: boolean } = {}) => run('docker', args, { env, timeoutMs: 60_000, ...opts });
      const image = `${host}/team/web`;

      const generated = await docker(['trust', 'key', 'generate', 'alice', '--dir', home]);
      assert.match(generated.stdout, /Successfully generated and loaded private key/);
      const added = await docker(['trust', 'signer', 'add', '--key', join(home, 'alice.pub'), 'alice', image]);
      assert.match(added.stdout, /Successfully initialized "[^"]+"[\s\S]*Successfully added signer: alice to/);

      // A signed tag, as `docker trust sign` would write it (it needs a daemon for a new tag):
      // the same target in targets/releases and in the signer's role, with the signer's key.
      const manifest = join(work, 'manifest.json');
      await writeFile(manifest, '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
      await run('notary', ['-s', origin, '-d', join(config, 'trust'), '--tlscacert', ca, 'add', image, 'v1', manifest, '--roles', 'targets/releases', '--roles', 'targets/alice', '-p'], {
        env: { ...auth, NOTARY_DELEGATION_PASSPHRASE: env.DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE, NOTARY_TARGETS_PASSPHRASE: env.DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE },
        timeoutMs: 60_000,
      });

      type Inspect = { Name: string; SignedTags: { SignedTag: string; Signers: string[] }[]; Signers: { Name: string }[]; AdministrativeKeys: { Name: string }[] }[];
      let inspect = JSON.parse((await docker(['trust', 'inspect', image])).stdout) as Inspect;
      assert.equal(inspect[0]!.Name, image);
      assert.deepEqual(inspect[0]!.SignedTags.map((t) => [t.SignedTag, t.Signers]), [['v1', ['alice']]]);
      assert.deepEqual(inspect[0]!.Signers.map((s) => s.Name), ['alice']);
      assert.deepEqual(inspect[0]!.AdministrativeKeys.map((k) => k.Name).sort(), ['Repository', 'Root']);
      assert.match((await docker(['trust', 'inspect', '--pretty', image])).stdout, /v1\s+[0-9a-f]{64}\s+alice/);
      // A second client (notary, fresh trust dir) sees the same tag.
      assert.match((await notary(await fresh('cross'), ['list', image])).stdout, /^v1\s+[0-9a-f]{64}\s+\d+\s+targets\/(releases|alice)$/m);

      const revoked = await docker(['trust', 'revoke', '-y', `${image}:v1`]);
      assert.match(revoked.stdout, /Successfully deleted signature for .*:v1/);
      inspect = JSON.parse((await docker(['trust', 'inspect', image])).stdout) as Inspect;
      assert.deepEqual(inspect[0]!.SignedTags, []);

      // alice signed the last release: docker asks before removing her (and -y skips the removal
      // altogether in docker 28's code), so answer the prompt.
      const removed = await docker(['trust', 'signer', 'remove', 'alice', image], { input: 'y\n' });
      assert.match(removed.stdout, /Successfully removed alice from/);
      inspect = JSON.parse((await docker(['trust', 'inspect', image])).stdout) as Inspect;
      assert.deepEqual(inspect[0]!.Signers, []);
    });

    it('never logs a password, a passphrase or a private key', () => {
      const logs = server.logs();
      for (const secret of [PASSWORD, ...Object.values(PASSPHRASES), 'PRIVATE KEY', Buffer.from(`${USER}:${PASSWORD}`).toString('base64')]) {
        assert.ok(!logs.includes(secret), `server output contains ${secret.slice(0, 4)}...`);
      }
      assert.match(logs, /notary: trust data updated/);
    });
  });
}
