/**
 * Reversal plans (docs/capture.md#reversal): the inverse of each change one actor made to captured
 * rows in a time window, newest first, each step clean or in conflict with a later change of the
 * same row and field that the plan does not undo (by someone else, or by the same actor after the
 * window). A plan also holds the state of every row it touches as the trail knows it now, which
 * `trailproof capture revert` compares with the database before applying anything.
 */
import { createHash, randomUUID } from 'node:crypto';
import { SERVICE_SOURCE } from '../event/service-records.ts';
import type { Change, StoredEvent } from '../event/types.ts';
import { reversalSql, stepSql } from './reversal-sql.ts';

/** A row of a captured table, named by its key. */
export interface RowRef {
  schema: string;
  table: string;
  key: Record<string, unknown>;
}

/** What the trail says a row holds now: whether it exists, and the values of the columns it has seen. */
export interface RowState extends RowRef {
  exists: boolean;
  values: Record<string, unknown>;
}

export interface StepConflict {
  event_uid: string;
  occurred_at: string;
  actor: { type: string; id: string };
  /** `later_change`: a later change of the field or row; `value_truncated`: the value to restore was recorded only as its hash. */
  reason: 'later_change' | 'value_truncated';
}

export type ReversalStep = RowRef & {
  /** Undoes this event (one of its changes, for an update). */
  event_uid: string;
  occurred_at: string;
  status: 'clean' | 'conflict';
  conflicts: StepConflict[];
  /** The statement that applies the step (reversal-sql.ts). */
  sql: string;
} & ({ op: 'update'; field: string; set: unknown; expect: unknown } | { op: 'delete_row' } | { op: 'insert_row'; values: Record<string, unknown> });

export interface ReversalPlan {
  id: string;
  tenant: string;
  actor: string;
  since: string;
  until: string;
  created_at: string;
  rows: RowState[];
  steps: ReversalStep[];
  summary: { steps: number; clean: number; conflicts: number };
  /** The whole plan as one SQL script (its checks as comments; `capture revert` checks them). */
  sql: string;
}

/**
 * Plans the reversal of `actor`'s changes in [since, until). `history` holds every captured change
 * (`db.*` service record) of each row the actor changed in the window, from the first of those
 * changes on, in ledger order (the commit order of each row's changes); other events are ignored.
 */
export function planReversal(request: { tenant: string; actor: string; since: string; until: string }, history: StoredEvent[]): ReversalPlan {
  const since = Date.parse(request.since);
  const until = Date.parse(request.until);
  const changes = history.filter(isCapturedChange).sort((a, b) => a.seq - b.seq);
  const inPlan = (e: StoredEvent) => e.actor.id === request.actor && Date.parse(e.occurred_at) >= since && Date.parse(e.occurred_at) < until;
  const byRow = new Map<string, StoredEvent[]>();
  for (const e of changes) {
    const key = rowKeyOf(e);
    byRow.set(key, [...(byRow.get(key) ?? []), e]);
  }
  const rows: RowState[] = [];
  const steps: ReversalStep[] = [];
  for (const events of byRow.values()) {
    if (!events.some(inPlan)) continue;
    const ref = rowRefOf(events[0]!);
    rows.push({ ...ref, ...stateAfter(events) });
    events.forEach((event, i) => {
      if (!inPlan(event)) return;
      const later = events.slice(i + 1).filter((e) => !inPlan(e));
      steps.push(...stepsOf(ref, event, later));
    });
  }
  // Newest first: ledger order is each row's commit order.
  const seq = new Map(changes.map((e) => [e.uid, e.seq]));
  steps.sort((a, b) => seq.get(b.event_uid)! - seq.get(a.event_uid)!);
  const clean = steps.filter((s) => s.status === 'clean').length;
  const plan: Omit<ReversalPlan, 'sql'> = {
    id: randomUUID(),
    ...request,
    created_at: new Date().toISOString(),
    rows,
    steps,
    summary: { steps: steps.length, clean, conflicts: steps.length - clean },
  };
  return { ...plan, sql: reversalSql(plan) };
}

