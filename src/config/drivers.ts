// Distribution picks its storage driver from the one key of `storage` that is not a general
// setting. berth only has the filesystem driver: another driver *alone* means the user expects
// data to live somewhere berth cannot put it, so that is an error; next to `filesystem` it is
// only a warning (from the key walk) and filesystem is used.
import { ConfigError } from './types.ts';
import { scalarText } from './keytree.ts';
import { isMap } from './yaml.ts';

// storage keys that are settings, not drivers (distribution's Storage.Type() skips these; `tag` is v3).
const NOT_DRIVERS = new Set(['maintenance', 'cache', 'delete', 'redirect', 'tag']);

export function checkStorageDriver(storage: unknown, origins: Map<string, string>): void {
  const name = scalarText(storage);
  const keys = name !== undefined ? [name] : isMap(storage) ? Object.keys(storage) : [];
  const drivers = keys.filter((k) => !NOT_DRIVERS.has(k));
  if (drivers.length === 0 || drivers.includes('filesystem')) return;
  const key = `storage.${drivers[0]}`;
  // The variable that chose the driver: REGISTRY_STORAGE, or one that set a key under it.
  const from = origins.get('storage') ?? [...origins].find(([k]) => k === key || k.startsWith(`${key}.`))?.[1];
  throw new ConfigError(
    `config: ${key}${from ? ` (from ${from})` : ''} is not supported yet; berth can only store data with storage.filesystem`,
    key,
  );
}
