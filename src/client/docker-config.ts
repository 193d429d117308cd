// ~/.docker/config.json: where docker, podman (as a fallback) and skopeo keep registry logins.
// Format: {"auths": {"host:port": {"auth": base64("user:password")}}, "credsStore": "x", "credHelpers": {"host": "y"}}.
import { readFile, writeFile, mkdir, rename } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker stores it as `identitytoken`). */
  identityToken?: string;
}

export interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

/** Where `docker login` writes: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

/** Files searched for a login: REGISTRY_AUTH_FILE (podman/skopeo's auth.json, same format) first, then docker's. */
export function lookupPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(env.REGISTRY_AUTH_FILE ? [env.REGISTRY_AUTH_FILE] : []), configPath(env)];
}

export async function readConfig(path = configPath()): Promise<DockerConfig> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as DockerConfig;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Written to a temp file and renamed, mode 0600 (it holds passwords), keeping keys we do not know. */
export async function writeConfig(config: DockerConfig, path = configPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

function helperFor(config: DockerConfig, host: string): string | undefined {
  return config.credHelpers?.[host] ?? config.credsStore;
}

/** Runs docker-credential-<helper> <action>, stdin → stdout, the protocol docker uses. */
export function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.on('error', (e) => reject(new Error(`credential helper docker-credential-${helper}: ${e.message}`)));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
    child.stdin.end(input);
  });
}

function decodeAuth(auth: string): Credentials {
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? {} : { username: text.slice(0, i), password: text.slice(i + 1) };
}

/** Candidate keys docker has used for the same registry over the years. */
function keysFor(host: string): string[] {
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
}

export async function lookupCredentials(host: string, paths = lookupPaths()): Promise<Credentials | undefined> {
  for (const p of paths) {
    const found = await lookupIn(host, p);
    if (found) return found;
  }
  return undefined;
}

async function lookupIn(host: string, path: string): Promise<Credentials | undefined> {
  const config = await readConfig(path);
  const helper = helperFor(config, host);
  if (helper) {
    // A helper that cannot be run (credsStore "desktop" in a config.json copied from a laptop, a
    // helper not on PATH) is no answer: docker ignores the error and reads the auths map, or goes
    // on anonymously, as skopeo and podman do (they never run credsStore).
    const r = await runHelper(helper, 'get', host).catch(() => undefined);
    if (r?.code === 0) {
      const j = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
      // docker's convention: Username "<token>" means Secret is an identity (refresh) token.
      if (j.Username === '<token>') return { identityToken: j.Secret };
      return { username: j.Username, password: j.Secret };
    }
    // "credentials not found" from the helper: fall through to the auths map, as docker does.
  }
  for (const k of keysFor(host)) {
    const entry = config.auths?.[k];
    if (!entry) continue;
    const creds = entry.auth ? decodeAuth(entry.auth) : {};
    if (entry.identitytoken) creds.identityToken = entry.identitytoken;
    if (creds.username || creds.identityToken) return creds;
  }
  return undefined;
}

export async function storeCredentials(host: string, creds: { username: string; password: string }, path = configPath()): Promise<string> {
  const config = await readConfig(path);
  const helper = helperFor(config, host);
  if (helper) {
    const r = await runHelper(helper, 'store', JSON.stringify({ ServerURL: host, Username: creds.username, Secret: creds.password }));
    if (r.code !== 0) throw new Error(`credential helper docker-credential-${helper} failed to store the login`);
    // docker records the host with an empty entry so `docker logout` and listings know about it.
    config.auths = { ...config.auths, [host]: {} };
    await writeConfig(config, path);
    return `docker-credential-${helper}`;
  }
  config.auths = { ...config.auths, [host]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } };
  await writeConfig(config, path);
  return path;
}

/** True when something was removed. */
export async function eraseCredentials(host: string, path = configPath()): Promise<boolean> {
  const config = await readConfig(path);
  let removed = false;
  const helper = helperFor(config, host);
  // A helper that cannot be run holds nothing to erase; the auths entries still go.
  if (helper) removed = (await runHelper(helper, 'erase', host).catch(() => undefined))?.code === 0;
  for (const k of keysFor(host)) {
    if (config.auths && k in config.auths) {
      delete config.auths[k];
      removed = true;
    }
  }
  if (removed) await writeConfig(config, path);
  return removed;
}
