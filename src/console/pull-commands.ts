// The commands people paste to pull an image: docker, podman, skopeo and berth, by tag or digest,
// with the host clients use (http.host when configured, else the Host the browser used).
import type { PageContext } from './page.ts';

export function registryHost(ctx: PageContext): string {
  const configured = ctx.deps.services.config.http.host;
  if (configured) {
    try {
      return new URL(configured).host;
    } catch {
      // Not a URL: fall back to the request's Host.
    }
  }
  return String(ctx.req.headers.host ?? ctx.req.headers[':authority'] ?? 'localhost:5000');
}

export interface PullCommand {
  client: 'docker' | 'podman' | 'skopeo' | 'berth';
  command: string;
}

/** `reference` is ':tag' or '@sha256:...'. */
export function pullCommands(host: string, repository: string, reference: string): PullCommand[] {
  const image = `${host}/${repository}${reference}`;
  const base = repository.split('/').pop() ?? repository;
  const local = reference.startsWith('@') ? `${base}-${reference.slice(8, 20)}` : `${base}-${reference.slice(1)}`;
  return [
    { client: 'docker', command: `docker pull ${image}` },
    { client: 'podman', command: `podman pull ${image}` },
    // An OCI layout cannot hold GPG simple signatures: without --remove-signatures skopeo refuses
    // to copy an image berth holds any for ("Pushing signatures for OCI images is not supported").
    // Always there, so the command does not change when someone signs the image later; the
    // signatures are still checked against the user's policy.json before they are dropped.
    { client: 'skopeo', command: `skopeo copy --remove-signatures docker://${image} oci:${local}` },
    { client: 'berth', command: `berth pull ${image} -o ${local}.tar` },
  ];
}