/** The steps undoing one event, given the later events of its row that the plan does not undo. */
function stepsOf(ref: RowRef, event: StoredEvent, later: StoredEvent[]): ReversalStep[] {
  const op = event.action.slice(event.action.lastIndexOf('.') + 1);
  const changes = event.changes ?? [];
  const base = { ...ref, event_uid: event.uid, occurred_at: event.occurred_at };
  const rowConflicts = later.map(conflictOf);
  if (op === 'update') {
    return changes.map((change) => {
      const conflicts = later.filter((e) => touches(e, change.field)).map(conflictOf);
      if (isTruncated(change.before)) conflicts.push({ ...conflictOf(event), reason: 'value_truncated' });
      const step = { ...base, op: 'update' as const, field: change.field, set: change.before, expect: change.after };
      return finish(step, conflicts);
    });
  }
  if (op === 'insert') return [finish({ ...base, op: 'delete_row' as const }, rowConflicts)];
  const values = Object.fromEntries(changes.map((c) => [c.field, c.before]));
  const truncated = changes.some((c) => isTruncated(c.before)) ? [{ ...conflictOf(event), reason: 'value_truncated' as const }] : [];
  return [finish({ ...base, op: 'insert_row' as const, values }, [...rowConflicts, ...truncated])];
}

type UnfinishedStep = RowRef & { event_uid: string; occurred_at: string } & (
    | { op: 'update'; field: string; set: unknown; expect: unknown }
    | { op: 'delete_row' }
    | { op: 'insert_row'; values: Record<string, unknown> }
  );

function finish(step: UnfinishedStep, conflicts: StepConflict[]): ReversalStep {
  return { ...step, status: conflicts.length > 0 ? 'conflict' : 'clean', conflicts, sql: stepSql(step) } as ReversalStep;
}

/** Whether an event changes `field` (an insert or delete changes every field). */
function touches(event: StoredEvent, field: string): boolean {
  return !event.action.endsWith('.update') || (event.changes ?? []).some((c) => c.field === field);
}

/** The row as the trail's last events of it leave it. */
function stateAfter(events: StoredEvent[]): { exists: boolean; values: Record<string, unknown> } {
  let exists = true;
  let values: Record<string, unknown> = {};
  for (const e of events) {
    const changes: Change[] = e.changes ?? [];
    if (e.action.endsWith('.delete')) {
      exists = false;
      values = {};
    } else {
      if (e.action.endsWith('.insert')) values = {};
      exists = true;
      for (const c of changes) values[c.field] = c.after;
    }
  }
  return { exists, values };
}

function conflictOf(event: StoredEvent): StepConflict {
  return { event_uid: event.uid, occurred_at: event.occurred_at, actor: { type: event.actor.type, id: event.actor.id }, reason: 'later_change' };
}

function isCapturedChange(e: StoredEvent): boolean {
  return e.source === SERVICE_SOURCE && /^db\..+\.(insert|update|delete)$/.test(e.action) && dbOf(e) !== undefined;
}

function dbOf(e: StoredEvent): { schema: string; table: string; key: Record<string, unknown> } | undefined {
  const db = e.metadata?.db as { schema?: unknown; table?: unknown; key?: unknown } | undefined;
  if (typeof db?.schema !== 'string' || typeof db.table !== 'string' || typeof db.key !== 'object' || db.key === null) return undefined;
  return { schema: db.schema, table: db.table, key: db.key as Record<string, unknown> };
}

function rowRefOf(e: StoredEvent): RowRef {
  return dbOf(e)!;
}

/** Identifies a row across its events: schema, table and key (jsonb orders the key's columns). */
export function rowKeyOf(e: StoredEvent): string {
  const { schema, table, key } = dbOf(e)!;
  return JSON.stringify([schema, table, key]);
}

/** A value the capture recorded only as its length and hash (capture-schema.ts, `clip`). */
export function isTruncated(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).trailproof_truncated === true;
}

/** SHA-256 of the plan's JSON: names the plan in `reversal.planned` and `reversal.applied`. */
export function planDigest(plan: ReversalPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex');
}
