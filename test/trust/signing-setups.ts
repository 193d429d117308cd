// The three ways the simple-signing client suite (simple-signatures.test.ts) meets berth, as issue
// 12 asks: plain HTTP without auth; TLS with the CA from `berth tls init` (the clients trust it
// through --cert-dir, nothing is marked insecure); berth's token service in front of htpasswd
// users with access control on (a writer who may push to the `simple` and `pub` namespaces, a
// reader who may only pull from `simple`, a site admin; `pub` is public, so anyone may pull it).
// Each setup hands out the flags every client needs for it, so the tests read the same for all.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { clientSandbox, run, startBerth, type ClientSandbox, type RunningServer } from '../helpers/processes.ts';
import { https1, listening, tlsInit } from '../tls/helpers.ts';
import { basic, htpasswdText } from '../auth/harness.ts';

export type SetupKind = 'http' | 'tls' | 'token';
export type User = 'admin' | 'writer' | 'reader';
/** Who a client acts as: a user of the token setup, or nobody (no credentials at all). */
export type Who = User | 'anonymous';

export const SETUPS: { kind: SetupKind; title: string }[] = [
  { kind: 'http', title: 'plain HTTP, no auth' },
  { kind: 'tls', title: 'TLS from berth tls init' },
  { kind: 'token', title: "berth's token service, a writer and a reader" },
];

export const USERS: Record<User, string> = { admin: 'admin-Sign1ng-pw', writer: 'writer-Sign1ng-pw', reader: 'reader-Sign1ng-pw' };

export interface SigningSetup {
  kind: SetupKind;
  /** The registry under test. */
  server: RunningServer;
  /** Another berth with the same transport and logins (accessControl off), for berth copy. */
  second: RunningServer;
  sandbox: ClientSandbox;
  /** skopeo flags to read from a server as `who` (TLS trust, credentials); `side` = src, dest or none (inspect, delete). */
  skopeoAs(side: 'src' | 'dest' | '', who: Who): string[];
  /** podman pull flags as `who`: TLS trust and, with the token service, the authfile `podman login` wrote. */
  podmanAs(who: Who): string[];
  /** berth CLI connection flags (verify, copy: `prefix` src-/dest-) as `who`. */
  berthAs(who: Who, prefix?: '' | 'src-' | 'dest-'): string[];
  /** GET /extensions/v2/<repo>/signatures/<digest> as `who` (the reader where there are logins). */
  listSignatures(on: RunningServer, repo: string, digest: string, who?: Who): Promise<{ status: number; body?: { signatures: { name: string; content: string }[] } }>;
  stop(): Promise<void>;
}

/** A user's credentials in the token setup; nothing elsewhere (no auth there), nor for anonymous. */
function credsOf(kind: SetupKind, who: Who): string | undefined {
  return kind === 'token' && who !== 'anonymous' ? `${who}:${USERS[who]}` : undefined;
}

