// Pull credentials for schedulers that cannot run `docker login` themselves (seed 000, DC/OS):
// `berth login HOST --archive docker.tar.gz` writes the archive of ~/.docker the document builds
// with `cd ~ && tar -czf docker.tar.gz .docker`, and `--print-config` prints the config.json to
// store as a secret (`dcos security secrets create --file=config.json ...`). Both hold the login
// itself, base64 of user:password under auths.<host>.auth: never a credsStore/credHelpers entry,
// which would point the cluster's nodes at a keychain they do not have.
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface PullConfig {
  auths: Record<string, { auth: string }>;
}

/** The config.json docker writes after `docker login HOST` without a credential helper. */
export function pullConfig(host: string, creds: { username: string; password: string }): PullConfig {
  return { auths: { [host]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } } };
}

/** config.json's text as docker writes it (tab-indented, trailing newline). */
export function pullConfigText(config: PullConfig): string {
  return `${JSON.stringify(config, null, '\t')}\n`;
}

/**
 * The gzipped tar of `.docker/` (mode 0700) and `.docker/config.json` (mode 0600), owned by
 * root/root as in the document's `tar -tvf` listing; what Mesos' fetcher unpacks into a task's
 * sandbox (its HOME), where the Docker engine reads the login.
 */
export async function dockerConfigArchive(config: PullConfig, mtime = new Date()): Promise<Buffer> {
  const body = Buffer.from(pullConfigText(config));
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime };
  pack.entry({ name: '.docker/', type: 'directory', mode: 0o700, ...owner });
  pack.entry({ name: '.docker/config.json', type: 'file', mode: 0o600, size: body.length, ...owner }, body);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** Writes the archive with mode 0600 (it holds a password), atomically: a temp file, then rename. */
export async function writeConfigArchive(path: string, config: PullConfig): Promise<void> {
  const data = await dockerConfigArchive(config);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.chmod(0o600); // the umask cannot widen it, an existing file's mode must not either
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
