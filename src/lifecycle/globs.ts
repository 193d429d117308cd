// Repository globs of the lifecycle rules (retention, immutable tags, quotas), with the semantics
// of zot's config and bash's globstar (doublestar):
//  - `*` matches any run of characters inside one path segment (never '/'), `?` one character;
//  - `**` as a whole segment matches zero or more segments: `team-a/**` matches `team-a`,
//    `team-a/x` and `team-a/x/y`; `**/cache` matches `cache` and `a/b/cache`; `**` alone matches
//    every repository. Inside a segment (`a**`) it is the same as `*`.
// Everything else is literal; the whole repository name must match.

export type RepositoryMatcher = (repository: string) => boolean;

function segmentSource(segment: string): string {
  let out = '';
  for (const ch of segment.replace(/\*+/g, '*')) {
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

/** The regular expression (anchored) a glob compiles to. */
export function globToRegExp(glob: string): RegExp {
  // Consecutive `**` segments mean the same as one.
  const segments = glob.split('/').filter((s, i, all) => !(s === '**' && all[i - 1] === '**'));
  let source = '';
  segments.forEach((segment, i) => {
    if (segment === '**') {
      if (segments.length === 1) source += '.*';
      else if (i === 0) source += '(?:.*/)?'; // zero or more leading segments, each with its '/'
      else source += '(?:/.*)?'; // zero or more segments after the previous one
      return;
    }
    if (i > 0 && !(i === 1 && segments[0] === '**')) source += '/';
    source += segmentSource(segment);
  });
  return new RegExp(`^${source}$`);
}

/** A predicate for one glob. */
export function compileGlob(glob: string): RepositoryMatcher {
  const re = globToRegExp(glob);
  return (repository) => re.test(repository);
}

/** A predicate that holds when any of the globs matches (none: never). */
export function compileGlobs(globs: readonly string[]): RepositoryMatcher {
  const matchers = globs.map(compileGlob);
  return (repository) => matchers.some((m) => m(repository));
}

/** The glob a rule set for one namespace through the admin API covers: the namespace and everything below it. */
export function namespaceGlob(namespace: string): string {
  return `${namespace.replace(/\/+$/, '')}/**`;
}
