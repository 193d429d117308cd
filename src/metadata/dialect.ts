// The SQL dialects behind the one Kysely query layer. Code branches on this only where the two
// databases cannot share a statement (row locks, serial ids, collations), and says why there.
export type SqlDialect = 'sqlite' | 'postgres';
