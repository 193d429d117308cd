// Checks a user name and password against every configured PasswordVerifier in order (htpasswd
// now; LDAP and personal access tokens plug in the same way); the first that accepts wins.
// bcrypt costs ~100-200 ms of CPU in JavaScript and a docker push sends dozens of requests with
// the same Basic credentials, so a success is remembered for a few minutes under a keyed hash of
// the credentials (never the password itself), and only for a verifier that can say when its data
// changed (htpasswd: the file's mtime/size/inode): an edited file invalidates every remembered entry.
import { createHmac, randomBytes } from 'node:crypto';
import { AuthBackendError, type PasswordVerifier, type Principal } from './types.ts';
import { canLookup, isRevisioned } from './capabilities.ts';

export type VerifyResult =
  | { ok: true; principal: Principal; verifier: PasswordVerifier }
  | { ok: false; /** a verifier knows the user but could not answer (directory down) */ backendDown: boolean };

interface Remembered {
  principal: Principal;
  verifier: PasswordVerifier;
  revision: string;
  expires: number;
}

function owns(v: PasswordVerifier, username: string, password: string): boolean {
  const f = (v as { owns?: (u: string, p: string) => boolean }).owns;
  return typeof f === 'function' && f.call(v, username, password);
}

export class PasswordChain {
  private readonly remembered = new Map<string, Remembered>();
  /** Per-process key: the cache keys are useless outside this process. */
  private readonly key = randomBytes(32);

  constructor(
    readonly verifiers: PasswordVerifier[],
    private readonly opts: { cacheTtlMs: number; maxEntries: number } = { cacheTtlMs: 5 * 60_000, maxEntries: 1000 },
  ) {}

  async verify(username: string, password: string): Promise<VerifyResult> {
    const cacheKey = createHmac('sha256', this.key).update(username).update('\0').update(password).digest('base64url');
    const hit = this.remembered.get(cacheKey);
    if (hit) {
      const fresh = hit.expires > Date.now() && isRevisioned(hit.verifier) && (await hit.verifier.revision()) === hit.revision;
      if (fresh) return { ok: true, principal: structuredClone(hit.principal), verifier: hit.verifier };
      this.remembered.delete(cacheKey);
    }
    let backendDown = false;
    for (const v of this.verifiers) {
      try {
        // Taken before the check: a change during it makes the entry stale at once.
        const revision = isRevisioned(v) ? await v.revision() : undefined;
        const principal = await v.verify(username, password);
        if (!principal) {
          // A verifier that owns these credentials (a berth_pat_ token, a robot$ name) had the only
          // say: they must never be offered to htpasswd or LDAP as a password.
          if (owns(v, username, password)) break;
          continue;
        }
        if (revision !== undefined) this.remember(cacheKey, { principal: structuredClone(principal), verifier: v, revision, expires: Date.now() + this.opts.cacheTtlMs });
        return { ok: true, principal, verifier: v };
      } catch (e) {
        if (!(e instanceof AuthBackendError)) throw e;
        backendDown = true;
      }
    }
    return { ok: false, backendDown };
  }

  byName(name: string): PasswordVerifier | undefined {
    return this.verifiers.find((v) => v.name === name);
  }

  /** Whether some verifier that can look users up knows this name (decides whether a log line may name it). */
  async knows(username: string): Promise<boolean> {
    for (const v of this.verifiers) {
      if (canLookup(v) && (await v.lookup(username).catch(() => undefined))) return true;
    }
    return false;
  }

  private remember(key: string, entry: Remembered): void {
    if (this.remembered.size >= this.opts.maxEntries) {
      // Oldest first (Map keeps insertion order): bounded memory whatever clients send.
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) this.remembered.delete(oldest);
    }
    this.remembered.set(key, entry);
  }
}
