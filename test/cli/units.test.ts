// Pure parts of the client: challenges, image references, credentials from config.json.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseChallenge } from '../../src/client/challenge.ts';
import { isLoopback, isRegistryUrl } from '../../src/client/transport.ts';
import { parseImageRef, manifestRef, UsageError } from '../../src/client/image-ref.ts';
import { eraseCredentials, lookupCredentials, lookupPaths, configPath, readConfig } from '../../src/client/docker-config.ts';
import { tempDir } from '../helpers/processes.ts';

describe('client units', () => {
  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://r.example/auth/token",service="reg",scope="repository:a/b:pull,push"'), {
      scheme: 'bearer',
      params: { realm: 'https://r.example/auth/token', service: 'reg', scope: 'repository:a/b:pull,push' },
    });
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.equal(parseChallenge(undefined), undefined);
  });

  it('knows the registries on this machine (docker treats them as insecure without being told)', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', '::1']) assert.equal(isLoopback(h), true, h);
    for (const h of ['0.0.0.0:5000', 'registry.local:5000', '10.0.0.1', 'localhost.example.com', '128.0.0.1:5000', '[::2]:5000']) assert.equal(isLoopback(h), false, h);
  });

  it("takes the registry's own URLs for its own when the host names the default port or has capitals", () => {
    assert.equal(isRegistryUrl(new URL('https://reg.example.com:443/v2/'), 'reg.example.com:443'), true);
    assert.equal(isRegistryUrl(new URL('http://reg.example.com:80/v2/'), 'reg.example.com:80'), true);
    assert.equal(isRegistryUrl(new URL('https://Reg.Example.com:5000/v2/'), 'Reg.Example.com:5000'), true);
    assert.equal(isRegistryUrl(new URL('https://reg.example.com:5001/v2/'), 'reg.example.com:5000'), false);
    assert.equal(isRegistryUrl(new URL('https://s3.example.com/bucket/blob'), 'reg.example.com'), false);
    assert.equal(isRegistryUrl(new URL('http://reg.example.com/v2/'), 'reg.example.com:443'), false);
  });

  it('parses image references with a host, tag and digest', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseImageRef('localhost:5000/library/alpine:3.19'), { host: 'localhost:5000', repo: 'library/alpine', tag: '3.19', digest: undefined });
    assert.deepEqual(parseImageRef('reg.example.com/app'), { host: 'reg.example.com', repo: 'app', tag: 'latest', digest: undefined });
    const pinned = parseImageRef(`127.0.0.1:5000/a/b:1@${d}`);
    assert.equal(manifestRef(pinned), d);
    assert.throws(() => parseImageRef('alpine'), UsageError);
    assert.throws(() => parseImageRef('h:1/Bad/Name'), UsageError);
    assert.throws(() => parseImageRef('h:1/a@sha256:short'), UsageError);
  });

  it('reads auths (auth, identitytoken, legacy https:// keys) from REGISTRY_AUTH_FILE before DOCKER_CONFIG', async () => {
    const t = await tempDir('client-units');
    try {
      const authFile = join(t.path, 'auth.json');
      const docker = join(t.path, 'docker');
      await writeFile(authFile, JSON.stringify({ auths: { 'a:1': { auth: Buffer.from('u:p:with:colons').toString('base64') } } }));
      const env = { REGISTRY_AUTH_FILE: authFile, DOCKER_CONFIG: docker };
      assert.deepEqual(lookupPaths(env), [authFile, join(docker, 'config.json')]);
      assert.equal(configPath(env), join(docker, 'config.json'));
      await import('node:fs/promises').then((fs) => fs.mkdir(docker));
      await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { 'https://b:2': { auth: Buffer.from('v:q').toString('base64') }, 'c:3': { identitytoken: 'rt' } } }));
      const paths = lookupPaths(env);
      assert.deepEqual(await lookupCredentials('a:1', paths), { username: 'u', password: 'p:with:colons' });
      assert.deepEqual(await lookupCredentials('b:2', paths), { username: 'v', password: 'q' });
      assert.deepEqual(await lookupCredentials('c:3', paths), { identityToken: 'rt' });
      assert.equal(await lookupCredentials('d:4', paths), undefined);
    } finally {
      await t.cleanup();
    }
  });

  it('reads the auths map when the credsStore helper is not installed, as docker does (and logout still clears it)', async () => {
    const t = await tempDir('client-units-helper');
    try {
      // docker-credential-desktop on a Linux machine: a config.json copied from Docker Desktop.
      const config = join(t.path, 'config.json');
      const auth = Buffer.from('u:p').toString('base64');
      await writeFile(config, JSON.stringify({ auths: { 'a:1': { auth } }, credsStore: 'berth-test-not-installed', credHelpers: { 'b:2': 'berth-test-not-installed' } }));
      assert.deepEqual(await lookupCredentials('a:1', [config]), { username: 'u', password: 'p' });
      // No stored login at all: anonymous, not an error (an open registry must stay reachable).
      assert.equal(await lookupCredentials('b:2', [config]), undefined);
      assert.equal(await eraseCredentials('a:1', config), true);
      assert.deepEqual((await readConfig(config)).auths, {});
    } finally {
      await t.cleanup();
    }
  });
});
