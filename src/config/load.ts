// loadConfig: file (distribution's config.yml format) -> REGISTRY_* overrides -> key walk
// (warnings) -> zod validation -> BerthConfig with defaults.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { build } from './build.ts';
import { checkStorageDriver } from './drivers.ts';
import { applyEnv } from './env-overlay.ts';
import { inspect, scalarText, type Warning } from './keytree.ts';
import { fileSchema } from './schema.ts';
import { ConfigError, type BerthConfig } from './types.ts';
import { GoScalar, isMap, parseGoYaml, YamlSyntaxError } from './yaml.ts';

export interface LoadOptions {
  /** Path of a config.yml; read unless `text` is given (then it only labels messages). */
  path?: string;
  /** The config file's contents. */
  text?: string;
  /** Environment for REGISTRY_* overrides; defaults to process.env. Pass {} to disable. */
  env?: NodeJS.ProcessEnv;
}

export interface LoadResult {
  config: BerthConfig;
  /** Human-readable, one per problem; security-relevant ones (auth) first. Never contain values of secrets. */
  warnings: string[];
}

/**
 * Loads berth's configuration. Without `path` or `text` there is no file and the result is
 * the defaults plus environment overrides (berth runs with zero configuration). A file must
 * declare `version: 0.1`, as distribution requires. Throws ConfigError.
 */
export function loadConfig(opts: LoadOptions = {}): LoadResult {
  const warnings: Warning[] = [];
  const raw = opts.text !== undefined || opts.path !== undefined ? readFile(opts) : {};
  const origins = applyEnv(raw, opts.env ?? process.env, fileSchema, warnings);
  checkStorageDriver(raw.storage, origins);
  const tree = inspect(fileSchema, raw, [], warnings);
  const parsed = fileSchema.safeParse(tree, { reportInput: true });
  if (!parsed.success) throw toConfigError(parsed.error.issues, origins, opts.path);
  const config = build(parsed.data, warnings);
  return { config, warnings: order(warnings) };
}

/** berth's defaults: what loadConfig returns with no file and no REGISTRY_* variables. */
export function defaultConfig(): BerthConfig {
  return build({}, []);
}

function readFile(opts: LoadOptions): Record<string, unknown> {
  const where = opts.path ? `${opts.path}: ` : '';
  let text = opts.text;
  if (text === undefined) {
    try {
      text = readFileSync(opts.path!, 'utf8');
    } catch (e) {
      throw new ConfigError(`config: cannot read ${opts.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  let doc: unknown;
  try {
    doc = parseGoYaml(text);
  } catch (e) {
    if (e instanceof YamlSyntaxError) throw new ConfigError(`config: ${where}${e.message}`);
    throw e;
  }
  if (doc !== null && !isMap(doc)) throw new ConfigError(`config: ${where}expected a map of settings at the top level`);
  const raw = doc ?? {};
  // Distribution reads the version first and refuses anything but 0.1; so do we.
  const version = scalarText(raw.version);
  if (version === undefined) {
    throw new ConfigError(`config: ${where}version: missing; a distribution config file must start with "version: 0.1"`, 'version');
  }
  if (version !== '0.1') {
    throw new ConfigError(`config: ${where}version: unsupported version ${JSON.stringify(version.slice(0, 20))}; expected 0.1`, 'version');
  }
  return raw;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  boolean: 'a boolean',
  number: 'a number',
  int: 'an integer',
  array: 'a list',
  object: 'a map',
  record: 'a map',
};

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (v instanceof GoScalar) return typeof v.value;
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'map' : typeof v;
}

// Only enum values are echoed (they are never secrets); other messages describe types only.
function describe(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${kindOf(input)}`;
    case 'invalid_value': {
      const got = typeof input === 'string' && input.length <= 40 ? `, got ${JSON.stringify(input)}` : '';
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`;
    }
    default:
      return issue.message;
  }
}

function toConfigError(issues: z.core.$ZodIssue[], origins: Map<string, string>, file?: string): ConfigError {
  const parts = issues.map((issue) => {
    const key = issue.path.join('.');
    return `${key}${originOf(key, origins, file)}: ${describe(issue)}`;
  });
  return new ConfigError(`config: ${parts.join('; ')}`, issues[0]?.path.join('.'));
}

// The REGISTRY_* variable that set this key (or a section above it), else the file.
function originOf(key: string, origins: Map<string, string>, file?: string): string {
  let best: string | undefined;
  for (const k of origins.keys()) {
    if ((key === k || key.startsWith(`${k}.`)) && (!best || k.length > best.length)) best = k;
  }
  if (best) return ` (from ${origins.get(best)})`;
  return file ? ` (in ${file})` : '';
}

function order(warnings: Warning[]): string[] {
  const sorted = [...warnings.filter((w) => w.loud), ...warnings.filter((w) => !w.loud)];
  return [...new Set(sorted.map((w) => w.text))];
}
