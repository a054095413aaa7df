/**
 * `trailproof capture revert` (docs/capture.md#reversal): applies a reversal plan in one transaction
 * of the application's database. First it locks every row of the plan and compares it with the state
 * the plan was made against; a row that changed since (or a change the relay has not delivered yet)
 * refuses the whole plan. The reverting writes run with their own `trailproof.context`, so capture
 * records them like any other change.
 */
import { TrailproofError, type ErrorDetail } from '../errors.ts';
import type { Sql, TxSql } from '../store/db.ts';
import { CAPTURE_SCHEMA, literal } from './capture-schema.ts';
import type { CaptureContext } from './change-event.ts';
import { isInstalled } from './install.ts';
import type { ReversalPlan, RowState } from './reversal-plan.ts';
import { keyMatch, stepSql, tableOf } from './reversal-sql.ts';

export interface RevertOptions {
  /** Leave the steps in conflict undone (and apply the rest); without it a plan with conflicts is refused. */
  skipConflicts?: boolean;
  /** Who the reverting writes are recorded as; default the service `trailproof-revert`. */
  context?: CaptureContext;
}

export interface RevertResult {
  applied: number;
  skipped: number;
}

export async function applyPlan(app: Sql, plan: ReversalPlan, options: RevertOptions = {}): Promise<RevertResult> {
  const conflicts = plan.steps.filter((s) => s.status === 'conflict');
  if (conflicts.length > 0 && !options.skipConflicts) {
    throw new TrailproofError(
      'REVERSAL_HAS_CONFLICTS',
      `${conflicts.length} steps of the plan conflict with later changes: apply with --skip-conflicts, or review them`,
      {
        details: conflicts.map((s) => ({ pointer: `/steps/${plan.steps.indexOf(s)}`, code: 'conflict', message: s.sql })),
      },
    );
  }
  if (!(await isInstalled(app))) {
    throw new TrailproofError('CAPTURE_SETUP_INVALID', 'capture is not installed in this database, so the reverting writes would not be recorded');
  }
  return app.begin(async (tx) => {
    const context: CaptureContext = options.context ?? { actor: { type: 'service', id: 'trailproof-revert', name: 'Trailproof reversal' } };
    await tx`select set_config('trailproof.context', ${JSON.stringify({ ...context, metadata: { ...context.metadata, reversal_plan: plan.id } })}, true)`;
    const stale: ErrorDetail[] = [];
    for (const [i, row] of plan.rows.entries()) {
      const problem = await checkRow(tx, row);
      if (problem) stale.push({ pointer: `/rows/${i}`, code: 'changed', message: `${tableOf(row)} ${JSON.stringify(row.key)}: ${problem}` });
    }
    if (stale.length > 0) {
      throw new TrailproofError('REVERSAL_STALE', `${stale.length} rows changed since the plan was made: make a new plan`, { details: stale });
    }
    let applied = 0;
    for (const [i, step] of plan.steps.entries()) {
      if (step.status === 'conflict') continue;
      // Built again from the step's parts, not taken from the plan file's text.
      const result = await tx.unsafe(stepSql(step));
      if (result.count !== 1) {
        throw new TrailproofError('REVERSAL_STALE', `step ${i} changed ${result.count} rows instead of one: make a new plan`, {
          details: [{ pointer: `/steps/${i}`, code: 'changed', message: step.sql }],
        });
      }
      applied++;
    }
    return { applied, skipped: plan.steps.length - applied };
  });
}

/**
 * Locks the row and says how it differs from the plan's record of it, if it does. Values are
 * compared as capture records them (`clip`: long ones by their hash).
 */
async function checkRow(tx: TxSql, row: RowState): Promise<string | undefined> {
  const max = `(select max_value_bytes from ${CAPTURE_SCHEMA}.tables where schema_name = ${literal(row.schema)} and table_name = ${literal(row.table)})`;
  const [found] = (await tx.unsafe(
    `select (select jsonb_object_agg(key, ${CAPTURE_SCHEMA}.clip(value, coalesce(${max}, 2048))) from jsonb_each(to_jsonb(t))) as values
     from ${tableOf(row)} t where ${keyMatch(row)} for update`,
  )) as unknown as [{ values: Record<string, unknown> }?];
  if (!found) return row.exists ? 'the row no longer exists' : undefined;
  if (!row.exists) return 'the row exists again';
  const fields = Object.keys(row.values);
  const current = found.values;
  const changed = fields.filter((f) => JSON.stringify(canonical(current[f])) !== JSON.stringify(canonical(row.values[f])));
  return changed.length > 0 ? `${changed.join(', ')} changed` : undefined;
}

/** A JSON value with object keys sorted, for comparison (jsonb orders keys its own way). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
