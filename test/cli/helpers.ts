// Shared by the client-command tests: run `berth <command>` through tsx in an isolated docker
// config home, and push small random images through the client library itself.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { repoRoot, run, type RunResult } from '../helpers/processes.ts';
import { RegistryClient, putManifest, uploadBlob, type ClientOptions } from '../../src/client/index.ts';
import { digestOf } from '../../src/oci/digest.ts';

export function berthCli(env: Record<string, string>) {
  return (args: string[], input?: string): Promise<RunResult> =>
    run(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...args], { env, input, allowFail: true, timeoutMs: 60_000 });
}

export async function client(host: string, opts: ClientOptions = { insecure: true, noStoredCredentials: true }): Promise<RegistryClient> {
  return RegistryClient.create(host, opts);
}

/** An OCI image with a random config and one random layer of `layerBytes`; returns the manifest digest and bytes. */
export async function pushRandomImage(c: RegistryClient, repo: string, tag: string, layerBytes = 300): Promise<{ digest: string; bytes: Buffer; layer: number }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(4).toString('hex') }));
  const layer = randomBytes(layerBytes);
  await uploadBlob(c, repo, digestOf(config), config);
  await uploadBlob(c, repo, digestOf(layer), layer);
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(layer), size: layer.length }],
    }),
  );
  const digest = await putManifest(c, repo, tag, bytes, 'application/vnd.oci.image.manifest.v1+json');
  return { digest, bytes, layer: layerBytes };
}
