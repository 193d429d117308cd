// A Notary GUN names a repository the way docker does: `host[:port]/team/app`. When the host is
// one of this registry's own names (http.host's, berth.trust.hostnames, or the Host the request
// came to), the GUN is the repository `team/app` and takes its permissions; any other GUN
// (`team/app`, or a foreign host) is taken as a repository name as it stands.
import type { BerthConfig } from '../../config/index.ts';
import { isValidName } from '../../oci/reference.ts';

export type GunMapper = (name: string, requestHost: string | undefined) => string | undefined;

/**
 * The repository a GUN-style name stands for, when its first component is one of the registry's
 * own names; undefined for any other name (which then is just a repository name).
 */
export function gunMapper(config: BerthConfig): GunMapper {
  const own = new Set<string>();
  if (config.http.host) {
    try {
      const u = new URL(config.http.host);
      own.add(u.host.toLowerCase());
      own.add(u.hostname.toLowerCase());
    } catch {
      // validated by the config schema
    }
  }
  for (const h of config.berth.trust.hostnames) own.add(h.toLowerCase());
  return (name, requestHost) => {
    const slash = name.indexOf('/');
    if (slash <= 0) return undefined;
    const host = name.slice(0, slash).toLowerCase();
    if (!own.has(host) && host !== requestHost?.toLowerCase()) return undefined;
    const repository = name.slice(slash + 1);
    return isValidName(repository) ? repository : undefined;
  };
}

/** The repository whose permissions govern a GUN: the mapped one, or the GUN itself. */
export function repositoryOfGun(mapper: GunMapper, gun: string, requestHost: string | undefined): string {
  return mapper(gun, requestHost) ?? gun;
}

/** The host[:port] the request was sent to (Host, or :authority over HTTP/2). */
export function requestHost(headers: Record<string, string | string[] | undefined>): string | undefined {
  const h = headers.host ?? headers[':authority'];
  return typeof h === 'string' ? h : undefined;
}
