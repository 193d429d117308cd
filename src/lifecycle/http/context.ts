// One lifecycle admin API request (/api/v1/gc, /retention, /immutabletags, /quotas, /usage): who
// asks, what they sent, and the authorization rules, which are the registry's own:
//  - no authentication configured: the API is open, as /v2 is;
//  - authentication without berth.auth.accesscontrol: any signed-in user may do everything (registry:2);
//  - with access control: site administrators everywhere, namespace admins on their namespace.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../../auth/types.ts';
import type { RegistryServices } from '../../registry/services.ts';
import { ApiError, denied, JsonApiRequest } from '../../auth/access/admin/http.ts';

export interface LifecycleCaller {
  /** Undefined when the registry has no authentication. */
  principal?: Principal;
  isSiteAdmin(): Promise<boolean>;
  /** Admin role on the namespace (or repository) `name`, or site admin. */
  canAdminister(name: string): Promise<boolean>;
}

export interface LifecycleApiDeps {
  services: RegistryServices;
  /** The caller; throws ApiError('UNAUTHORIZED') when credentials are needed and missing. */
  caller(req: IncomingMessage): Promise<LifecycleCaller>;
  prefix: string;
  /** Background jobs the API can trigger (the GC scheduler etc.), set by the server. */
  jobs: LifecycleJobs;
}

/** What the server runs in the background and the API can start or inspect. */
export interface LifecycleJobs {
  [name: string]: unknown;
}

export class LifecycleContext extends JsonApiRequest {
  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    params: Record<string, string>,
    readonly caller: LifecycleCaller,
    readonly deps: LifecycleApiDeps,
  ) {
    super(req, res, url, params);
  }

  get services(): RegistryServices {
    return this.deps.services;
  }

  /** The name to record as the author of a change. */
  get actorName(): string | null {
    return this.caller.principal?.name ?? null;
  }

  async requireSiteAdmin(): Promise<void> {
    if (!(await this.caller.isSiteAdmin())) throw denied('site administrators only');
  }

  async requireAdminOf(namespace: string): Promise<void> {
    if (!(await this.caller.canAdminister(namespace))) throw denied(`requires the admin role on namespace ${namespace}`);
  }
}

export { ApiError };
