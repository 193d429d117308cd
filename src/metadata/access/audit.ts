// The audit log table: batched inserts (the AuditLog in src/auth/access buffers events off the
// request path) and newest-first keyset pages over (time, id), each filter served by an index
// that leads with the filtered column and continues in page order.
import { belowNamespace, toDate, type AccessContext } from './db.ts';
import type { AuditCursor, AuditEventInput, AuditEventRecord, AuditFilter, AuditStore } from './store.ts';

const INSERT_CHUNK = 100;

function parseDetails(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { unparsable: true };
  }
}

export class KyselyAuditStore implements AuditStore {
  constructor(private readonly ctx: AccessContext) {}

  async insert(events: AuditEventInput[]): Promise<void> {
    const now = Date.now();
    const rows = events.map((e) => ({
      time: e.time ? e.time.getTime() : now,
      actor: e.actor.slice(0, 255),
      actor_kind: e.actorKind,
      client_address: e.clientAddress?.slice(0, 64) ?? null,
      action: e.action.slice(0, 32),
      repository: e.repository?.slice(0, 255) ?? null,
      reference: e.reference?.slice(0, 255) ?? null,
      outcome: e.outcome,
      details: e.details ? JSON.stringify(e.details) : null,
    }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await this.ctx.db.insertInto('audit_events').values(rows.slice(i, i + INSERT_CHUNK)).execute();
    }
  }

  async query(filter: AuditFilter, page: { limit: number; before?: AuditCursor }): Promise<AuditEventRecord[]> {
    let q = this.ctx.db.selectFrom('audit_events').selectAll();
    if (filter.actor !== undefined) q = q.where('actor', '=', filter.actor);
    if (filter.repository !== undefined) q = q.where('repository', '=', filter.repository);
    if (filter.namespace !== undefined) {
      const { from, to } = belowNamespace(filter.namespace);
      q = q.where('repository', '>=', from).where('repository', '<', to);
    }
    if (filter.action !== undefined) q = q.where('action', '=', filter.action);
    if (filter.from !== undefined) q = q.where('time', '>=', filter.from.getTime());
    if (filter.to !== undefined) q = q.where('time', '<', filter.to.getTime());
    const before = page.before;
    if (before) {
      q = q.where((eb) => eb.or([eb('time', '<', before.time), eb.and([eb('time', '=', before.time), eb('id', '<', before.id)])]));
    }
    const rows = await q.orderBy('time', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      time: toDate(r.time),
      actor: r.actor,
      actorKind: r.actor_kind,
      clientAddress: r.client_address,
      action: r.action,
      repository: r.repository,
      reference: r.reference,
      outcome: r.outcome,
      details: parseDetails(r.details),
    }));
  }

  async deleteBefore(time: Date): Promise<number> {
    const res = await this.ctx.db.deleteFrom('audit_events').where('time', '<', time.getTime()).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
