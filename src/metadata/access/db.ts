// Helpers shared by the access model's query files: the typed Kysely handle, row conversions, and
// the few statements whose spelling differs between SQLite and PostgreSQL.
import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { AccessTables } from './schema.ts';

export type AccessDb = Kysely<AccessTables>;
export type AccessTx = Kysely<AccessTables> | Transaction<AccessTables>;

export interface AccessContext {
  db: AccessDb;
}

export const toDate = (ms: number | string): Date => new Date(Number(ms));
export const toDateOrNull = (ms: number | string | null): Date | null => (ms === null ? null : new Date(Number(ms)));
export const flag = (b: boolean | undefined): number => (b ? 1 : 0);

/**
 * `column contains text`, case-insensitively, with the LIKE wildcards in the text taken literally.
 * lower() on both sides because PostgreSQL's LIKE is case-sensitive and SQLite's is not.
 */
export function containsText(column: string, text: string): Expression<SqlBool> {
  const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

/**
 * The byte-order range [prefix/, prefix0) holds exactly the names below the namespace `prefix`
 * ('0' is the byte after '/'), so "everything in team/" is an index range scan, not a LIKE.
 */
export function belowNamespace(prefix: string): { from: string; to: string } {
  return { from: `${prefix}/`, to: `${prefix}0` };
}
