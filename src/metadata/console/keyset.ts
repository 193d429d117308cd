// The WHERE and ORDER BY of a keyset page over (key descending, name ascending), or over the name
// alone. The key conditions are written `key <= k and (key < k or name > n)` rather than as one
// OR: the first conjunct is a range both planners seek to on the (key desc, name) index, where a
// bare OR would make them walk the index from its start to the cursor.
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Cursor } from './cursor.ts';

export interface KeysetColumns {
  /** Sort key, newest first (absent: sorted by name alone). */
  key?: RawBuilder<unknown>;
  name: RawBuilder<unknown>;
}

export function keysetWhere(cols: KeysetColumns, c: Cursor): RawBuilder<SqlBool> {
  const { key, name } = cols;
  if (c.dir === 'next') {
    if (!key) return sql<SqlBool>`${name} > ${c.name}`;
    return sql<SqlBool>`(${key} <= ${c.key} and (${key} < ${c.key} or ${name} > ${c.name}))`;
  }
  const before = c.inclusive ? sql`<=` : sql`<`;
  if (!key) return sql<SqlBool>`${name} ${before} ${c.name}`;
  return sql<SqlBool>`(${key} >= ${c.key} and (${key} > ${c.key} or ${name} ${before} ${c.name}))`;
}

/** ORDER BY for the page's direction: a 'prev' page reads backwards from its cursor (and is reversed afterwards). */
export function keysetOrder(cols: KeysetColumns, backwards: boolean): RawBuilder<unknown> {
  const { key, name } = cols;
  if (!key) return backwards ? sql`${name} desc` : sql`${name} asc`;
  return backwards ? sql`${key} asc, ${name} desc` : sql`${key} desc, ${name} asc`;
}
