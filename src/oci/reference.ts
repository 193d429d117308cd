// Repository name and tag grammar from the OCI Distribution Spec ("Pulling manifests"):
//   <name>      [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
//   <reference> as a tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
import { RegistryError } from '../registry/errors.ts';
import { isDigest } from './digest.ts';

const component = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const nameGrammar = new RegExp(`^${component}(?:/${component})*$`);
const tagGrammar = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** registry:2 limits the name to 255 characters (distribution/reference NameTotalLengthMax). */
export const MAX_NAME_LENGTH = 255;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && nameGrammar.test(name);
}

export function assertValidName(name: string): void {
  if (!isValidName(name)) {
    const why = name.length > MAX_NAME_LENGTH ? `longer than ${MAX_NAME_LENGTH} characters` : 'does not match the repository name grammar';
    throw new RegistryError('NAME_INVALID', { message: `invalid repository name: ${why}`, detail: { name: name.slice(0, 300) } });
  }
}

export function isValidTag(tag: string): boolean {
  return tagGrammar.test(tag);
}

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: string };

/** A manifest reference is either a digest or a tag; anything else is TAG_INVALID (or DIGEST_INVALID for a malformed digest). */
export function parseReference(reference: string): Reference {
  if (reference.includes(':')) {
    if (!isDigest(reference)) {
      throw new RegistryError('DIGEST_INVALID', { message: 'invalid digest in manifest reference', detail: { reference: reference.slice(0, 200) } });
    }
    return { kind: 'digest', digest: reference };
  }
  if (!isValidTag(reference)) {
    throw new RegistryError('TAG_INVALID', { message: 'invalid tag: must match [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}', detail: { tag: reference.slice(0, 200) } });
  }
  return { kind: 'tag', tag: reference };
}
