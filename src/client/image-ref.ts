// `HOST[:PORT]/repo/name[:tag][@sha256:...]` as docker writes it. The first component is always the
// registry here: berth talks to private registries, so there is no implicit docker.io.
import { isDigest } from '../oci/digest.ts';
import { isValidName, isValidTag } from '../oci/reference.ts';
import { UsageError } from './usage-error.ts';

export interface ImageRef {
  host: string;
  repo: string;
  tag?: string;
  digest?: string;
}

export { UsageError };

export function parseImageRef(text: string): ImageRef {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new UsageError(`invalid digest in image reference: ${text}`);
  }
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new UsageError(`image reference needs a registry host: HOST[:PORT]/REPO[:TAG], got ${text}`);
  const host = rest.slice(0, slash);
  let repo = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repo.lastIndexOf(':');
  if (colon >= 0) {
    tag = repo.slice(colon + 1);
    repo = repo.slice(0, colon);
    if (!isValidTag(tag)) throw new UsageError(`invalid tag in image reference: ${text}`);
  }
  if (!isValidName(repo)) throw new UsageError(`invalid repository name in image reference: ${text}`);
  if (!tag && !digest) tag = 'latest';
  return { host, repo, tag, digest };
}

/** The manifest reference to use in URLs: the digest when given (it pins the content), else the tag. */
export function manifestRef(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** `HOST[:PORT]/REPO` for commands taking a repository (`berth tags`). */
export function parseRepoRef(text: string): { host: string; repo: string } {
  const slash = text.indexOf('/');
  if (slash <= 0) throw new UsageError(`repository needs a registry host: HOST[:PORT]/REPO, got ${text}`);
  const repo = text.slice(slash + 1);
  if (!isValidName(repo)) throw new UsageError(`invalid repository name: ${text}`);
  return { host: text.slice(0, slash), repo };
}
