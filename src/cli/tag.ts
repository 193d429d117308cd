// `berth tag SRC DST`: a new tag for an existing image without moving any bytes: the manifest is
// fetched and PUT again, byte for byte, under the new tag (same digest). Across repositories of the
// same registry the blobs are mounted first; across registries use a copy tool.
import { getManifest, manifestRef, mountBlob, parseImageRef, putManifest, UsageError } from '../client/index.ts';
import { isIndexType } from '../client/media.ts';
import { connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export function tagCommand(src: string, dst: string, opts: ConnectionOptions): Promise<number> {
  return runCommand(async () => {
    const from = parseImageRef(src);
    const to = parseImageRef(dst);
    if (from.host !== to.host) throw new UsageError(`tag works within one registry (${from.host} vs ${to.host}); copy with skopeo instead`);
    if (to.digest || !to.tag) throw new UsageError(`the destination must be a tag: ${dst}`);
    const client = await connect(from.host, opts);
    const m = await getManifest(client, from.repo, manifestRef(from));
    if (from.repo !== to.repo) {
      if (isIndexType(m.mediaType)) throw new UsageError('re-tagging an index into another repository would need its child manifests copied; use skopeo copy --all');
      const body = JSON.parse(m.bytes.toString('utf8')) as { config?: { digest: string }; layers?: { digest: string }[] };
      for (const d of [body.config, ...(body.layers ?? [])]) {
        if (d && !(await mountBlob(client, to.repo, d.digest, from.repo))) throw new Error(`${to.host} could not mount ${d.digest} from ${from.repo}`);
      }
    }
    const digest = await putManifest(client, to.repo, to.tag, m.bytes, m.mediaType);
    if (opts.json) printJson({ source: src, target: `${to.host}/${to.repo}:${to.tag}`, digest });
    else process.stdout.write(`Tagged ${to.host}/${to.repo}:${to.tag} -> ${digest}\n`);
  });
}
