// What the registry client commands (login, tags, inspect, ...) share: connection flags, output,
// and the exit-code convention scripts rely on: 0 ok, 1 error, 2 usage.
// Loaded at start-up by program.ts (clientCommand): the client itself (node:https, TLS) is imported
// only when a command connects.
import type { Command, CommanderError } from 'commander';
import type { ClientOptions, RegistryClient } from '../client/client.ts';
import { UsageError } from '../client/usage-error.ts';

export interface ConnectionOptions {
  insecure?: boolean;
  caCert?: string;
  creds?: string;
  json?: boolean;
}

/** Adds the flags every client command takes, and makes commander's usage errors exit 2. */
export function clientCommand(c: Command, json = true): Command {
  c.option('--insecure', 'plain HTTP (a registry without TLS; implied for one on this machine that answers in plain HTTP)')
    .option('--ca-cert <file>', "the registry's CA certificate (default: /etc/docker/certs.d/HOST:PORT/*.crt)")
    .option('--creds <user:password>', 'credentials instead of the stored login (~/.docker/config.json)');
  if (json) c.option('--json', 'machine-readable output');
  return c.exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : 2));
}

/** commander option parser for flags that may be given more than once (--host a --host b). */
export function repeatable(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function connect(host: string, opts: ConnectionOptions, extra: Partial<ClientOptions> = {}): Promise<RegistryClient> {
  const { RegistryClient } = await import('../client/client.ts');
  return RegistryClient.create(host, { insecure: opts.insecure, caCert: opts.caCert, creds: opts.creds, ...extra });
}

/** Runs a command body, printing errors on stderr (never a credential: messages carry none). */
export async function runCommand(body: () => Promise<number | void>): Promise<number> {
  try {
    return (await body()) ?? 0;
  } catch (e) {
    process.stderr.write(`berth: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reads all of stdin (for --password-stdin); one trailing newline is dropped as docker does. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
