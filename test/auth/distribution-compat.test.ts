// berth's tokens are distribution's tokens: Debian's docker-registry (CNCF Distribution 2.8),
// configured with auth.token pointing at berth's token service and berth's generated signing
// certificate as its rootcertbundle, accepts what berth issues (it verifies the x5c header).
// So a registry:2 can keep running behind berth's logins while it is being replaced.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clientSandbox, hasCommand, run, startBerth, startDistribution, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { makeOciLayout, sha256 } from '../helpers/images.ts';
import { htpasswdText } from './harness.ts';

const missing = ['skopeo', 'docker-registry'].filter((c) => !hasCommand(c));

describe("docker-registry trusting berth's token service", { skip: missing.length > 0 && `not installed: ${missing.join(', ')}` }, () => {
  let berth: RunningServer;
  let dist: RunningServer;
  let sb: ClientSandbox;
  let work: string;
  let cleanup: () => Promise<void>;
  const creds = 'carol:carol-D1st-Pa55word';

  before(async () => {
    ({ path: work, cleanup } = await tempDir('auth-dist-compat'));
    await writeFile(join(work, 'htpasswd'), await htpasswdText({ carol: 'carol-D1st-Pa55word' }));
    berth = await startBerth({
      root: join(work, 'berth-data'),
      configYaml: `auth:\n  htpasswd: {realm: berth, path: ${join(work, 'htpasswd')}}\n  token: {service: shared-registry, issuer: berth-auth}\nberth:\n  auth:\n    tokenservice: {enabled: true}\n`,
    });
    dist = await startDistribution({
      configYaml: `auth:\n  token:\n    realm: ${berth.url}/auth/token\n    service: shared-registry\n    issuer: berth-auth\n    rootcertbundle: ${join(work, 'berth-data', 'auth', 'token-signing-cert.pem')}\n`,
    });
    sb = await clientSandbox('auth-dist-compat', [berth.host, dist.host]);
  });
  after(async () => {
    await dist?.stop();
    await berth?.stop();
    await sb?.cleanup();
    await cleanup?.();
  });

  it('skopeo logs in at berth and pushes to and pulls from docker-registry with the token', async () => {
    const challenge = await fetch(`${dist.url}/v2/`);
    assert.equal(challenge.status, 401);
    assert.match(challenge.headers.get('www-authenticate')!, new RegExp(`^Bearer realm="${berth.url}/auth/token",service="shared-registry"`));
    const src = await makeOciLayout(join(work, 'src'), { tag: 'v1', layers: 1, layerBytes: 8192 });
    const dest = `docker://${dist.host}/compat/img:v1`;
    await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `--dest-creds=${creds}`, `oci:${src.dir}:v1`, dest], { env: sb.env });
    const raw = await run('skopeo', ['--insecure-policy', 'inspect', '--raw', '--tls-verify=false', `--creds=${creds}`, dest], { env: sb.env });
    assert.equal(sha256(raw.stdout), src.digest);
    const wrong = await run('skopeo', ['--insecure-policy', 'inspect', '--raw', '--tls-verify=false', '--creds=carol:wrong-password', dest], { env: sb.env, allowFail: true });
    assert.notEqual(wrong.code, 0);
  });
});
