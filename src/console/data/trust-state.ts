// "Signed" and the pull policy's verdict, decided in one place for the repository page (a badge
// per tag), the image page (the same badge, and the Signatures card) and their JSON twins:
//  - signed: an accessory of the digest is a signature (an OCI referrer or a cosign-style
//    sha256-<hex>.sig tag: the store's accessories, TagRow.signed / ManifestDetail.signed), or
//    a GPG simple signature, or a Notary target of the tag;
//  - with a pull policy that applies: what a pull gets (verified, or refused: 'unverified' when
//    something signed it, 'refused' when nothing did); without one, 'signed' or nothing.
import type { ConsoleDeps } from '../deps.ts';
import type { ManifestRecord } from '../../metadata/store.ts';

export type TrustState = 'verified' | 'unverified' | 'refused' | 'signed' | undefined;

export interface TrustSubject {
  /** The tag it is pulled by, when there is one (Notary targets are per tag); none: a pull by digest. */
  tag?: string;
  /** Tags whose Notary targets count as signatures of it (default: `tag`). */
  tags?: string[];
  digest: string;
  /** Signed by an accessory (the store's rule). */
  signed: boolean;
}

export async function trustStates(deps: ConsoleDeps, host: string, name: string, items: TrustSubject[]): Promise<TrustState[]> {
  const { services } = deps;
  const trust = services.trust;
  if (!trust || items.length === 0) return items.map((i) => (i.signed ? 'signed' : undefined));
  const [applies, gpgSigned, notary] = await Promise.all([
    trust.applies(name),
    services.metadata.signatures.signed(name, [...new Set(items.map((i) => i.digest))]),
    trust.notaryTargetsByName(name, host),
  ]);
  const records = new Map<string, Promise<ManifestRecord | undefined>>();
  const record = (digest: string) => records.get(digest) ?? records.set(digest, services.metadata.manifest(name, digest)).get(digest)!;
  return Promise.all(
    items.map(async (item): Promise<TrustState> => {
      const hasNotary = (item.tags ?? (item.tag !== undefined ? [item.tag] : [])).some((t) => notary.has(t));
      const signed = item.signed || gpgSigned.has(item.digest) || hasNotary;
      if (!applies) return signed ? 'signed' : undefined;
      const rec = await record(item.digest);
      if (!rec) return signed ? 'signed' : undefined;
      let refusal = trust.check(name, item.digest, rec, { ...(item.tag !== undefined && { tag: item.tag }), host });
      if (refusal !== undefined && typeof refusal !== 'string') refusal = await refusal;
      return refusal ? (signed ? 'unverified' : 'refused') : 'verified';
    }),
  );
}
