// Structured JSON logs through pino. `log.fields` from config.yml are added to every line, as in
// registry:2. Nothing here ever logs headers or query strings, so credentials and upload state
// tokens cannot leak into logs.
import pino, { type Logger } from 'pino';
import type { BerthConfig } from './config/index.ts';

export function createLogger(config: BerthConfig['log'], destination: pino.DestinationStream = pino.destination({ fd: 2, sync: false })): Logger {
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

export type { Logger };
