// `podman search host/term` against berth: it asks GET /v1/search (containers/image tries it first,
// without credentials) and no longer walks /v2/_catalog, which the debug listener's request
// counters show. With the access model, an anonymous search lists the public namespaces' matches;
// on a registry where anonymous callers may pull nothing, berth refuses the anonymous search and
// podman falls back to its authenticated catalog walk, so a logged-in user still finds everything.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { clientSandbox, freePort, hasCommand, run, startBerth, tempDir, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { htpasswdText } from '../auth/harness.ts';
import { body, sha256 } from '../http/harness.ts';
import { parseExposition, value } from '../metrics/exposition.ts';

const USERS = { admin: 'admin-password-1', dana: 'dana-password-1' };
const basic = (u: keyof typeof USERS) => `Basic ${Buffer.from(`${u}:${USERS[u]}`).toString('base64')}`;

/** A repository with an image in it (the catalog podman may fall back to lists only those). */
async function createRepository(base: string, name: string, auth?: string): Promise<void> {
  const headers: Record<string, string> = auth ? { Authorization: auth } : {};
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, name }));
  const blob = await fetch(`${base}/v2/${name}/blobs/uploads/?digest=${sha256(config)}`, { method: 'POST', headers, body: body(config) });
  assert.equal(blob.status, 201, `${name}: ${blob.status} ${await blob.text()}`);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [],
  });
  const put = await fetch(`${base}/v2/${name}/manifests/latest`, { method: 'PUT', headers: { ...headers, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' }, body: manifest });
  assert.equal(put.status, 201, `${name}: ${put.status} ${await put.text()}`);
}

/** registry_http_requests_total of one handler, all methods and codes. */
async function requests(debugUrl: string, handler: string): Promise<number> {
  const families = parseExposition(await (await fetch(`${debugUrl}/metrics`)).text());
  return (families.get('registry_http_requests_total')?.samples ?? []).filter((s) => s.labels.handler === handler).reduce((n, s) => n + s.value, 0);
}

async function startWithDebug(configYaml: string): Promise<{ server: RunningServer; debugUrl: string }> {
  const port = await freePort();
  const server = await startBerth({ configYaml: `http: {debug: {addr: "127.0.0.1:${port}", prometheus: {enabled: true}}}\n${configYaml}` });
  return { server, debugUrl: `http://127.0.0.1:${port}` };
}

describe('podman search', { skip: !hasCommand('podman') && 'podman not installed' }, () => {
  let sb: ClientSandbox;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const servers: RunningServer[] = [];
  const podman = (args: string[], input?: string) => run('podman', [...sb.podmanFlags, ...args], { env: sb.env, ...(input !== undefined && { input }) });
  const searchNames = async (host: string, term: string, ...flags: string[]) =>
    (await podman(['search', '--tls-verify=false', '--format', '{{.Name}}', ...flags, `${host}/${term}`])).stdout.split('\n').filter(Boolean);

  before(async () => {
    sb = await clientSandbox('podman-search');
    work = await tempDir('podman-search-work');
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await sb?.cleanup();
    await work?.cleanup();
  });

  it('uses /v1/search on an open registry instead of walking the catalog', async () => {
    const { server, debugUrl } = await startWithDebug('');
    servers.push(server);
    for (const n of ['shop/api', 'shop/api-gateway', 'shop/web', 'tools/apitest']) await createRepository(server.url, n);
    const found = await searchNames(server.host, 'api');
    assert.deepEqual(found, [`${server.host}/shop/api`, `${server.host}/shop/api-gateway`, `${server.host}/tools/apitest`]);
    assert.deepEqual(await searchNames(server.host, 'api', '--limit', '2'), [`${server.host}/shop/api`, `${server.host}/shop/api-gateway`]);
    assert.deepEqual(await searchNames(server.host, 'nothing-like-this'), []);
    assert.equal(await requests(debugUrl, 'search'), 3);
    assert.equal(await requests(debugUrl, 'catalog'), 0, 'podman did not fall back to /v2/_catalog');
  });

  it('with the access model: an anonymous search lists the public namespace only', async () => {
    const htpasswd = join(work.path, 'htpasswd-ac');
    await writeFile(htpasswd, await htpasswdText(USERS));
    const { server, debugUrl } = await startWithDebug(`auth: {htpasswd: {realm: search, path: ${htpasswd}}}\nberth: {auth: {accesscontrol: {enabled: true, admins: [admin]}}}`);
    servers.push(server);
    for (const n of ['open/api', 'closed/api']) await createRepository(server.url, n, basic('admin'));
    const ns = await fetch(`${server.url}/api/v1/namespaces/open`, { method: 'PUT', headers: { Authorization: basic('admin'), 'Content-Type': 'application/json' }, body: JSON.stringify({ visibility: 'public' }) });
    assert.ok(ns.status < 300, await ns.text());
    assert.deepEqual(await searchNames(server.host, 'api'), [`${server.host}/open/api`]);
    assert.equal(await requests(debugUrl, 'catalog'), 0);
  });

  it('where anonymous callers may pull nothing, podman falls back to its logged-in catalog walk', async () => {
    const htpasswd = join(work.path, 'htpasswd');
    await writeFile(htpasswd, await htpasswdText(USERS));
    const { server, debugUrl } = await startWithDebug(`auth: {htpasswd: {realm: search, path: ${htpasswd}}}`);
    servers.push(server);
    for (const n of ['priv/api', 'priv/web']) await createRepository(server.url, n, basic('dana'));
    await podman(['login', '--tls-verify=false', '-u', 'dana', '--password-stdin', server.host], USERS.dana);
    assert.deepEqual(await searchNames(server.host, 'api'), [`${server.host}/priv/api`]);
    assert.equal(await requests(debugUrl, 'search'), 1, 'asked /v1/search first (refused: 401)');
    assert.ok((await requests(debugUrl, 'catalog')) >= 1, 'then walked the catalog with the login');
    await podman(['logout', server.host]);
  });
});
