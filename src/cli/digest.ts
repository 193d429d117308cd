// `berth digest IMAGE`: the manifest digest a tag points at (what to pin in a deployment).
import { headManifest, manifestRef, parseImageRef } from '../client/index.ts';
import { connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export function digestCommand(image: string, opts: ConnectionOptions): Promise<number> {
  return runCommand(async () => {
    const ref = parseImageRef(image);
    const client = await connect(ref.host, opts);
    const head = await headManifest(client, ref.repo, manifestRef(ref));
    if (!head) throw new Error(`${image}: manifest not found`);
    if (opts.json) printJson({ name: `${ref.host}/${ref.repo}`, reference: manifestRef(ref), digest: head.digest, mediaType: head.mediaType, size: head.size });
    else process.stdout.write(`${head.digest}\n`);
  });
}
