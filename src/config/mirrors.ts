// distribution's `proxy:` section and berth's `berth.mirrors` (src/mirror/): defaults and the rules
// checked before start. As everywhere in the config layer, messages name keys and never quote
// values (username and password least of all).
import type { FileConfig } from './schema.ts';
import type { Warning } from './keytree.ts';
import { ConfigError, type MirrorConfig } from './types.ts';

type FileProxy = NonNullable<FileConfig['proxy']>;
type FileMirror = NonNullable<NonNullable<FileConfig['berth']>['mirrors']>[number];

/** How long a cached tag is served before it is checked against the upstream again (a HEAD). */
export const DEFAULT_MIRROR_TTL_MS = 5 * 60_000;
/** Longer than this, a ttl is likely registry:2's cache expiry copied over (its default is 168h). */
const LONG_TTL_MS = 24 * 3_600_000;

/** Docker Hub's registry host names: one-segment names there mean library/<name>. */
export const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

function upstream(u: string | undefined, key: string): { remoteUrl: string; host: string; insecure: boolean } {
  if (!u) throw new ConfigError(`config: ${key}.remoteurl: required (the upstream registry, e.g. https://registry-1.docker.io)`, `${key}.remoteurl`);
  const url = new URL(u);
  if (url.pathname !== '/' && url.pathname !== '' && url.pathname !== '/v2' && url.pathname !== '/v2/') {
    throw new ConfigError(`config: ${key}.remoteurl: must name the registry only (scheme://host[:port]), without a path`, `${key}.remoteurl`);
  }
  if (url.username || url.password) {
    throw new ConfigError(`config: ${key}.remoteurl: put credentials in ${key}.username and ${key}.password, not in the URL`, `${key}.remoteurl`);
  }
  return { remoteUrl: `${url.protocol}//${url.host}`, host: url.host, insecure: url.protocol === 'http:' };
}

function credentials(m: { username?: string; password?: string }, key: string): Pick<MirrorConfig, 'username' | 'password'> {
  if (m.password && m.username === undefined) throw new ConfigError(`config: ${key}.username: required with ${key}.password`, `${key}.username`);
  return { ...(m.username !== undefined && { username: m.username }), ...(m.password !== undefined && { password: m.password }) };
}

function ttl(ms: number | undefined, key: string, warnings: Warning[]): number {
  if (ms !== undefined && ms > LONG_TTL_MS) {
    warnings.push({
      text: `${key}.ttl: cached tags are checked against the upstream only this often; registry:2 used ttl as the cache's expiry (berth expires cached content through retention and garbage collection instead), so a shorter ttl such as 5m is likely what you want`,
    });
  }
  return ms ?? DEFAULT_MIRROR_TTL_MS;
}

/** distribution's `proxy:`: the whole registry is a read-only cache of one upstream. */
export function buildProxy(p: FileProxy | undefined, warnings: Warning[]): MirrorConfig | undefined {
  if (!p) return undefined;
  const key = 'proxy';
  const u = upstream(p.remoteurl, key);
  return { key, prefix: '', ...u, ...credentials(p, key), ttlMs: ttl(p.ttl, key, warnings), dockerHub: DOCKER_HUB_HOSTS.has(u.host.toLowerCase()) };
}

/** berth.mirrors: several upstreams under their own prefixes, next to local repositories. */
export function buildMirrors(list: FileMirror[] | undefined, warnings: Warning[]): MirrorConfig[] {
  const out: MirrorConfig[] = [];
  (list ?? []).forEach((m, i) => {
    const key = `berth.mirrors.${i}`;
    if (!m.prefix) throw new ConfigError(`config: ${key}.prefix: required: the local namespace the upstream appears under, e.g. "dockerhub/"`, `${key}.prefix`);
    const prefix = m.prefix.endsWith('/') ? m.prefix : `${m.prefix}/`;
    // The prefix is the start of repository names: lower case components separated by '/'.
    if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\/$/.test(prefix)) {
      throw new ConfigError(`config: ${key}.prefix: must be the start of repository names, such as "dockerhub/" (lower case letters, digits, separators)`, `${key}.prefix`);
    }
    const clash = out.find((o) => o.prefix === prefix);
    if (clash) throw new ConfigError(`config: ${key}.prefix: ${clash.key} has the same prefix`, `${key}.prefix`);
    const ns = m.ns?.toLowerCase();
    if (ns !== undefined && out.some((o) => o.ns === ns)) throw new ConfigError(`config: ${key}.ns: another mirror answers the same ns`, `${key}.ns`);
    const u = upstream(m.remoteurl, key);
    out.push({
      key,
      prefix,
      ...u,
      ...credentials(m, key),
      ttlMs: ttl(m.ttl, key, warnings),
      ...(ns !== undefined && { ns }),
      dockerHub: DOCKER_HUB_HOSTS.has(u.host.toLowerCase()) || ns === 'docker.io',
    });
  });
  return out;
}
