// The pull-through cache (src/mirror/mirror.ts), loaded by the server only when the configuration
// has `proxy:` or `berth.mirrors`: without them nothing of it is imported or consulted.
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
import { Mirror } from './mirror.ts';

export { Mirror } from './mirror.ts';

export function openMirror(config: BerthConfig, log: Logger): Mirror | undefined {
  const configs = [...(config.berth.mirrors ?? []), ...(config.proxy ? [config.proxy] : [])];
  if (configs.length === 0) return undefined;
  for (const c of configs) {
    log.info({ mirror: c.key, prefix: c.prefix, upstream: c.remoteUrl, ns: c.ns, ttlMs: c.ttlMs, authenticated: c.username !== undefined }, 'pull-through cache');
  }
  return new Mirror(configs, log);
}
