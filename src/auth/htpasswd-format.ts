// Apache htpasswd files as distribution reads them: one `user:hash` per line, blank lines and
// lines starting with '#' ignored, the last entry of a user wins. Only bcrypt hashes
// (`htpasswd -B`: $2y$, also $2a$/$2b$) are accepted; distribution would accept the others at load
// and then fail every login of that user, so berth names the user at load instead.
// Messages name users and line numbers, never a hash or any other part of a line.

/** A bcrypt hash: $2a$/$2b$/$2y$, a two-digit cost, 22 characters of salt and 31 of hash. */
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

export interface HtpasswdParse {
  /** user -> bcrypt hash, for every usable entry. */
  entries: Map<string, string>;
  /** One message per unusable line or entry; safe to log. */
  problems: string[];
}

export function isBcrypt(hash: string): boolean {
  const m = BCRYPT.exec(hash);
  return !!m && Number(m[1]) >= 4 && Number(m[1]) <= 31;
}

/** What kind of hash this is, for the message that refuses it. */
export function describeHash(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'Apache MD5 ($apr1$, htpasswd -m)';
  if (hash.startsWith('{SHA}')) return 'SHA-1 ({SHA}, htpasswd -s)';
  if (hash.startsWith('$1$')) return 'MD5-crypt ($1$)';
  if (hash.startsWith('$5$')) return 'SHA-256-crypt ($5$)';
  if (hash.startsWith('$6$')) return 'SHA-512-crypt ($6$)';
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash';
  if (hash === '') return 'an empty password field';
  return 'crypt() or plain text (htpasswd -d / -p)';
}

/** The first line of a refusal, used by the server at load and by `berth user`. */
export function unsupportedEntry(user: string, hash: string): string {
  return `user ${JSON.stringify(user)} has an unsupported password hash: ${describeHash(hash)}; berth accepts bcrypt only ($2y$, $2a$, $2b$): set the password again with "berth user passwd ${user}" or "htpasswd -B"`;
}

export function parseHtpasswd(text: string): HtpasswdParse {
  const entries = new Map<string, string>();
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#')) continue;
    const colon = t.indexOf(':');
    if (colon <= 0) {
      problems.push(`line ${i + 1}: expected "user:bcrypt-hash"`);
      continue;
    }
    const user = t.slice(0, colon);
    const hash = t.slice(colon + 1);
    if (!isBcrypt(hash)) {
      problems.push(`line ${i + 1}: ${unsupportedEntry(user, hash)}`);
      // A later valid entry for the same user still wins; an earlier one must not survive this one.
      entries.delete(user);
      continue;
    }
    entries.set(user, hash);
  }
  return { entries, problems };
}

/** A user name htpasswd and Basic authentication can carry: no ':' (the separator), no control characters or spaces. */
export function checkUserName(name: string): string | undefined {
  if (name.length === 0) return 'the user name is empty';
  if (name.length > 255) return 'the user name is longer than 255 characters';
  if (name.includes(':')) return 'the user name must not contain ":"';
  if (/[\s\p{Cc}]/u.test(name)) return 'the user name must not contain spaces or control characters';
  if (name.startsWith('#')) return 'the user name must not start with "#" (htpasswd would read the line as a comment)';
  return undefined;
}
