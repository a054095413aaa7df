/**
 * The `stream_destinations` table: configuration (kind, format, filter, config, encrypted secret)
 * and delivery state (cursor, status, last success/error, consecutive failures, lease) of each
 * destination. The worker only ever changes state columns, under its lease; the API changes
 * configuration and (resume, replay, pause) state.
 */
import type { Sql } from '../store/db.ts';

export interface StreamFilter {
  /** Exact action names (`user.login`) or prefixes (`document.*`); an event must match one. */
  actions?: string[];
  outcome?: 'success' | 'failure';
  /** A saved search of the tenant (src/query/saved-searches.ts) whose filter an event must also match. */
  saved_search?: string;
}

export interface StreamRow {
  id: string;
  tenant_id: string;
  name: string;
  kind: string;
  format: string;
  filter: StreamFilter;
  config: Record<string, unknown>;
  secret: Buffer | null;
  created_at: Date;
  updated_at: Date;
  cursor_seq: number;
  status: 'active' | 'paused';
  paused_reason: string | null;
  last_success_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  attempts: number;
  lease_owner: string | null;
  lease_until: Date | null;
}

export async function insertStream(
  sql: Sql,
  row: Pick<StreamRow, 'id' | 'tenant_id' | 'name' | 'kind' | 'format' | 'filter' | 'config' | 'secret' | 'cursor_seq' | 'status'>,
): Promise<StreamRow> {
  const [created] = await sql<StreamRow[]>`
    insert into stream_destinations (id, tenant_id, name, kind, format, filter, config, secret, cursor_seq, status)
    values (${row.id}, ${row.tenant_id}, ${row.name}, ${row.kind}, ${row.format}, ${sql.json(row.filter as never)}, ${sql.json(row.config as never)},
            ${row.secret}, ${row.cursor_seq}, ${row.status})
    returning *`;
  return created!;
}

export async function getStream(sql: Sql, id: string): Promise<StreamRow | undefined> {
  const [row] = await sql<StreamRow[]>`select * from stream_destinations where id = ${id}`;
  return row;
}

export async function listStreams(sql: Sql, tenant: string | undefined): Promise<StreamRow[]> {
  return tenant === undefined
    ? sql<StreamRow[]>`select * from stream_destinations order by tenant_id, name`
    : sql<StreamRow[]>`select * from stream_destinations where tenant_id = ${tenant} order by name`;
}

export type StreamChanges = Partial<
  Pick<StreamRow, 'name' | 'format' | 'filter' | 'config' | 'secret' | 'status' | 'paused_reason' | 'cursor_seq' | 'attempts'>
>;

/** Applies configuration or state changes; bumps updated_at (which tells the worker to rebuild). */
export async function updateStream(sql: Sql, id: string, changes: StreamChanges): Promise<StreamRow | undefined> {
  const values: Record<string, unknown> = { ...changes, updated_at: new Date() };
  if (changes.filter) values.filter = sql.json(changes.filter as never);
  if (changes.config) values.config = sql.json(changes.config as never);
  const [row] = await sql<StreamRow[]>`update stream_destinations set ${sql(values as Record<string, never>)} where id = ${id} returning *`;
  return row;
}

export async function deleteStream(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`delete from stream_destinations where id = ${id} returning id`;
  return rows.length > 0;
}

/** The first ledger index received at or after `since` (the head size when none is). */
export async function firstIndexSince(sql: Sql, tenant: string, since: Date): Promise<number> {
  const [row] = await sql<{ seq: number | null; size: number | null }[]>`
    select (select min(seq) from ledger_leaves where tenant_id = ${tenant} and received_at >= ${since}) as seq,
           (select size from ledger_heads where tenant_id = ${tenant}) as size`;
  return row?.seq ?? row?.size ?? 0;
}

export async function headSize(sql: Sql, tenant: string): Promise<number> {
  const [row] = await sql<{ size: number }[]>`select size from ledger_heads where tenant_id = ${tenant}`;
  return row?.size ?? 0;
}

/** received_at of the event at `seq` (the oldest one not yet delivered when seq is a cursor). */
export async function receivedAt(sql: Sql, tenant: string, seq: number): Promise<Date | undefined> {
  const [row] = await sql<{ received_at: Date }[]>`select received_at from ledger_leaves where tenant_id = ${tenant} and seq = ${seq}`;
  return row?.received_at;
}

export interface StreamLag {
  id: string;
  tenant_id: string;
  status: StreamRow['status'];
  /** Events committed but not yet delivered (or skipped by the filter). */
  lag_events: number;
  /** Age of the oldest undelivered event; 0 when none. */
  lag_seconds: number;
}

/** Every destination's lag, as GET /v1/streams/{id}/status computes it: the `limit` furthest behind first. */
export async function streamLags(sql: Sql, limit: number): Promise<StreamLag[]> {
  return sql<StreamLag[]>`
    select d.id, d.tenant_id, d.status,
           greatest(coalesce(h.size, 0) - d.cursor_seq, 0) as lag_events,
           greatest(coalesce(extract(epoch from now() - l.received_at), 0), 0)::float8 as lag_seconds
    from stream_destinations d
    left join ledger_heads h on h.tenant_id = d.tenant_id
    left join ledger_leaves l on l.tenant_id = d.tenant_id and l.seq = d.cursor_seq
    order by lag_seconds desc, lag_events desc, d.id
    limit ${limit}`;
}
