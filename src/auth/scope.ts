// The Docker token scope grammar (`repository:team/app:pull,push`, `registry:catalog:*`) and the
// `access` claim of distribution's JWTs, both parsed into ScopeGrant, plus the one rule for
// "does this set of grants cover that action".
import { isValidName } from '../oci/reference.ts';
import type { Action, ScopeGrant } from './types.ts';

const ACTIONS: readonly Action[] = ['pull', 'push', 'delete', '*'];
const isAction = (a: string): a is Action => (ACTIONS as readonly string[]).includes(a);

/** More scopes than any real client asks for at once; bounds the work and the token size. */
export const MAX_SCOPES = 64;

/**
 * Parses one resource scope. The name may itself contain a ':' (a registry host with a port), so
 * the type ends at the first ':' and the actions start after the last one. A resource class
 * (`repository(plugin)`) is deprecated and ignored, as distribution does. Unknown actions are
 * dropped; an unusable scope gives undefined (never an error: the token server must not fail on it).
 */
export function parseScope(text: string, acceptName?: (name: string) => boolean): ScopeGrant | undefined {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const typeMatch = /^([a-z0-9]+)(?:\([a-z0-9]+\))?$/.exec(text.slice(0, first));
  const name = text.slice(first + 1, last);
  const actions = unique(text.slice(last + 1).split(',').filter(isAction));
  if (!typeMatch || actions.length === 0) return undefined;
  const type = typeMatch[1];
  // acceptName: other names the caller serves as repositories (the Notary server's GUNs, `host:port/team/app`).
  if (type === 'repository' && (isValidName(name) || acceptName?.(name))) return { type, name, actions };
  if (type === 'registry' && name === 'catalog') return { type, name, actions };
  return undefined;
}

/** Space-separated scope lists, from one or many `scope` parameters. */
export function parseScopes(values: string[], acceptName?: (name: string) => boolean): ScopeGrant[] {
  const out: ScopeGrant[] = [];
  for (const v of values) {
    for (const part of v.split(' ')) {
      if (out.length >= MAX_SCOPES) return merge(out);
      const s = part ? parseScope(part, acceptName) : undefined;
      if (s) out.push(s);
    }
  }
  return merge(out);
}

export function formatScope(s: ScopeGrant): string {
  return `${s.type}:${s.name}:${sortActions(s.actions).join(',')}`;
}

/** Joins grants on the same resource into one entry with the union of their actions. */
export function merge(grants: ScopeGrant[]): ScopeGrant[] {
  const byKey = new Map<string, ScopeGrant>();
  for (const g of grants) {
    const key = `${g.type}:${g.name}`;
    const seen = byKey.get(key);
    if (seen) seen.actions = sortActions(unique([...seen.actions, ...g.actions]));
    else byKey.set(key, { type: g.type, name: g.name, actions: sortActions(unique(g.actions)) });
  }
  return [...byKey.values()];
}

/**
 * Whether the grants allow `action` on the resource. `*` as an action covers every action.
 * Names match exactly, unless `patterns` is set: then `*` matches every repository and `team/*`
 * every repository under team/ (the forms a personal access token or robot account may carry).
 * Tokens are matched exactly, as distribution does.
 */
export function covers(grants: ScopeGrant[], type: ScopeGrant['type'], name: string, action: Action, patterns = false): boolean {
  return grants.some((g) => g.type === type && nameMatches(g.name, name, patterns) && (g.actions.includes('*') || g.actions.includes(action)));
}

function nameMatches(pattern: string, name: string, patterns: boolean): boolean {
  if (pattern === name) return true;
  if (!patterns) return false;
  if (pattern === '*') return true;
  return pattern.endsWith('/*') && name.startsWith(pattern.slice(0, -1));
}

/** The `access` claim of a token (distribution's format) as grants; malformed entries are ignored. */
export function accessFromClaim(claim: unknown): ScopeGrant[] {
  if (!Array.isArray(claim)) return [];
  const out: ScopeGrant[] = [];
  for (const entry of claim.slice(0, MAX_SCOPES)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { type, name, actions } = entry as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string' || !Array.isArray(actions)) continue;
    // `repository(plugin)` and `repository` are the same resource type (distribution ignores the class).
    const baseType = type.replace(/\([a-z0-9]+\)$/, '');
    if (baseType !== 'repository' && baseType !== 'registry') continue;
    const valid = actions.filter((a): a is Action => typeof a === 'string' && isAction(a));
    if (valid.length) out.push({ type: baseType, name, actions: valid });
  }
  return merge(out);
}

export function accessToClaim(grants: ScopeGrant[]): Array<{ type: string; name: string; actions: string[] }> {
  return grants.map((g) => ({ type: g.type, name: g.name, actions: sortActions(g.actions) }));
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function sortActions(actions: Action[]): Action[] {
  return [...actions].sort((a, b) => ACTIONS.indexOf(a) - ACTIONS.indexOf(b));
}
