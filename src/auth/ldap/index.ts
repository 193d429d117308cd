// LDAP / Active Directory authentication (berth.auth.ldap). Wiring, for the HTTP layer:
//
//   const ldap = createLdapVerifier(config.berth.auth.ldap, log, {
//     onLogin: (login) => syncLdapLogin(access.store, login, { teamMapping: config.berth.auth.ldap.teamMapping }),
//   });
//   // then in the password chain after tokens and htpasswd: new PasswordChain([..., ldap])
//
// onLogin runs only when the directory was asked (not for cached logins), so the sync costs a
// few queries per user per cachettl.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError, type LdapConfig } from '../../config/types.ts';
import { LdapPasswordVerifier, type LdapLog, type LdapVerifierOptions } from './verifier.ts';

export { LdapPasswordVerifier, type LdapLog, type LdapLogin, type LdapVerifierOptions } from './verifier.ts';
export { syncLdapLogin, LdapNameConflictError, type LdapSyncResult } from './sync.ts';
export { escapeFilterValue } from './filter.ts';

/** Reads the CA file now, so a missing file stops the start rather than every login. */
export function createLdapVerifier(config: LdapConfig, log: LdapLog, options: Omit<LdapVerifierOptions, 'log'> = {}): LdapPasswordVerifier {
  return new LdapPasswordVerifier(config, tlsOptions(config), { ...options, log });
}

function tlsOptions(config: LdapConfig): ConnectionOptions {
  const tls: ConnectionOptions = { rejectUnauthorized: !config.insecureSkipVerify };
  if (config.caFile !== undefined) {
    try {
      // Replaces Node's bundled roots: only this CA (bundle) is trusted for the directory.
      tls.ca = readFileSync(config.caFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`config: berth.auth.ldap.cafile: cannot read ${config.caFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, 'berth.auth.ldap.cafile');
    }
    if (!tls.ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`config: berth.auth.ldap.cafile: ${config.caFile} holds no PEM certificate`, 'berth.auth.ldap.cafile');
  }
  return tls;
}
