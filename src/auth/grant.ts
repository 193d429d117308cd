// What the token service puts in a token: the requested scopes intersected with what the
// AccessController allows (and with the credential's own limits), never more. Asking for
// something not allowed is not an error (token spec): it is simply left out, and the registry
// refuses the operation later.
import type { AccessController, Principal, ScopeGrant } from './types.ts';
import { covers, merge } from './scope.ts';

export async function grantScopes(principal: Principal, requested: ScopeGrant[], access: AccessController): Promise<ScopeGrant[]> {
  const out: ScopeGrant[] = [];
  for (const want of merge(requested)) {
    if (want.type === 'registry') {
      // Listing is filtered per repository by canList, so the catalog scope only needs a login.
      if (principal.kind !== 'anonymous' && withinRestriction(principal, 'registry', want.name, '*')) out.push({ type: 'registry', name: want.name, actions: ['*'] });
      continue;
    }
    const allowed = new Set(await access.allowedActions(principal, want.name, want.actions));
    const actions = want.actions.filter((a) => allowed.has(a) && withinRestriction(principal, 'repository', want.name, a));
    if (actions.length) out.push({ type: 'repository', name: want.name, actions });
  }
  return out;
}

/** The limits a personal access token or robot account carries (Principal.restrictedTo). */
export function withinRestriction(principal: Principal, type: ScopeGrant['type'], name: string, action: ScopeGrant['actions'][number]): boolean {
  return principal.restrictedTo === undefined || covers(principal.restrictedTo, type, name, action, true);
}
