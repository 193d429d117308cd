// Writing htpasswd files: used by `berth user ...` and to provision a missing file at first start.
// Every change rewrites the whole file atomically (temp file in the same directory, fsync,
// rename), under a lock file, so the server never reads half a file and two commands never lose
// each other's change. Lines berth does not touch (comments, other users) are kept as they are.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import bcrypt from 'bcryptjs';

export const DEFAULT_COST = 10;

/**
 * A bcrypt hash in Apache's spelling ($2y$, what `htpasswd -B` writes; the algorithm is the same
 * as $2b$, and every reader berth and distribution care about accepts both).
 */
export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  const hash = await bcrypt.hash(password, cost);
  return hash.replace(/^\$2[ab]\$/, '$2y$');
}

/** A random password for a generated account: 24 bytes, URL-safe base64 (32 characters). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

function userOf(line: string): string | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  const colon = t.indexOf(':');
  return colon > 0 ? t.slice(0, colon) : undefined;
}

export function listUsers(lines: string[]): string[] {
  return [...new Set(lines.map(userOf).filter((u): u is string => u !== undefined))];
}

/** Replaces the user's entry (all of them, the last one counts for readers) or appends one. */
export function setUser(lines: string[], user: string, hash: string): { lines: string[]; existed: boolean } {
  const existed = lines.some((l) => userOf(l) === user);
  const kept = lines.filter((l) => userOf(l) !== user);
  return { lines: [...kept, `${user}:${hash}`], existed };
}

export function removeUser(lines: string[], user: string): { lines: string[]; existed: boolean } {
  const kept = lines.filter((l) => userOf(l) !== user);
  return { lines: kept, existed: kept.length !== lines.length };
}

export async function readLines(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Runs `change` on the current lines and writes the result atomically, holding `<path>.lock`. */
export async function updateFile(path: string, change: (lines: string[]) => string[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const release = await lock(`${path}.lock`);
  try {
    const lines = change(await readLines(path));
    await writeAtomically(path, lines.length ? `${lines.join('\n')}\n` : '');
  } finally {
    await release();
  }
}

export async function writeAtomically(path: string, text: string): Promise<void> {
  // Keep the mode of an existing file (an admin may have made it group-readable on purpose); new files are 0600.
  const mode = await stat(path).then((s) => s.mode & 0o777, () => 0o600);
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } catch {
    /* some filesystems cannot fsync a directory; the rename is still atomic */
  } finally {
    await dir.close();
  }
}

const STALE_LOCK_MS = 30_000;

async function lock(path: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock left by a killed command must not block forever.
      const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) await rm(path, { force: true });
      else if (Date.now() > deadline) throw new Error(`${path} is held by another command; remove it if no berth user command is running`);
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Creates a missing htpasswd file with one user, `admin`, and a generated password, which is
 * returned for the caller to show once. Returns undefined when the file already exists
 * (including when another process created it first).
 */
export async function provisionHtpasswd(path: string): Promise<{ user: string; password: string } | undefined> {
  if (await stat(path).then(() => true, () => false)) return undefined;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const password = generatePassword();
  const line = `admin:${await hashPassword(password)}\n`;
  let fh;
  try {
    fh = await open(path, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  try {
    await fh.writeFile(line);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { user: 'admin', password };
}
