// Builds the console's dependencies from what the server already has (src/http/server.ts).
import type { Logger } from 'pino';
import type { BerthConfig } from '../config/index.ts';
import type { AuthMiddleware } from '../http/auth-middleware.ts';
import type { AuthExtras } from '../auth/wiring.ts';
import type { RegistryServices } from '../registry/services.ts';
import type { GcScheduler } from '../lifecycle/gc-scheduler.ts';
import type { RetentionRunner } from '../lifecycle/retention-runner.ts';
import { loadConsoleAssets, type ConsoleAssets } from './assets.ts';
import type { ConsoleDeps } from './deps.ts';
import { SessionManager } from './session/sessions.ts';

export const BERTH_VERSION = '0.1.0';

export async function createConsole(
  config: BerthConfig,
  services: RegistryServices,
  auth: AuthMiddleware | undefined,
  extras: AuthExtras,
  jobs: { gc?: GcScheduler; retention?: RetentionRunner },
  log: Logger,
  preloaded?: ConsoleAssets,
): Promise<ConsoleDeps | undefined> {
  if (!config.berth.ui.enabled) return undefined;
  const prefix = config.http.prefix.replace(/\/+$/, '');
  const [assets, sessions] = await Promise.all([
    preloaded ?? loadConsoleAssets(),
    SessionManager.open(services.metadata.console, { ttlMs: config.berth.ui.sessionTtlMs, idleMs: config.berth.ui.sessionIdleMs }, `${prefix}/`),
  ]);
  return {
    services,
    log,
    prefix,
    version: BERTH_VERSION,
    assets,
    sessions,
    ...(extras.access && { access: extras.access }),
    authEnabled: !!auth,
    canLogin: !!auth?.login,
    ...(auth?.login && { login: auth.login }),
    ...(auth && { authenticate: (req) => auth.authenticate(req) }),
    liftAdmin: (p) => extras.liftAdmin(p),
    jobs,
  };
}
