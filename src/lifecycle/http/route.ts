import type { LifecycleContext } from './context.ts';

export interface LifecycleRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Template as in the admin API: `:name` one segment, `*name` the rest (namespaces contain '/'). */
  path: string;
  handler(ctx: LifecycleContext): Promise<void>;
}
