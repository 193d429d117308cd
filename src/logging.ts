// Structured JSON logs through pino. `log.fields` from config.yml are added to every line, as in
// registry:2. Nothing here ever logs headers or query strings, so credentials and upload state
// tokens cannot leak into logs.
import pino, { type Logger } from 'pino';
import type { BerthConfig } from './config/index.ts';

/** JSON lines to stderr, written asynchronously (sonic-boom). */
export function stderrDestination() {
  return pino.destination({ fd: 2, sync: false });
}

export function createLogger(config: BerthConfig['log'], destination: pino.DestinationStream = stderrDestination()): Logger {
  return pino(
    {
      level: config.level,
      base: { ...config.fields },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Process warnings (Node's deprecations, a library's process.emitWarning, e.g. the AWS SDK's
 * multi-line note that it will soon need a newer Node) as JSON log lines, instead of Node's
 * default: plain text on stderr, which breaks "stderr is JSON lines" for log collectors. Node's
 * printer is the one 'warning' listener Node installs itself, so it is removed.
 */
export function routeProcessWarnings(log: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    log.warn({ warning: { name: warning.name, ...(warning.code !== undefined && { code: warning.code }), message: warning.message } }, `${warning.name}: ${firstLine(warning.message)}`);
  });
}

const firstLine = (text: string) => text.split('\n', 1)[0]!.trim();

export type { Logger };
