// Simple signatures (containers/image "atomic" GPG signatures) stored in the registry, as the
// X-Registry-Supports-Signatures API extension serves them (src/trust/signatures/). One row per
// signature of a manifest; the bytes are kept exactly as pushed. A signature lives as long as its
// manifest: the rows go with the manifest row (a foreign key ON DELETE CASCADE, so every way a
// manifest is deleted takes them along: DELETE by digest, retention, GC, repository delete).

export interface SimpleSignature {
  /** `<manifest digest>@<32 hex>`, chosen by the client. */
  name: string;
  /** Always 'atomic' today (the extension's only type). */
  type: string;
  /** The signature's exact bytes (an OpenPGP signed message). */
  content: Buffer;
  /** Epoch ms. */
  createdAt: number;
  /** Who pushed it, when known. */
  createdBy: string | null;
}

export interface NewSimpleSignature {
  name: string;
  type: string;
  content: Buffer;
  createdBy?: string | null;
}

/**
 * What add() did: 'added'; 'exists' when the manifest already has a signature with these exact
 * bytes (nothing written: adding is idempotent); 'manifest-unknown' when the repository has no
 * such manifest; 'name-taken' when another signature of the manifest has that name; 'full' when
 * the manifest already has the most signatures a listing may carry (MAX_SIGNATURES_PER_MANIFEST).
 */
export type AddSignatureResult = 'added' | 'exists' | 'manifest-unknown' | 'name-taken' | 'full';

/**
 * containers/image reads a signature listing of at most 4 MiB; with signatures of up to 64 KiB
 * (base64: 88 KiB), 32 of them always fit.
 */
export const MAX_SIGNATURES_PER_MANIFEST = 32;
export const MAX_SIGNATURE_BYTES = 64 * 1024;

export interface SignatureStore {
  /** The manifest's signatures, oldest first; undefined when the repository has no such manifest. */
  list(repository: string, manifestDigest: string): Promise<SimpleSignature[] | undefined>;
  add(repository: string, manifestDigest: string, signature: NewSimpleSignature): Promise<AddSignatureResult>;
  /** Of these manifest digests, those with at least one signature in the repository. */
  signed(repository: string, manifestDigests: string[]): Promise<Set<string>>;
}
