// Builds the Notary server from the configuration: its key vault (berth.trust.keyfile or
// BERTH_TRUST_PASSPHRASE), its keys and operations over metadata.notary, and the HTTP handler the
// registry's front calls before its /v2 routes (src/http/server.ts).
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { BerthConfig } from '../../config/index.ts';
import type { AuthMiddleware } from '../../http/auth-middleware.ts';
import type { MetadataStore } from '../../metadata/store.ts';
import { gunMapper } from './gun.ts';
import { NotaryHttp } from './http.ts';
import { KeyVault } from './key-vault.ts';
import { ServerKeys } from './server-keys.ts';
import { NotaryService } from './service.ts';

export function createNotary(config: BerthConfig, metadata: MetadataStore, auth: AuthMiddleware | undefined, log: Logger, env: NodeJS.ProcessEnv = process.env): NotaryHttp {
  const keyfile = config.berth.trust.keyfile ?? join(resolve(config.storage.filesystem.rootdirectory), 'trust', 'server.key');
  const vault = new KeyVault({ keyfile, ...(env.BERTH_TRUST_PASSPHRASE && { passphrase: env.BERTH_TRUST_PASSPHRASE }), log });
  const service = new NotaryService(metadata.notary, new ServerKeys(metadata.notary, vault), log);
  return new NotaryHttp({ service, ...(auth && { auth }), gun: gunMapper(config), log });
}
