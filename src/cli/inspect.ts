// `berth inspect IMAGE`: the manifest as the registry stores it, with its config and layer sizes,
// or the platforms of an index, and the image's signatures of every kind (inspect-signatures.ts),
// checked against --key / --gpg-keyring when given. `--raw` prints the exact manifest bytes (same
// as skopeo --raw). A manifest the registry's pull policy refuses is shown by its digest, with the
// refusal and the signatures.
import { readFile } from 'node:fs/promises';
import { getBlob, getManifest, headManifest, listReferrers, manifestRef, parseImageRef, RegistryHttpError, type RegistryClient } from '../client/index.ts';
import { isIndexType } from '../client/media.ts';
import { humanBytes } from '../util/human-bytes.ts';
import { connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';
import { inspectSignatures, printSignatures, type SignatureKeys } from './inspect-signatures.ts';

export interface InspectOptions extends ConnectionOptions {
  raw?: boolean;
  config?: boolean;
  /** A cosign public key: cosign signatures are verified with it. */
  key?: string;
  /** GPG public keys: simple signatures are verified with them. */
  gpgKeyring?: string;
}

interface Desc {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

interface Referrer {
  artifactType?: string;
  digest: string;
  size: number;
}

/** The manifest's referrers (signatures, SBOMs); best effort: a registry refusing the listing just shows none. */
async function referrersOf(client: RegistryClient, repo: string, digest: string): Promise<Referrer[]> {
  try {
    const { manifests } = await listReferrers(client, repo, digest);
    return manifests.map((d) => ({ artifactType: d.artifactType, digest: d.digest, size: d.size }));
  } catch {
    return [];
  }
}

function printReferrers(referrers: Referrer[]): void {
  if (!referrers.length) return;
  process.stdout.write(`Referrers (${referrers.length}):\n`);
  for (const r of referrers) process.stdout.write(`  ${(r.artifactType ?? 'unknown').padEnd(40)} ${r.digest}  ${humanBytes(r.size)}\n`);
}

export function inspectCommand(image: string, opts: InspectOptions): Promise<number> {
  return runCommand(async () => {
    const ref = parseImageRef(image);
    const keys = await signatureKeys(opts);
    const client = await connect(ref.host, opts);
    let m;
    try {
      m = await getManifest(client, ref.repo, manifestRef(ref));
    } catch (e) {
      // Refused by the registry's pull policy (403): show what it refuses, and the signatures.
      if (!(e instanceof RegistryHttpError) || e.status !== 403 || opts.raw || opts.config) throw e;
      const head = await headManifest(client, ref.repo, manifestRef(ref)).catch(() => undefined);
      if (!head) throw e;
      const signatures = await inspectSignatures(client, ref.host, ref.repo, { ...head, ...(ref.tag && !ref.digest && { tag: ref.tag }) }, keys);
      if (opts.json) printJson({ name: `${ref.host}/${ref.repo}`, digest: head.digest, mediaType: head.mediaType, size: head.size, refused: e.message, signatures });
      else {
        process.stdout.write(`Name:      ${ref.host}/${ref.repo}\nDigest:    ${head.digest}\nMediaType: ${head.mediaType}\nRefused:   ${e.message}\n`);
        printSignatures(signatures, (t) => process.stdout.write(t));
      }
      return 1;
    }
    if (opts.raw) {
      process.stdout.write(m.bytes);
      return;
    }
    const body = JSON.parse(m.bytes.toString('utf8')) as { config?: Desc; layers?: Desc[]; manifests?: Desc[] };
    const referrers = opts.config ? [] : await referrersOf(client, ref.repo, m.digest);
    const signatures = opts.config ? [] : await inspectSignatures(client, ref.host, ref.repo, { digest: m.digest, size: m.bytes.length, ...(ref.tag && !ref.digest && { tag: ref.tag }) }, keys);
    const withReferrers = { ...(referrers.length && { referrers }), signatures };
    if (isIndexType(m.mediaType)) {
      const platforms = (body.manifests ?? []).map((d) => ({ digest: d.digest, mediaType: d.mediaType, size: d.size, platform: d.platform }));
      if (opts.json) return printJson({ name: `${ref.host}/${ref.repo}`, digest: m.digest, mediaType: m.mediaType, size: m.bytes.length, manifests: platforms, ...withReferrers });
      process.stdout.write(`Name:      ${ref.host}/${ref.repo}\nDigest:    ${m.digest}\nMediaType: ${m.mediaType}\nManifests:\n`);
      for (const p of platforms) {
        const plat = p.platform ? [p.platform.os, p.platform.architecture, p.platform.variant].filter(Boolean).join('/') : 'unknown';
        process.stdout.write(`  ${plat.padEnd(20)} ${p.digest}  ${humanBytes(p.size)}\n`);
      }
      printReferrers(referrers);
      printSignatures(signatures, (t) => process.stdout.write(t));
      return;
    }
    let config: Record<string, unknown> | undefined;
    if (body.config) {
      try {
        config = JSON.parse((await getBlob(client, ref.repo, body.config.digest)).toString('utf8')) as Record<string, unknown>;
      } catch {
        config = undefined; // artifacts may have non-JSON (or empty) configs: show the descriptor only
      }
    }
    if (opts.config) return printJson(config ?? null);
    const layers = (body.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size }));
    const total = layers.reduce((s, l) => s + (l.size ?? 0), 0);
    const platform = config ? [config.os, config.architecture, config.variant].filter(Boolean).join('/') : undefined;
    if (opts.json) {
      return printJson({
        name: `${ref.host}/${ref.repo}`,
        digest: m.digest,
        mediaType: m.mediaType,
        size: m.bytes.length,
        platform,
        config: body.config ? { digest: body.config.digest, mediaType: body.config.mediaType, size: body.config.size } : undefined,
        created: config?.created,
        layers,
        layersSize: total,
        ...withReferrers,
      });
    }
    process.stdout.write(`Name:      ${ref.host}/${ref.repo}\nDigest:    ${m.digest}\nMediaType: ${m.mediaType}\n`);
    if (platform) process.stdout.write(`Platform:  ${platform}\n`);
    if (body.config) process.stdout.write(`Config:    ${body.config.digest}  ${humanBytes(body.config.size)}\n`);
    process.stdout.write(`Layers (${layers.length}, ${humanBytes(total)}):\n`);
    for (const l of layers) process.stdout.write(`  ${l.digest}  ${humanBytes(l.size)}\n`);
    printReferrers(referrers);
    printSignatures(signatures, (t) => process.stdout.write(t));
  });
}

async function signatureKeys(opts: InspectOptions): Promise<SignatureKeys> {
  const keys: SignatureKeys = {};
  if (opts.key) keys.key = (await import('../trust/cosign/keys.ts')).readPublicKey(await readFile(opts.key, 'utf8'));
  if (opts.gpgKeyring) keys.gpgKeys = await (await import('../trust/signatures/gpg.ts')).readGpgKeys(await readFile(opts.gpgKeyring), opts.gpgKeyring);
  return keys;
}
