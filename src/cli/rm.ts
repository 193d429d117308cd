// `berth rm IMAGE`: deletes a tag or a manifest. By digest this is the spec's DELETE. By tag, the
// registry is first asked to delete the tag itself (OCI 1.1, berth); registry:2 refuses that, so
// we then resolve the tag and delete its manifest, which removes every tag pointing at it; said so.
import { deleteManifest, headManifest, parseImageRef, RegistryHttpError } from '../client/index.ts';
import { connect, printJson, runCommand, type ConnectionOptions } from './registry-common.ts';

export function rmCommand(image: string, opts: ConnectionOptions): Promise<number> {
  return runCommand(async () => {
    const ref = parseImageRef(image);
    const client = await connect(ref.host, opts);
    const name = `${ref.host}/${ref.repo}`;
    if (ref.digest) {
      await deleteManifest(client, ref.repo, ref.digest);
      report(opts, { name, deleted: ref.digest });
      return;
    }
    const tag = ref.tag!;
    const head = await headManifest(client, ref.repo, tag);
    if (!head) throw new Error(`${image}: manifest not found`);
    try {
      await deleteManifest(client, ref.repo, tag);
      report(opts, { name, deleted: tag, digest: head.digest });
    } catch (e) {
      // registry:2 answers tag DELETEs with 400/404/405 (DIGEST_INVALID/UNSUPPORTED): fall back to the digest.
      if (!(e instanceof RegistryHttpError) || ![400, 404, 405].includes(e.status) || e.codes.includes('DENIED')) throw e;
      await deleteManifest(client, ref.repo, head.digest);
      process.stderr.write(`note: ${ref.host} cannot delete a tag alone; deleted manifest ${head.digest} (all of its tags)\n`);
      report(opts, { name, deleted: head.digest, tag });
    }
  });
}

function report(opts: ConnectionOptions, r: { name: string; deleted: string; digest?: string; tag?: string }): void {
  if (opts.json) printJson(r);
  else process.stdout.write(`Deleted ${r.name}${r.deleted.includes(':') ? '@' : ':'}${r.deleted}\n`);
}
