// distribution's `notifications:` section and berth.notifications, turned into NotificationsConfig
// (src/events/config-types.ts) with distribution's defaults (registry/handlers/app.go,
// notifications/endpoint.go): timeout 1s, threshold 10, backoff 1s.
import type { FileConfig } from './schema.ts';
import { ConfigError } from './types.ts';
import type { Warning } from './keytree.ts';
import type { EndpointConfig, NotificationsConfig } from '../events/config-types.ts';
import { EVENT_ACTIONS } from '../events/types.ts';

type FileNotifications = NonNullable<FileConfig['notifications']>;
type FileBerthNotifications = NonNullable<NonNullable<FileConfig['berth']>['notifications']>;

const H = 3_600_000;

export function buildNotifications(n: FileNotifications | undefined, b: FileBerthNotifications | undefined, warnings: Warning[]): NotificationsConfig {
  const seen = new Set<string>();
  const endpoints: EndpointConfig[] = (n?.endpoints ?? []).map((e, i) => {
    const key = `notifications.endpoints.${i}`;
    const disabled = e.disabled ?? false;
    if (!e.url && !disabled) throw new ConfigError(`config: ${key}.url: required: the URL events are POSTed to`, `${key}.url`);
    const name = e.name || e.url || `endpoint-${i}`;
    if (seen.has(name)) throw new ConfigError(`config: ${key}.name: ${name} names two endpoints; each endpoint's delivery position is kept under its name`, `${key}.name`);
    seen.add(name);
    for (const a of e.ignore?.actions ?? []) {
      if (!(EVENT_ACTIONS as readonly string[]).includes(a)) warnings.push({ text: `${key}.ignore.actions: ${a} is not an event action (push, pull, mount, delete); it matches nothing` });
    }
    return {
      name,
      url: e.url ?? '',
      headers: e.headers ?? {},
      // distribution: 0 means "use the default" for each of these.
      timeoutMs: e.timeout || 1000,
      threshold: e.threshold || 10,
      backoffMs: e.backoff || 1000,
      ignoredMediaTypes: [...new Set([...(e.ignoredmediatypes ?? []), ...(e.ignore?.mediatypes ?? [])])],
      ignoredActions: e.ignore?.actions ?? [],
      disabled,
    };
  });
  return {
    includeReferences: n?.events?.includereferences ?? false,
    endpoints,
    maxAgeMs: b?.maxage ?? 24 * H,
    maxBackoffMs: b?.maxbackoff ?? 300_000,
    ...(b?.maxbatch !== undefined && { maxBatch: b.maxbatch }),
    ...(b?.signingkey !== undefined && { signingKey: b.signingkey }),
  };
}
