// What the console needs from the rest of berth, wired once by src/http/server.ts.
import type { Logger } from 'pino';
import type { AccessServices } from '../auth/access/index.ts';
import type { Principal } from '../auth/types.ts';
import type { RegistryServices } from '../registry/services.ts';
import type { GcScheduler } from '../lifecycle/gc-scheduler.ts';
import type { RetentionRunner } from '../lifecycle/retention-runner.ts';
import type { ConsoleAssets } from './assets.ts';
import type { SessionManager } from './session/sessions.ts';

export interface ConsoleDeps {
  services: RegistryServices;
  log: Logger;
  /** http.prefix without its trailing slash ('' for none). */
  prefix: string;
  version: string;
  assets: ConsoleAssets;
  sessions: SessionManager;
  /** Present when berth.auth.accesscontrol is on. */
  access?: AccessServices;
  /** Whether any authentication is configured (false: the console is open, as /v2 is). */
  authEnabled: boolean;
  /** Whether the login form can check passwords here (false with an external token issuer only). */
  canLogin: boolean;
  /** Checks a user name and password as /v2's Basic auth does (throttle, verifier chain). */
  login?(username: string, password: string, address: string): Promise<Principal>;
  /** The caller of a scripted request (Authorization header), for the JSON API. */
  authenticate?(req: import('node:http').IncomingMessage): Promise<Principal | undefined>;
  /** Site-admin lifting (berth.auth.accesscontrol.admins). */
  liftAdmin(p: Principal): Principal;
  jobs: { gc?: GcScheduler; retention?: RetentionRunner };
}
