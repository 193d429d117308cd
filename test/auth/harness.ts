// In-process registry with authentication for the auth tests: real server on 127.0.0.1:<random>,
// real stores in a temp dir, and every log line (access log included) kept for the checks that
// nothing secret is ever logged.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { defaultConfig, type BerthConfig } from '../../src/config/index.ts';
import type { AuthOverrides } from '../../src/http/auth-middleware.ts';
import { startRegistry, type RunningRegistry } from '../../src/http/server.ts';

export interface AuthRegistry extends RunningRegistry {
  root: string;
  /** Every log line so far (JSON), access log included. */
  logs(): string;
  stop(): Promise<void>;
}

/** bcrypt at cost 4 (the minimum): the same code path as cost 10, a hundred times faster in tests. */
export async function htpasswdText(users: Record<string, string>, cost = 4): Promise<string> {
  const lines: string[] = [];
  for (const [u, p] of Object.entries(users)) lines.push(`${u}:${(await bcrypt.hash(p, cost)).replace(/^\$2b\$/, '$2y$')}`);
  return `${lines.join('\n')}\n`;
}

export async function startAuthRegistry(adjust: (c: BerthConfig, root: string) => void | Promise<void>, overrides?: AuthOverrides): Promise<AuthRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'berth-auth-'));
  const config = defaultConfig();
  config.http.addr = '127.0.0.1:0';
  config.storage.filesystem.rootdirectory = root;
  config.storage.delete.enabled = true;
  config.log.level = 'debug';
  await adjust(config, root);
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const registry = await startRegistry(config, pino({ level: 'debug' }, sink), overrides);
  return {
    ...registry,
    root,
    logs: () => text,
    async stop() {
      await registry.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A registry with auth.htpasswd = these users (file written before start). */
export async function startHtpasswdRegistry(users: Record<string, string>, more: (c: BerthConfig, root: string) => void = () => {}, overrides?: AuthOverrides): Promise<AuthRegistry> {
  return startAuthRegistry(async (c, root) => {
    const path = join(root, 'htpasswd');
    await writeFile(path, await htpasswdText(users));
    c.auth = { htpasswd: { realm: 'berth-test', path } };
    more(c, root);
  }, overrides);
}

/** berth's own token service in front of htpasswd users. */
export async function startTokenRegistry(users: Record<string, string>, more: (c: BerthConfig, root: string) => void = () => {}, overrides?: AuthOverrides): Promise<AuthRegistry> {
  return startHtpasswdRegistry(
    users,
    (c, root) => {
      c.auth = { ...c.auth, token: { service: 'berth-test', issuer: 'berth-test-issuer', autoredirect: false } };
      c.berth.auth.tokenservice.enabled = true;
      more(c, root);
    },
    overrides,
  );
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

export async function errorBody(res: Response): Promise<{ code: string; message: string; detail?: unknown }[]> {
  const text = await res.text();
  return text ? ((JSON.parse(text) as { errors: { code: string; message: string }[] }).errors ?? []) : [];
}

/** Fetches a token from berth's GET /auth/token. */
export async function getToken(base: string, scopes: string[], auth?: string, extra: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const q = new URLSearchParams({ service: 'berth-test', ...extra });
  for (const s of scopes) q.append('scope', s);
  const res = await fetch(`${base}/auth/token?${q}`, { headers: auth ? { Authorization: auth } : {} });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export async function postToken(base: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ service: 'berth-test', client_id: 'berth-tests', ...form }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** The JSON payload of a JWT (no verification: for assertions only). */
export function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function header(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function pushBlob(base: string, name: string, auth: string, data = randomBytes(256)): Promise<Response> {
  return fetch(`${base}/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/octet-stream' },
    body: new Uint8Array(data),
  });
}

export async function pushImage(base: string, name: string, tag: string, auth: string): Promise<string> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: randomBytes(4).toString('hex') }));
  const layer = randomBytes(300);
  for (const b of [config, layer]) assert.equal((await pushBlob(base, name, auth, b)).status, 201);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
    }),
  );
  const res = await fetch(`${base}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { Authorization: auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    body: new Uint8Array(manifest),
  });
  assert.equal(res.status, 201, await res.text());
  return sha256(manifest);
}

