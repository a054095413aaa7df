/**
 * One captured row change (an outbox row) as the event the relay appends to its tenant's trail:
 * `db.<table>.<insert|update|delete>` with the row as target and `changes[]` holding each captured
 * column's before and after values (docs/capture.md#events). The event's client id is derived from
 * the installation and the outbox row, and the body from the row alone, so appending it again after
 * a crash is answered as a duplicate: the relay delivers at least once, the trail holds it once.
 */
import { createHash } from 'node:crypto';
import type { EventErrorDetail } from '../event/validate.ts';
import { validateEvent } from '../event/validate.ts';
import type { Change, EventBody } from '../event/types.ts';
import { EVENT_LIMITS } from '../event/limits.ts';

export interface OutboxRow {
  id: number;
  txid: string;
  captured_at: Date;
  schema_name: string;
  table_name: string;
  op: 'insert' | 'update' | 'delete';
  tenant: string | null;
  row_key: Record<string, unknown>;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** `trailproof.context` as the application set it (src/capture/context.ts), unparsed. */
  context: string | null;
  db_role: string;
}

/**
 * What an application puts in `trailproof.context` for its transaction (the SDK's database adapters
 * write it): who acts, and from where.
 */
export interface CaptureContext {
  actor?: { type: string; id: string; name?: string; metadata?: Record<string, unknown> };
  context?: { ip?: string; user_agent?: string; location?: string; request_id?: string; session_id?: string };
  metadata?: Record<string, unknown>;
}

export type ChangeEvent = { tenant: string; body: EventBody } | { park: string };

/** The client id of the event of outbox row `id` of installation `installationId`. */
export function captureEventId(installationId: string, outboxId: number): string {
  return `capture:${installationId}:${outboxId}`;
}

/** The action of a change: `db.<table>.<op>`, or `db.<schema>.<table>.<op>` outside `public`. */
export function captureAction(schema: string, table: string, op: string): string {
  return `db.${captureTargetType(schema, table)}.${op}`;
}

/** The target type of a table's rows: its name, prefixed with its schema outside `public`. */
export function captureTargetType(schema: string, table: string): string {
  const name = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return schema === 'public' ? name(table) : `${name(schema)}.${name(table)}`;
}

/** The target id of a row: its key's value, or the key as JSON when it has several columns. */
export function captureTargetId(rowKey: Record<string, unknown>): string {
  const values = Object.values(rowKey);
  if (values.length === 1) return typeof values[0] === 'string' ? values[0] : JSON.stringify(values[0]);
  return JSON.stringify(rowKey);
}

/**
 * The event of an outbox row, or why it cannot be appended (it is then parked). An application
 * context that does not make a valid event (an unknown actor type, an oversized user agent) is
 * dropped, and said so in the metadata, rather than holding the change back; values that make the
 * event too large are replaced by their length and hash.
 */
export function changeEvent(row: OutboxRow, installationId: string): ChangeEvent {
  if (row.tenant === null || row.tenant === '') return { park: 'the row has no tenant (its tenant column is null)' };
  const parsed = parseContext(row.context);
  const attempts: (() => unknown)[] = [
    () => eventInput(row, installationId, parsed.context, {}),
    () => eventInput(row, installationId, undefined, { context_dropped: parsed.error ?? 'it does not make a valid event' }),
    () => eventInput(row, installationId, undefined, { context_dropped: parsed.error ?? 'it does not make a valid event', values_hashed: true }, hashValues),
  ];
  let errors: EventErrorDetail[] = [];
  for (const attempt of attempts) {
    const checked = validateEvent(attempt(), { now: row.captured_at, maxFutureSkewMs: 0, origin: 'service' });
    if (checked.ok) return { tenant: row.tenant, body: checked.body };
    errors = checked.errors;
  }
  return { park: `not a valid event: ${errors.map((e) => `${e.pointer} ${e.code}`).join(', ')}` };
}

function eventInput(
  row: OutboxRow,
  installationId: string,
  app: CaptureContext | undefined,
  notes: Record<string, unknown>,
  values: (v: unknown) => unknown = (v) => v,
): unknown {
  const actor = app?.actor ?? { type: 'system', id: row.db_role, name: `database role ${row.db_role}` };
  return {
    id: captureEventId(installationId, row.id),
    action: captureAction(row.schema_name, row.table_name, row.op),
    occurred_at: row.captured_at.toISOString(),
    actor,
    targets: [{ type: captureTargetType(row.schema_name, row.table_name), id: captureTargetId(row.row_key) }],
    outcome: 'success',
    context: app?.context ?? {},
    changes: changesOf(row, values),
    metadata: {
      ...(app?.metadata ?? {}),
      db: { schema: row.schema_name, table: row.table_name, key: row.row_key, txid: row.txid, outbox_id: row.id, role: row.db_role, ...notes },
    },
  };
}

/** Each captured column, with its value before (update, delete) and after (insert, update). */
export function changesOf(row: Pick<OutboxRow, 'before' | 'after'>, values: (v: unknown) => unknown = (v) => v): Change[] {
  const fields = Object.keys(row.after ?? row.before ?? {});
  const changes = fields.map((field) => ({
    field,
    ...(row.before ? { before: values(row.before[field]) } : {}),
    ...(row.after ? { after: values(row.after[field]) } : {}),
  }));
  return changes.slice(0, EVENT_LIMITS.maxChanges);
}

function parseContext(text: string | null): { context?: CaptureContext; error?: string } {
  if (text === null) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'trailproof.context is not a JSON object' };
    return { context: value as CaptureContext };
  } catch {
    return { error: 'trailproof.context is not JSON' };
  }
}

function hashValues(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const text = JSON.stringify(value);
  return { trailproof_truncated: true, bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
}
