// Route templates for the admin API: `:name` matches one path segment (percent-decoded, so a
// name containing '/' may be sent as %2F), `*name` the rest of the path (namespaces contain '/').
import type { AdminContext } from './context.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Route {
  method: Method;
  path: string;
  /** The audit action a refused change is recorded under (reads are not recorded). */
  action?: string;
  handler(ctx: AdminContext): Promise<void>;
}

export function matchPath(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.startsWith('*')) {
      const rest = segments.slice(i);
      if (rest.length === 0) return undefined;
      params[part.slice(1)] = rest.join('/');
      return params;
    }
    const seg = segments[i];
    if (seg === undefined || seg === '') return undefined;
    if (part.startsWith(':')) params[part.slice(1)] = seg;
    else if (part !== seg) return undefined;
  }
  return segments.length === parts.length ? params : undefined;
}