export async function startSigningSetup(kind: SetupKind, work: string): Promise<SigningSetup> {
  let serverYaml = 'log: {level: info}\n';
  let secondYaml = serverYaml;
  let ca: string | undefined;
  let trustDir: string | undefined;
  if (kind === 'tls') {
    const certs = (await tlsInit(join(work, 'certs'), ['--host', 'localhost', '--ip', '127.0.0.1'])).files;
    ca = certs.ca;
    // --cert-dir takes a directory of *.crt CAs (as /etc/containers/certs.d/<host>/ does): ours only.
    trustDir = join(work, 'trust');
    await mkdir(trustDir);
    await copyFile(certs.ca, join(trustDir, 'ca.crt'));
    serverYaml += `http:\n  tls:\n    certificate: ${certs.cert}\n    key: ${certs.key}\n`;
    secondYaml = serverYaml;
  } else if (kind === 'token') {
    const htpasswd = join(work, 'htpasswd');
    await writeFile(htpasswd, await htpasswdText(USERS));
    const auth = `auth:\n  htpasswd: {realm: berth-signing, path: ${htpasswd}}\n  token: {service: berth-signing, issuer: berth-signing}\n`;
    serverYaml += `${auth}berth:\n  auth:\n    tokenservice: {enabled: true}\n    accesscontrol: {enabled: true, admins: [admin]}\n`;
    secondYaml += `${auth}berth:\n  auth:\n    tokenservice: {enabled: true}\n`;
  }
  const tlsOpts = kind === 'tls' ? ({ scheme: 'https', ready: listening } as const) : {};
  const server = await startBerth({ configYaml: serverYaml, ...tlsOpts });
  let second: RunningServer | undefined;
  let sandbox: ClientSandbox | undefined;
  try {
    second = await startBerth({ configYaml: secondYaml, ...tlsOpts });
    // Over TLS nothing is insecure: the clients must trust the CA.
    sandbox = await clientSandbox(`simple-signing-${kind}`, kind === 'tls' ? [] : [server.host, second.host]);
    const sb = sandbox;

    if (kind === 'token') {
      // The site admin gives the writer push on `simple` and `pub`, the reader pull on `simple`, and makes `pub` public.
      const api = async (method: string, path: string, json: unknown) => {
        const res = await fetch(`${server.url}/api/v1${path}`, { method, headers: { Authorization: basic('admin', USERS.admin), 'Content-Type': 'application/json' }, body: JSON.stringify(json) });
        assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.text()}`);
      };
      for (const user of ['writer', 'reader']) await api('POST', '/users', { name: user });
      for (const [user, ns, role] of [['writer', 'simple', 'write'], ['writer', 'pub', 'write'], ['reader', 'simple', 'read']] as const) {
        await api('POST', '/permissions', { subject: { kind: 'user', name: user }, scope: { kind: 'namespace', name: ns }, role });
      }
      await api('PUT', '/namespaces/pub', { visibility: 'public' });
    }

    // podman logs in as the reader, into its own authfile (skopeo reads REGISTRY_AUTH_FILE, which stays empty).
    const podmanAuth = join(sb.dir, 'podman-reader-auth.json');
    if (kind === 'token') {
      const tlsFlag = trustDir ? [`--cert-dir=${trustDir}`] : ['--tls-verify=false'];
      const login = await run('podman', ['login', '--authfile', podmanAuth, ...tlsFlag, '-u', 'reader', '--password-stdin', server.host], { env: sb.env, input: USERS.reader });
      assert.match(login.stdout, /Login Succeeded/);
    }

    const s2 = second;
    return {
      kind,
      server,
      second: s2,
      sandbox: sb,
      skopeoAs(side, who) {
        const p = side ? `${side}-` : '';
        const creds = credsOf(kind, who);
        return [trustDir ? `--${p}cert-dir=${trustDir}` : `--${p}tls-verify=false`, ...(creds ? [`--${p}creds=${creds}`] : kind === 'token' ? [`--${p}no-creds`] : [])];
      },
      podmanAs(who) {
        const tlsFlag = trustDir ? `--cert-dir=${trustDir}` : '--tls-verify=false';
        if (kind !== 'token') return [tlsFlag];
        if (who === 'reader') return [tlsFlag, '--authfile', podmanAuth];
        if (who === 'anonymous') return [tlsFlag];
        return [tlsFlag, '--creds', credsOf(kind, who)!];
      },
      berthAs(who, prefix = '') {
        const creds = credsOf(kind, who);
        return [...(ca ? [`--${prefix}ca-cert`, ca] : [`--${prefix}insecure`]), ...(creds ? [`--${prefix}creds`, creds] : [])];
      },
      async listSignatures(on, repo, digest, who = 'reader') {
        const path = `/extensions/v2/${repo}/signatures/${digest}`;
        const headers = kind === 'token' && who !== 'anonymous' ? { Authorization: basic(who, USERS[who]) } : undefined;
        let status: number;
        let text: string;
        if (ca) {
          const res = await https1(on.port, { ca }, path, { headers });
          status = res.status;
          text = res.body.toString('utf8');
        } else {
          const res = await fetch(`${on.url}${path}`, { headers });
          status = res.status;
          text = await res.text();
        }
        return { status, ...(status === 200 && { body: JSON.parse(text) as { signatures: { name: string; content: string }[] } }) };
      },
      async stop() {
        await server.stop();
        await s2.stop();
        await sb.cleanup();
      },
    };
  } catch (e) {
    await server.stop();
    await second?.stop();
    await sandbox?.cleanup();
    throw e;
  }
}
