// `berth serve [config.yml]`: runs the registry, like `registry serve config.yml`. With no file it
// starts on the embedded default (:5000, data under ./data) and says how to push a first image.
import { resolve } from 'node:path';
import { loadConfig } from '../config/index.ts';
import { createLogger, routeProcessWarnings, stderrDestination } from '../logging.ts';
import { startRegistry } from '../http/server.ts';
import { s3Location } from '../storage/drivers/s3/options.ts';
import { zeroCopyAvailable } from '../http/zero-copy.ts';
import { serverGc } from '../http/server-heap.ts';
import { sha256OffLoop } from '../util/sha256.ts';

export async function serve(configPath: string | undefined): Promise<void> {
  const path = configPath ?? process.env.REGISTRY_CONFIGURATION_PATH;
  const { config, warnings } = loadConfig({ path, env: process.env });
  const logOut = stderrDestination();
  const log = createLogger(config.log, logOut);
  // Before anything that may warn (the AWS SDK does, on Node 20, when the S3 client is made).
  routeProcessWarnings(log);
  for (const w of warnings) log.warn(w);
  const registry = await startRegistry(config, log);
  // Before the line that says the registry is serving: the log is written from the thread pool, so
  // a supervisor (or a test) can read it and send SIGTERM while this thread is still on its way
  // here, and a signal that comes before its handler ends the process without the graceful stop.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    registry.close().then(
      () => {
        log.info('stopped');
        exitAfterLogs(logOut, 0);
      },
      (e) => {
        log.error({ err: e }, 'shutdown failed');
        exitAfterLogs(logOut, 1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log.info(
    {
      url: registry.url,
      // Where things live, never how to log in: no keys or passwords here.
      blobs: config.storage.driver === 's3' && config.storage.s3 ? s3Location(config.storage.s3.bucket, config.storage.s3.rootDirectory) : resolve(config.storage.filesystem.rootdirectory),
      metadata: config.berth.metadata.driver,
      config: path ?? '(defaults)',
      deleteEnabled: config.storage.delete.enabled,
      // How clients authenticate (auth.htpasswd, auth.token, berth.auth.tokenservice); never with what.
      auth: config.auth?.token || config.berth.auth.tokenservice.enabled ? 'token' : config.auth?.htpasswd ? 'htpasswd' : 'none',
      // Plain-HTTP blob GETs go out through sendfile(2) (native/sendfile), or are streamed.
      sendfile: zeroCopyAvailable,
      // The server's heap settings and on-demand collector (src/http/server-heap.ts) reached this copy of the code.
      heapTuned: serverGc() !== undefined,
      // Uploads are hashed in batches on libuv's thread pool (src/util/sha256.ts), or on the event loop.
      hashOffLoop: sha256OffLoop(),
    },
    `berth is serving the registry API on ${registry.url}/v2/`,
  );
  // The hint is for the zero-configuration start; its commands are plain-HTTP ones.
  if (!path && process.stderr.isTTY && registry.url.startsWith('http:')) {
    const port = new URL(registry.url).port;
    process.stderr.write(`\nPush an image:  skopeo copy --dest-tls-verify=false docker-archive:image.tar docker://localhost:${port}/myimage:latest\nList images:    curl http://localhost:${port}/v2/_catalog\n\n`);
  }
}

/**
 * Exits once the log lines written so far are out, or after a second. Exiting at once left them
 * to pino's exit-time flush, which is synchronous, and sonic-boom's synchronous flush retries
 * forever on any error but EAGAIN: with stderr a pipe whose reader had gone (a supervisor, or
 * `berth serve | jq` stopped with Ctrl-C), the server hung there for good after SIGTERM. Ending
 * the stream lets the pending write finish or fail asynchronously, and pino turns a writer that
 * got EPIPE off, so the exit that follows has nothing left to retry.
 */
function exitAfterLogs(out: ReturnType<typeof stderrDestination>, code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, 1000);
  out.once('close', exit);
  out.end();
}
