// REGISTRY_* environment overrides, with distribution's rules (configuration/parser.go):
// - the name after REGISTRY_ is split on "_"; each part names a key of the level below,
//   compared with the key upper-cased (REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY);
// - the value is parsed as YAML, so `true`, `3`, `[a, b]` and `{k: v}` work;
// - variables are applied in lexical order of their names, so REGISTRY_STORAGE=filesystem
//   (which replaces the whole storage section) comes before REGISTRY_STORAGE_DELETE_ENABLED;
// - inside sections berth does not model (auth.htpasswd, storage.s3, ...), keys are
//   lower-cased like distribution's maps, so those settings still reach the warnings;
// - a numeric part indexes a list (REGISTRY_HTTP_TLS_CLIENTCAS_0).
// Unknown names are not errors in distribution (it logs and ignores them); berth warns.
import type { z } from 'zod';
import { ConfigError } from './types.ts';
import { childOf, keysOf, put, resolve, scalarText, type Warning, elementOf } from './keytree.ts';
import { isMap, parseGoYaml } from './yaml.ts';

const PREFIX = 'REGISTRY_';
// Not a setting: distribution (and `berth serve`) read it to find the config file.
const NOT_SETTINGS = new Set(['REGISTRY_CONFIGURATION_PATH']);

interface Step {
  key: string;
  /** The container holding `key` is a list. */
  inList: boolean;
  /** The container holding `key` may be written as a bare name (`storage: s3`). */
  shorthand: boolean;
}

type Target = { steps: Step[] } | { warning: string };

/** Applies the environment to `raw` in place. Returns dotted key path -> variable name, for error messages. */
export function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, schema: z.ZodType, warnings: Warning[]): Map<string, string> {
  const origins = new Map<string, string>();
  const names = Object.keys(env)
    .filter((n) => n.startsWith(PREFIX) && env[n] !== undefined && !NOT_SETTINGS.has(n))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)); // code-unit order, like Go's sort of strings
  for (const name of names) {
    const t = target(raw, schema, name.slice(PREFIX.length).split('_'));
    if ('warning' in t) {
      warnings.push({ text: `${t.warning} (environment variable ${name} is ignored)` });
      continue;
    }
    let value: unknown;
    try {
      value = parseGoYaml(env[name]!);
    } catch {
      // Never echo the value: it may be a secret.
      throw new ConfigError(
        `config: ${keyOf(t.steps)} (from ${name}): the value is not valid YAML; quote it, e.g. ${name}='"..."'`,
        keyOf(t.steps),
      );
    }
    setAt(raw, t.steps, value);
    origins.set(keyOf(t.steps), name);
  }
  return origins;
}

const keyOf = (steps: Step[]) => steps.map((s) => s.key).join('.');

/** Finds where a variable's parts land in the tree, without changing anything. */
function target(raw: Record<string, unknown>, root: z.ZodType, parts: string[]): Target {
  const named = parts.join('.').toLowerCase();
  if (parts.some((p) => p === '')) return { warning: `unknown configuration key ${named}` };
  if (parts[0] === 'VERSION') return { warning: 'version cannot be set from the environment' };
  let schema: z.ZodType | undefined = root;
  let cur: unknown = raw;
  const steps: Step[] = [];
  for (const part of parts) {
    const r = schema ? resolve(schema) : undefined;
    // Below a section berth does not model, behave like distribution's generic maps.
    const opaque = !r || (r.kind === 'leaf' && !!r.info.warn && !r.info.keep);
    const shorthand = !!r?.info.shorthand;
    if (shorthand) cur = expand(cur);
    let key: string;
    let inList = false;
    if (opaque) {
      schema = undefined;
      if (Array.isArray(cur) && /^\d+$/.test(part)) {
        if (Number(part) > cur.length) return { warning: `no item ${part} in ${keyOf(steps)}` };
        key = part;
        inList = true;
      } else key = (isMap(cur) ? Object.keys(cur).find((k) => k.toUpperCase() === part) : undefined) ?? part.toLowerCase();
    } else if (r!.kind === 'object') {
      const found = keysOf(r!.core).find((k) => k.toUpperCase() === part);
      if (!found) return { warning: `unknown configuration key ${named}` };
      key = found;
      schema = childOf(r!.core, found);
    } else if (r!.kind === 'array') {
      const len = Array.isArray(cur) ? cur.length : 0;
      if (!/^\d+$/.test(part) || Number(part) > len) return { warning: `${keyOf(steps)} is a list: expected an index up to ${len}, got ${part}` };
      key = part;
      inList = true;
      schema = elementOf(r!);
    } else if (r!.kind === 'record') {
      const section = keyOf(steps);
      const whole = `${PREFIX}${section.toUpperCase().replaceAll('.', '_')}`;
      return { warning: `${section} has free-form keys, which an environment variable cannot name (the case would be lost); set the whole map instead, e.g. ${whole}='{Name: value}'` };
    } else {
      return { warning: `unknown configuration key ${named} (${keyOf(steps)} has no sub-keys)` };
    }
    steps.push({ key, inList, shorthand });
    cur = isMap(cur) || Array.isArray(cur) ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return { steps };
}

function expand(v: unknown): unknown {
  const name = scalarText(v);
  return name === undefined ? v : { [name]: {} };
}

/** Writes the value, creating (or replacing non-map) intermediate levels as distribution does. */
function setAt(raw: Record<string, unknown>, steps: Step[], value: unknown): void {
  let node: Record<string, unknown> | unknown[] = raw;
  steps.forEach((s, i) => {
    const next = steps[i + 1];
    let v: unknown = value;
    if (next) {
      v = get(node, s.key);
      if (next.shorthand) v = expand(v);
      if (next.inList ? !Array.isArray(v) : !isMap(v)) v = next.inList ? [] : {};
    }
    if (Array.isArray(node)) node[Number(s.key)] = v;
    else put(node, s.key, v);
    if (next) node = v as Record<string, unknown> | unknown[];
  });
}

const get = (node: Record<string, unknown> | unknown[], k: string): unknown =>
  Array.isArray(node) ? node[Number(k)] : Object.hasOwn(node, k) ? node[k] : undefined;
