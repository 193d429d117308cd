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
import type { NotaryService } from '../notary/service.ts';
import type { NotarySource } from './notary.ts';

export function notarySource(config: BerthConfig, store: NotaryStore, log: Logger, env: NodeJS.ProcessEnv = process.env): NotarySource {
  // Built, and the Notary server's modules loaded, on the first timestamp a policy asks for.
  let service: Promise<NotaryService> | undefined;
  const get = () =>
    (service ??= (async () => {
      const [{ KeyVault }, { ServerKeys }, { NotaryService }] = await Promise.all([import('../notary/key-vault.ts'), import('../notary/server-keys.ts'), import('../notary/service.ts')]);
      const keyfile = config.berth.trust.keyfile ?? join(resolve(config.storage.filesystem.rootdirectory), 'trust', 'server.key');
      const vault = new KeyVault({ keyfile, ...(env.BERTH_TRUST_PASSPHRASE && { passphrase: env.BERTH_TRUST_PASSPHRASE }), log });
      return new NotaryService(store, new ServerKeys(store, vault), log);
    })());
  return {
    current: (gun, role) => store.current(gun, role),
    async timestamp(gun): Promise<NotaryRecord | undefined> {
      try {
        return await (await get()).current(gun, 'timestamp');
      } catch (e) {
        // The vault cannot open the server's keys (another passphrase): judge the stored one.
        log.warn({ gun, err: (e as Error).message }, 'trust policy: could not bring the Notary timestamp up to date');
        return store.current(gun, 'timestamp');
      }
    },
  };
}
