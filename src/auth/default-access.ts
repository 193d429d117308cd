// The access model of distribution's htpasswd and token controllers, until berth's own model
// (users, teams, roles) is plugged in behind the same interface: an authenticated principal may
// do everything, an anonymous one nothing.
import type { AccessController, Action, Principal } from './types.ts';

export class AuthenticatedFullAccess implements AccessController {
  async allowedActions(principal: Principal, _repository: string, wanted: Action[]): Promise<Action[]> {
    return principal.kind === 'anonymous' ? [] : [...wanted];
  }

  async canList(principal: Principal, _repository: string): Promise<boolean> {
    return principal.kind !== 'anonymous';
  }
}

/** A fresh anonymous principal (a new object each time: callers may not share mutable state). */
export function anonymous(): Principal {
  return { name: '', kind: 'anonymous', via: 'anonymous', teams: [], admin: false };
}
