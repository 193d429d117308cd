// Public API of berth's configuration: distribution's config.yml + REGISTRY_* env -> BerthConfig.
export type { BerthConfig, LogLevel } from './types.ts';
export { ConfigError } from './types.ts';
export { parseDuration } from './durations.ts';
export { loadConfig, defaultConfig, type LoadOptions, type LoadResult } from './load.ts';
