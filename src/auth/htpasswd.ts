// auth.htpasswd as a PasswordVerifier. Like distribution, the file is checked for changes on use
// (stat per check, re-read when its mtime, size or inode changed), so `berth user add` or
// `htpasswd -B` take effect without a restart. At start a bad entry stops the server with the
// user's name; on a later re-read bad entries are skipped (those users cannot log in) and logged,
// so one mistyped line does not lock everybody out or keep a removed user alive.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import type { Logger } from 'pino';
import type { PasswordVerifier, Principal } from './types.ts';
import type { PrincipalLookup, Revisioned } from './capabilities.ts';
import { parseHtpasswd } from './htpasswd-format.ts';

interface Snapshot {
  signature: string;
  entries: Map<string, string>;
}

export class HtpasswdLoadError extends Error {}

export class HtpasswdFile implements PasswordVerifier, PrincipalLookup, Revisioned {
  readonly name = 'htpasswd';
  private snapshot: Snapshot;
  private reloading: Promise<Snapshot> | undefined;
  private missingLogged = false;

  private constructor(
    readonly path: string,
    snapshot: Snapshot,
    private readonly log: Logger,
  ) {
    this.snapshot = snapshot;
  }

  /** Reads the file strictly: any unusable line is an error naming the line (and user), never the hash. */
  static async open(path: string, log: Logger): Promise<HtpasswdFile> {
    const signature = await signatureOf(path);
    if (signature === undefined) throw new HtpasswdLoadError(`auth.htpasswd.path: cannot read ${path}`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new HtpasswdLoadError(`auth.htpasswd.path: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const { entries, problems } = parseHtpasswd(text);
    if (problems.length) throw new HtpasswdLoadError(`auth.htpasswd: ${path}: ${problems.join('; ')}`);
    if (entries.size === 0) log.warn({ path }, 'auth.htpasswd: the file has no users; nobody can log in');
    return new HtpasswdFile(path, { signature, entries }, log);
  }

  async verify(username: string, password: string): Promise<Principal | undefined> {
    const { entries } = await this.current();
    const hash = entries.get(username);
    // bcryptjs compares the computed hash in constant time; the dummy keeps unknown users as slow as known ones.
    const ok = await bcrypt.compare(password, hash ?? (await dummyFor(entries)));
    return ok && hash !== undefined ? principalOf(username) : undefined;
  }

  async lookup(username: string): Promise<{ principal: Principal; stamp: string } | undefined> {
    const hash = (await this.current()).entries.get(username);
    if (hash === undefined) return undefined;
    // The stamp changes with the hash (a new salt on every password change); it never contains it.
    return { principal: principalOf(username), stamp: createHash('sha256').update(hash).digest('base64url') };
  }

  async revision(): Promise<string> {
    return (await this.current()).signature;
  }

  async users(): Promise<string[]> {
    return [...(await this.current()).entries.keys()];
  }

  private async current(): Promise<Snapshot> {
    const signature = (await signatureOf(this.path)) ?? 'missing';
    if (signature === this.snapshot.signature) return this.snapshot;
    this.reloading ??= this.reload(signature).finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async reload(signature: string): Promise<Snapshot> {
    if (signature === 'missing') {
      // Fail closed: a deleted file means no users, not the users we remembered.
      if (!this.missingLogged) this.log.error({ path: this.path }, 'auth.htpasswd: the file is gone; every login fails until it is back');
      this.missingLogged = true;
      this.snapshot = { signature, entries: new Map() };
      return this.snapshot;
    }
    this.missingLogged = false;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      this.snapshot = { signature, entries: new Map() };
      this.log.error({ path: this.path }, 'auth.htpasswd: cannot read the file; every login fails until it can be read');
      return this.snapshot;
    }
    const { entries, problems } = parseHtpasswd(text);
    for (const p of problems) this.log.error({ path: this.path }, `auth.htpasswd: ${p} (this entry is ignored)`);
    this.log.info({ path: this.path, users: entries.size }, 'auth.htpasswd: file changed, reloaded');
    this.snapshot = { signature, entries };
    return this.snapshot;
  }
}

/**
 * Compared against when the user is unknown, so an unknown user costs as much time as a wrong
 * password: one hash per bcrypt cost, at the cost the file's entries use.
 */
function dummyFor(entries: Map<string, string>): Promise<string> {
  const first = entries.values().next().value;
  const cost = first ? Number(first.slice(4, 6)) : 10;
  let dummy = dummies.get(cost);
  if (!dummy) dummies.set(cost, (dummy = bcrypt.hash('berth-timing-equaliser', cost)));
  return dummy;
}

const dummies = new Map<number, Promise<string>>();

function principalOf(name: string): Principal {
  return { name, kind: 'user', via: 'htpasswd', teams: [], admin: false };
}

/** mtime + size + inode: an in-place edit or an atomic rename both change it. */
async function signatureOf(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.mtimeNs}:${s.size}:${s.ino}`;
  } catch {
    return undefined;
  }
}
