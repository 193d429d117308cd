// The GPG simple signatures of an image read from a registry's signatures extension, each checked
// against trusted keys (gpg.ts), for `berth verify --gpg-keyring`.
import type { RegistryClient } from '../../client/index.ts';
import { listSimpleSignatures, supportsSignatureExtension } from './client.ts';
import { verifySimpleSignature, type ExpectedImage, type GpgKeys, type GpgVerification } from './gpg.ts';

export interface GpgSignatureReport extends Omit<GpgVerification, 'payload'> {
  kind: 'gpg';
  /** The signature's name in the extension. */
  name: string;
  /** The payload's identity (docker-reference), once the signature verified. */
  dockerReference?: string;
}

export interface GpgFindings {
  /** Whether the registry stores signatures (X-Registry-Supports-Signatures). */
  extension: boolean;
  signatures: GpgSignatureReport[];
}

export async function findSimpleSignatures(client: RegistryClient, repo: string, keys: GpgKeys, expected: ExpectedImage): Promise<GpgFindings> {
  if (!(await supportsSignatureExtension(client))) return { extension: false, signatures: [] };
  const listed = (await listSimpleSignatures(client, repo, expected.digest)) ?? [];
  const signatures: GpgSignatureReport[] = [];
  for (const s of listed) {
    const { payload, ...v } = await verifySimpleSignature(s.content, keys, expected);
    signatures.push({ kind: 'gpg', name: s.name, ...v, ...(payload && { dockerReference: payload.dockerReference }) });
  }
  return { extension: true, signatures };
}
