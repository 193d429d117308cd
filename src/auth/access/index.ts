// Everything the access model gives the rest of berth, built from one AccessStore
// (`metadataStore.access` for SQLite and PostgreSQL alike):
//   controller     AccessController for the registry API (allowedActions / canList)
//   tokenVerifier  PasswordVerifier for `berth_pat_` tokens and `robot$` accounts; first in the chain
//   localVerifier  PasswordVerifier for local users with a password set through the admin API
//   audit          AuditLog: record() on the request path, query() for the API; close() on shutdown
//   invalidate()   drops the short-lived caches after a change (the admin API calls it)
import type { AccessStore } from '../../metadata/access/store.ts';
import { AuditLog, type AuditLogOptions } from './audit-log.ts';
import { StoreAccessController, type AccessControllerOptions } from './controller.ts';
import { LocalPasswordVerifier } from './local-verifier.ts';
import { AccessTokenVerifier, type LoggerLike } from './token-verifier.ts';

export interface AccessServicesOptions {
  /** Cache lifetime of permission lookups and verified tokens; default 5000 ms, 0 = no cache. */
  cacheTtlMs?: number;
  log?: LoggerLike;
  audit?: Omit<AuditLogOptions, 'log'>;
  /** Repositories' own visibility (the console's setting), see AccessControllerOptions. */
  repositoryVisibilities?: AccessControllerOptions['repositoryVisibilities'];
}

export interface AccessServices {
  store: AccessStore;
  controller: StoreAccessController;
  tokenVerifier: AccessTokenVerifier;
  localVerifier: LocalPasswordVerifier;
  audit: AuditLog;
  invalidate(): void;
  close(): Promise<void>;
}

export function createAccessServices(store: AccessStore, options: AccessServicesOptions = {}): AccessServices {
  const controller = new StoreAccessController(store, { cacheTtlMs: options.cacheTtlMs, repositoryVisibilities: options.repositoryVisibilities });
  const tokenVerifier = new AccessTokenVerifier(store, { cacheTtlMs: options.cacheTtlMs, ...(options.log && { log: options.log }) });
  const audit = new AuditLog(store.audit, { ...options.audit, ...(options.log && { log: options.log }) });
  return {
    store,
    controller,
    tokenVerifier,
    localVerifier: new LocalPasswordVerifier(store),
    audit,
    invalidate() {
      controller.invalidate();
      tokenVerifier.invalidate();
    },
    close: () => audit.close(),
  };
}

export { StoreAccessController } from './controller.ts';
export { AccessTokenVerifier, ownsCredentials, type ExclusiveCredentials } from './token-verifier.ts';
export { LocalPasswordVerifier, hashPassword } from './local-verifier.ts';
export { AuditLog } from './audit-log.ts';
export { handleAdminApi, type AdminApiDeps } from './admin-api.ts';
