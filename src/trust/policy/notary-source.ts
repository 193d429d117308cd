// The Notary trust data the pull policy reads: straight from metadata.notary, except the
// timestamp, which comes through a NotaryService built as src/trust/notary/wiring.ts builds the
// server's (same key vault: berth.trust.keyfile or BERTH_TRUST_PASSPHRASE). So an expired
// timestamp is re-signed, as it would be for a client's GET timestamp.json, whenever the server
// holds the timestamp key, and a GUN nobody fetched for two weeks does not stop being pullable;
// one the server cannot re-sign stays expired and is refused. The service behaves as another
// replica would (a concurrent re-signing wins, versions only grow).
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { BerthConfig } from '../../config/index.ts';
import type { NotaryRecord, NotaryStore } from '../../metadata/notary/notary-store.ts';
import { KeyVault } from '../notary/key-vault.ts';
import { ServerKeys } from '../notary/server-keys.ts';
import { NotaryService } from '../notary/service.ts';
import type { NotarySource } from './notary.ts';

export function notarySource(config: BerthConfig, store: NotaryStore, log: Logger, env: NodeJS.ProcessEnv = process.env): NotarySource {
  let service: NotaryService | undefined;
  const get = () => {
    if (!service) {
      const keyfile = config.berth.trust.keyfile ?? join(resolve(config.storage.filesystem.rootdirectory), 'trust', 'server.key');
      const vault = new KeyVault({ keyfile, ...(env.BERTH_TRUST_PASSPHRASE && { passphrase: env.BERTH_TRUST_PASSPHRASE }), log });
      service = new NotaryService(store, new ServerKeys(store, vault), log);
    }
    return service;
  };
  return {
    current: (gun, role) => store.current(gun, role),
    async timestamp(gun): Promise<NotaryRecord | undefined> {
      try {
        return await get().current(gun, 'timestamp');
      } catch (e) {
        // The vault cannot open the server's keys (another passphrase): judge the stored one.
        log.warn({ gun, err: (e as Error).message }, 'trust policy: could not bring the Notary timestamp up to date');
        return store.current(gun, 'timestamp');
      }
    },
  };
}
