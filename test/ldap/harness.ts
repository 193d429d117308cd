// Builds LDAP verifiers the way berth will: config.yml text through loadConfig, then
// createLdapVerifier, with every log line kept (pino, as in production) for the secret checks.
import { Writable } from 'node:stream';
import pino from 'pino';
import { stringify } from 'yaml';
import { createLdapVerifier, type LdapPasswordVerifier, type LdapVerifierOptions } from '../../src/auth/ldap/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { LdapConfig } from '../../src/config/types.ts';
import { DN, SERVICE_DN, SERVICE_PW, SUFFIX, type Slapd } from './slapd.ts';

export interface Built {
  verifier: LdapPasswordVerifier;
  config: LdapConfig;
  warnings: string[];
  logs(): string;
}

/** The settings a deployment against the seeded directory would use; `over` replaces keys. */
export function ldapSection(slapd: Slapd, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url: slapd.url,
    binddn: SERVICE_DN,
    bindpassword: SERVICE_PW,
    basedn: SUFFIX,
    admingroups: ['registry-admins'],
    teammapping: { developers: 'dev', [DN.qa]: 'qa', 'CN=Docker Users, OU=Groups, DC=example, DC=org': 'docker' },
    timeout: '2s',
    connecttimeout: '2s',
    ...over,
  };
}

let allLogs = '';
/** Every line any verifier built here has logged (for the end-of-file secret check). */
export const everyLogLine = () => allLogs;

export function build(section: Record<string, unknown>, options: Omit<LdapVerifierOptions, 'log'> = {}): Built {
  const { config, warnings } = loadConfig({ text: stringify({ version: '0.1', berth: { auth: { ldap: section } } }), env: {} });
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      allLogs += chunk.toString();
      cb();
    },
  });
  const ldap = config.berth.auth.ldap!;
  return { verifier: createLdapVerifier(ldap, pino({ level: 'debug' }, sink), options), config: ldap, warnings, logs: () => text };
}

export async function elapsed<T>(f: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const t = performance.now();
  const [result] = await Promise.allSettled([f()]);
  return { ms: performance.now() - t, result: result! };
}

/** Polls until `cond` holds (slapd's log reaches us through a pipe, a little after the fact). */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
