// Distribution picks its storage driver from the one key of `storage` that is not a general
// setting, and refuses a config with more than one. berth stores blobs with filesystem or s3;
// any other driver means data would go somewhere berth cannot put it, so that is an error.
import { ConfigError } from './types.ts';
import { scalarText } from './keytree.ts';
import { isMap } from './yaml.ts';

// storage keys that are settings, not drivers (distribution's Storage.Type() skips these; `tag` is v3).
const NOT_DRIVERS = new Set(['maintenance', 'cache', 'delete', 'redirect', 'tag']);
const SUPPORTED = new Set(['filesystem', 's3']);

export function checkStorageDriver(storage: unknown, origins: Map<string, string>): void {
  const name = scalarText(storage);
  const keys = name !== undefined ? [name] : isMap(storage) ? Object.keys(storage) : [];
  const drivers = keys.filter((k) => !NOT_DRIVERS.has(k));
  // The variable that chose a driver: REGISTRY_STORAGE, or one that set a key under it.
  const from = (key: string) => origins.get('storage') ?? [...origins].find(([k]) => k === key || k.startsWith(`${key}.`))?.[1];
  if (drivers.length > 1) {
    const named = drivers.map((d) => {
      const v = from(`storage.${d}`);
      return `storage.${d}${v ? ` (from ${v})` : ''}`;
    });
    throw new ConfigError(`config: storage: exactly one storage driver must be configured, found ${named.join(' and ')}`, 'storage');
  }
  if (drivers.length === 0 || SUPPORTED.has(drivers[0]!)) return;
  const key = `storage.${drivers[0]}`;
  const v = from(key);
  throw new ConfigError(`config: ${key}${v ? ` (from ${v})` : ''} is not supported yet; berth stores blobs with storage.filesystem or storage.s3`, key);
}
