// Routes of the lifecycle admin API for this concern (filled in as the concern is built).
import type { LifecycleRoute } from './route.ts';

export const quotaRoutes: LifecycleRoute[] = [];
