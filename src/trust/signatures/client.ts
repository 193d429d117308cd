// The client side of the X-Registry-Supports-Signatures API extension (see http.ts), for
// `berth copy` (signatures go along when both registries have it) and `berth verify
// --gpg-keyring`. Behaves as containers/image does: the header on GET /v2/ says whether the
// registry stores signatures; a PUT adds one signature named `<digest>@<32 random hex>` after
// checking that the same bytes are not there yet.
import { randomBytes } from 'node:crypto';
import type { RegistryClient } from '../../client/index.ts';
import { header } from '../../client/transport.ts';

export interface StoredSimpleSignature {
  name: string;
  content: Buffer;
}

const supported = new WeakMap<RegistryClient, Promise<boolean>>();

/** Whether the registry answers GET /v2/ with `X-Registry-Supports-Signatures: 1` (asked once per client). */
export function supportsSignatureExtension(c: RegistryClient): Promise<boolean> {
  let p = supported.get(c);
  if (!p) {
    // 401 counts too: containers/image pings without credentials and reads the header there.
    // A registry that cannot even be pinged (a token service refusing anonymous tokens) does not count as one.
    p = c
      .request('/v2/', { ok: [200, 401] })
      .then((res) => header(res.headers, 'x-registry-supports-signatures') === '1')
      .catch(() => false);
    supported.set(c, p);
  }
  return p;
}

const path = (repo: string, digest: string) => `/extensions/v2/${repo}/signatures/${digest}`;

/** The manifest's simple signatures (type atomic, schemaVersion 2); undefined when the registry has no such manifest. */
export async function listSimpleSignatures(c: RegistryClient, repo: string, digest: string): Promise<StoredSimpleSignature[] | undefined> {
  const res = await c.request(path(repo, digest), { scope: `repository:${repo}:pull`, headers: { Accept: 'application/json' }, ok: [200, 404] });
  if (res.status === 404) return undefined;
  const body = JSON.parse(res.body.toString('utf8') || '{}') as { signatures?: { schemaVersion?: number; name?: string; type?: string; content?: string }[] | null };
  const out: StoredSimpleSignature[] = [];
  for (const s of body.signatures ?? []) {
    if (s?.schemaVersion === 2 && s.type === 'atomic' && typeof s.content === 'string') out.push({ name: String(s.name ?? ''), content: Buffer.from(s.content, 'base64') });
  }
  return out;
}

/** Adds a signature unless the same bytes are there already; true when one was added. */
export async function putSimpleSignature(c: RegistryClient, repo: string, digest: string, content: Buffer, existing?: StoredSimpleSignature[]): Promise<boolean> {
  const have = existing ?? (await listSimpleSignatures(c, repo, digest)) ?? [];
  if (have.some((s) => s.content.equals(content))) return false;
  const names = new Set(have.map((s) => s.name));
  let name: string;
  do name = `${digest}@${randomBytes(16).toString('hex')}`;
  while (names.has(name));
  await c.request(path(repo, digest), {
    method: 'PUT',
    scope: `repository:${repo}:pull,push`,
    headers: { 'Content-Type': 'application/json' },
    body: Buffer.from(JSON.stringify({ schemaVersion: 2, name, type: 'atomic', content: content.toString('base64') })),
    ok: [201],
  });
  return true;
}
