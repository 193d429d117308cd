// Digests as the OCI image spec defines them (descriptor.md#digests):
//   digest    ::= algorithm ":" encoded
//   algorithm ::= component (separator component)*    component ::= [a-z0-9]+   separator ::= [+._-]
//   encoded   ::= [a-zA-Z0-9=_-]+
// berth stores sha256 and sha512 (the registered algorithms); anything else is refused.
import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from '../registry/errors.ts';

export type DigestAlgorithm = 'sha256' | 'sha512';

const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const grammar = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  digest: string;
}

/** Parses and validates a digest string; throws DIGEST_INVALID for anything berth cannot verify. */
export function parseDigest(value: string): ParsedDigest {
  if (!grammar.test(value)) {
    throw new RegistryError('DIGEST_INVALID', { message: 'invalid digest format', detail: { digest: value.slice(0, 200) } });
  }
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new RegistryError('DIGEST_INVALID', { message: `unsupported digest algorithm ${algorithm}`, detail: { digest: value.slice(0, 200) } });
  }
  if (hex.length !== hexLength[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new RegistryError('DIGEST_INVALID', { message: 'invalid digest: wrong length or not lowercase hex', detail: { digest: value.slice(0, 200) } });
  }
  return { algorithm, hex, digest: value };
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function newHash(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Buffer | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
