// @peculiar/x509 wires its algorithms with tsyringe, which refuses to load unless a Reflect
// metadata API exists (the `reflect-metadata` package, not installed here). tsyringe only stores
// and reads constructor parameter types through these three calls, so a WeakMap is enough.
// Imported for its side effect, before @peculiar/x509 (see x509.ts); never replaces a real one.
type Key = unknown;
type Target = object;

const store = new WeakMap<Target, Map<Key, unknown>>();
const reflect = Reflect as typeof Reflect & {
  getMetadata?: (key: Key, target: Target) => unknown;
  getOwnMetadata?: (key: Key, target: Target) => unknown;
  defineMetadata?: (key: Key, value: unknown, target: Target) => void;
};

if (typeof reflect.getMetadata !== 'function') {
  reflect.defineMetadata = (key, value, target) => {
    let own = store.get(target);
    if (!own) store.set(target, (own = new Map()));
    own.set(key, value);
  };
  reflect.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  // Looks up the prototype chain, as reflect-metadata does.
  reflect.getMetadata = (key, target) => {
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
      const own = store.get(t);
      if (own?.has(key)) return own.get(key);
    }
    return undefined;
  };
}

export {};
