import { tempSqliteStore } from '../helpers/metadata-stores.ts';
import { metadataContract } from './metadata.contract.ts';

metadataContract('sqlite', () => tempSqliteStore('berth-sqlite'));
