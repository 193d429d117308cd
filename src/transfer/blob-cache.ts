// What this machine remembers between pushes, as docker and skopeo do (their "blob info cache"):
//  - which compressed blob a given uncompressed layer became (diff_id + compression -> digest,
//    size), so a re-push can ask the registry "do you have it?" without compressing again;
//  - which repositories of a registry are known to hold a blob, so a push to a new repository
//    can mount it instead of uploading it;
//  - upload sessions in flight, so an interrupted push continues where the registry stopped.
// It is a hint store: every answer is checked against the registry before it is relied on.
import { mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

export function cacheDir(): string {
  if (process.env.BERTH_CACHE_DIR) return process.env.BERTH_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'berth');
}

interface CacheFile {
  compressed: Record<string, { digest: string; size: number }>;
  locations: Record<string, string[]>;
}

const MAX_LOCATIONS = 8;
/** Per map: a few MiB of JSON at most, however many images this machine has pushed. */
const MAX_ENTRIES = 20_000;

/** Drops the oldest keys (insertion order) beyond `max`. */
function trim(map: Record<string, unknown>, max: number): void {
  const keys = Object.keys(map);
  for (let i = 0; i < keys.length - max; i++) delete map[keys[i]!];
}

export class BlobInfoCache {
  private data: CacheFile = { compressed: {}, locations: {} };
  private dirty = false;

  private constructor(private readonly file: string | undefined) {}

  /** `disabled`: remember nothing (tests, --no-cache); lookups then always miss. */
  static load(disabled = false): BlobInfoCache {
    if (disabled) return new BlobInfoCache(undefined);
    const file = join(cacheDir(), 'blob-info.json');
    const c = new BlobInfoCache(file);
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheFile>;
      c.data = { compressed: parsed.compressed ?? {}, locations: parsed.locations ?? {} };
    } catch {
      /* no cache yet, or unreadable: start empty (it is only hints) */
    }
    return c;
  }

  compressedOf(diffId: string, compression: string): { digest: string; size: number } | undefined {
    return this.data.compressed[`${diffId}|${compression}`];
  }

  recordCompressed(diffId: string, compression: string, result: { digest: string; size: number }): void {
    const key = `${diffId}|${compression}`;
    // Re-inserted so that key order is recency order, which save() trims by.
    delete this.data.compressed[key];
    this.data.compressed[key] = result;
    this.dirty = true;
  }

  /** Repositories on `host` believed to hold `digest`, most recent first. */
  repositoriesWith(host: string, digest: string): string[] {
    return (this.data.locations[digest] ?? []).filter((l) => l.startsWith(`${host}/`)).map((l) => l.slice(host.length + 1));
  }

  recordLocation(host: string, repo: string, digest: string): void {
    const key = `${host}/${repo}`;
    const list = (this.data.locations[digest] ?? []).filter((l) => l !== key);
    delete this.data.locations[digest];
    this.data.locations[digest] = [key, ...list].slice(0, MAX_LOCATIONS);
    this.dirty = true;
  }

  forgetLocation(host: string, repo: string, digest: string): void {
    const list = this.data.locations[digest];
    if (!list) return;
    this.data.locations[digest] = list.filter((l) => l !== `${host}/${repo}`);
    this.dirty = true;
  }

  /** Writes the cache atomically; concurrent berth processes may lose each other's hints, never corrupt the file. */
  save(): void {
    if (!this.file || !this.dirty) return;
    trim(this.data.compressed, MAX_ENTRIES);
    trim(this.data.locations, MAX_ENTRIES);
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.data));
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch {
      /* a read-only home must not fail a push */
    }
  }
}

/** An upload session in flight: where to continue it. Stored one file per blob so parallel uploads never race. */
export interface SessionRecord {
  location: string;
}

export class UploadSessions {
  private readonly dir: string | undefined;

  constructor(disabled = false) {
    this.dir = disabled ? undefined : join(cacheDir(), 'uploads');
  }

  private path(host: string, repo: string, key: string): string | undefined {
    if (!this.dir) return undefined;
    return join(this.dir, `${createHash('sha256').update(`${host}\n${repo}\n${key}`).digest('hex')}.json`);
  }

  get(host: string, repo: string, key: string): SessionRecord | undefined {
    const p = this.path(host, repo, key);
    if (!p) return undefined;
    try {
      const r = JSON.parse(readFileSync(p, 'utf8')) as SessionRecord;
      return typeof r.location === 'string' ? r : undefined;
    } catch {
      return undefined;
    }
  }

  // Upload URLs carry no credentials (the spec's Location is a plain URL with the session id and,
  // on registry:2 and berth, a signed `_state`), so they are safe to keep on disk.
  put(host: string, repo: string, key: string, rec: SessionRecord): void {
    const p = this.path(host, repo, key);
    if (!p) return;
    try {
      mkdirSync(this.dir!, { recursive: true, mode: 0o700 });
      writeFileSync(p, JSON.stringify(rec), { mode: 0o600 });
    } catch {
      /* resumability is best effort */
    }
  }

  delete(host: string, repo: string, key: string): void {
    const p = this.path(host, repo, key);
    if (p) rmSync(p, { force: true });
  }
}
