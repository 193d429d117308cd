// Where CNCF Distribution (registry:2) keeps things, relative to <rootdirectory>/docker/registry/v2
// (distribution's registry/storage/paths.go):
//   blobs/<alg>/<first 2 hex>/<hex>/data                        blob bytes, shared by all repositories
//   repositories/<name>/_layers/<alg>/<hex>/link                 blob linked to the repository
//   repositories/<name>/_manifests/revisions/<alg>/<hex>/link    manifest in the repository
//   repositories/<name>/_manifests/tags/<tag>/current/link       what the tag points at now
//   repositories/<name>/_manifests/tags/<tag>/index/<alg>/<hex>/link   every revision the tag ever had
//   repositories/<name>/_uploads/<id>/...                        uploads in progress (not imported)
// Each link file holds the digest its directory names ("sha256:<hex>", no newline). A deleted
// manifest or blob link loses its `link` file but may keep its directory; a deleted tag loses its
// whole directory. Names nest (`team` and `team/app` can both be repositories), and since no name
// component may start with '_', a directory whose name does is always distribution's own.
import { isDigest } from '../oci/digest.ts';
import type { DistributionSource } from './source.ts';

export type LinkState = 'ok' | 'absent' | 'mismatch';

export interface DigestDirs {
  /** Digests named by <alg>/<hex> directories. */
  digests: string[];
  /** <alg>/<hex> directory pairs that do not form a digest berth can verify. */
  invalid: string[];
}

const repoDir = (name: string) => `repositories/${name}`;

export class DistributionLayout {
  constructor(readonly source: DistributionSource) {}

  blobDataPath(digest: string): string {
    const [alg, hex] = digest.split(':') as [string, string];
    return `blobs/${alg}/${hex.slice(0, 2)}/${hex}/data`;
  }

  /** Every repository name, in lexical order of the walk (parents before their nested children). */
  async repositories(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (prefix: string): Promise<void> => {
      for (const entry of await this.source.listDirectories(prefix ? repoDir(prefix) : 'repositories')) {
        if (entry.startsWith('_')) continue;
        const name = prefix ? `${prefix}/${entry}` : entry;
        const children = await this.source.listDirectories(repoDir(name));
        if (children.includes('_manifests') || children.includes('_layers')) found.push(name);
        if (children.some((c) => !c.startsWith('_'))) await walk(name);
      }
    };
    await walk('');
    return found;
  }

  layers(repository: string): Promise<DigestDirs> {
    return this.digestDirs(`${repoDir(repository)}/_layers`);
  }

  layerLink(repository: string, digest: string): Promise<LinkState> {
    return this.checkLink(`${repoDir(repository)}/_layers/${digest.replace(':', '/')}/link`, digest);
  }

  revisions(repository: string): Promise<DigestDirs> {
    return this.digestDirs(`${repoDir(repository)}/_manifests/revisions`);
  }

  revisionLink(repository: string, digest: string): Promise<LinkState> {
    return this.checkLink(`${repoDir(repository)}/_manifests/revisions/${digest.replace(':', '/')}/link`, digest);
  }

  /** Tag directory names (the caller validates them as tags). */
  tags(repository: string): Promise<string[]> {
    return this.source.listDirectories(`${repoDir(repository)}/_manifests/tags`);
  }

  /** The digest `current/link` holds (unchecked text), or undefined when there is none. */
  tagCurrent(repository: string, tag: string): Promise<string | undefined> {
    return this.source.readLink(`${repoDir(repository)}/_manifests/tags/${tag}/current/link`);
  }

  private async digestDirs(base: string): Promise<DigestDirs> {
    const out: DigestDirs = { digests: [], invalid: [] };
    for (const alg of await this.source.listDirectories(base)) {
      for (const hex of await this.source.listDirectories(`${base}/${alg}`)) {
        const digest = `${alg}:${hex}`;
        if (isDigest(digest)) out.digests.push(digest);
        else out.invalid.push(`${alg}/${hex}`);
      }
    }
    return out;
  }

  private async checkLink(path: string, digest: string): Promise<LinkState> {
    const content = await this.source.readLink(path);
    if (content === undefined) return 'absent';
    return content === digest ? 'ok' : 'mismatch';
  }
}
