// Whether a new root may be trusted (Notary's trustpinning.ValidateRoot, with trust on first use):
//  - its root keys are certificates for the GUN (certificates.ts), at least one of them valid;
//  - it is signed by its own valid root certificates, meeting its own root threshold;
//  - on a rotation, it is also signed by the previous root's certificates for the GUN (expiry not
//    checked), meeting the previous root's threshold: a new root key alone cannot take over.
import { checkRootCertificate } from './certificates.ts';
import { ValidationFailure } from './errors.ts';
import type { ParsedKey } from './keys.ts';
import type { Root } from './metadata.ts';
import { checkThreshold } from './signatures.ts';

export function validateRootTrust(gun: string, root: Root, previous: Root | undefined, now: Date): void {
  const fail = (msg: string) => new ValidationFailure('ErrBadRoot', msg);
  const own = rootCertificateKeys(root, gun, true, now);
  if (own.keys.size === 0) throw fail(`could not validate the path to a trusted root: unable to retrieve valid leaf certificates (${own.reasons.slice(0, 3).join('; ') || 'no root keys'})`);

  if (previous) {
    const trusted = rootCertificateKeys(previous, gun, false, now);
    const verdict = checkThreshold(root.envelope.canonical, root.envelope.signatures, { name: 'root (previous root keys)', keys: trusted.keys, threshold: previous.roles.root.threshold });
    if (!verdict.ok) throw fail(`could not rotate trust to a new trusted root: failed to validate data with current trusted certificates (${verdict.reason})`);
  }

  const verdict = checkThreshold(root.envelope.canonical, root.envelope.signatures, { name: 'root', keys: own.keys, threshold: root.roles.root.threshold });
  if (!verdict.ok) throw fail(`could not validate the path to a trusted root: failed to validate integrity of roots (${verdict.reason})`);
  if (root.envelope.expires.getTime() <= now.getTime()) throw fail('root is expired');
}

/** The root role's keys whose certificates are valid for the GUN. */
function rootCertificateKeys(root: Root, gun: string, checkExpiry: boolean, now: Date): { keys: Map<string, ParsedKey>; reasons: string[] } {
  const keys = new Map<string, ParsedKey>();
  const reasons: string[] = [];
  for (const id of root.roles.root.keyids) {
    const key = root.keys.get(id);
    if (!key) continue;
    const check = checkRootCertificate(key, gun, { checkExpiry, now });
    if (check.ok) keys.set(id, key);
    else reasons.push(`${id.slice(0, 12)}: ${check.reason}`);
  }
  return { keys, reasons };
}
