/**
 * A reversal plan's steps as SQL (docs/capture.md#reversal). Values travel as JSON literals and are
 * turned into the column's type by `jsonb_populate_record(null::<table>, …)`, the inverse of the
 * `to_jsonb(row)` the capture trigger recorded them with; a row is found by its key the same way.
 */
import { ident, literal } from './capture-schema.ts';
import type { ReversalPlan, RowRef, RowState } from './reversal-plan.ts';

type StepInput = RowRef & ({ op: 'update'; field: string; set: unknown } | { op: 'delete_row' } | { op: 'insert_row'; values: Record<string, unknown> });

/** The statement applying one step; it changes exactly one row when the row is as the plan expects. */
export function stepSql(step: StepInput): string {
  const table = tableOf(step);
  switch (step.op) {
    case 'update':
      return `update ${table} set ${ident(step.field)} = (jsonb_populate_record(null::${table}, ${json({ [step.field]: step.set })})).${ident(step.field)} where ${keyMatch(step)};`;
    case 'delete_row':
      return `delete from ${table} where ${keyMatch(step)};`;
    case 'insert_row': {
      const columns = Object.keys(step.values).map(ident).join(', ');
      return `insert into ${table} (${columns}) overriding system value select ${columns} from jsonb_populate_record(null::${table}, ${json(step.values)});`;
    }
  }
}

/** The condition selecting the row by its key. */
export function keyMatch(row: RowRef): string {
  const columns = Object.keys(row.key).map(ident).join(', ');
  return `(${columns}) = (select ${columns} from jsonb_populate_record(null::${tableOf(row)}, ${json(row.key)}))`;
}

/** `schema.table`, quoted. */
export function tableOf(row: RowRef): string {
  return `${ident(row.schema)}.${ident(row.table)}`;
}

/** The plan as one script: its row checks as comments, then every step, conflicts commented out. */
export function reversalSql(plan: Omit<ReversalPlan, 'sql'>): string {
  const lines = [
    `-- Trailproof reversal plan ${plan.id}: changes of ${JSON.stringify(plan.actor)} in tenant ${JSON.stringify(plan.tenant)}`,
    `-- from ${plan.since} until ${plan.until}, newest first. Apply it with \`trailproof capture revert\`, which first checks`,
    '-- that each row still holds what the trail says it holds:',
    ...plan.rows.map((row) => `--   ${describeRow(row)}`),
    'begin;',
  ];
  for (const step of plan.steps) {
    if (step.status === 'clean') lines.push(step.sql);
    else {
      const by = step.conflicts.map((c) =>
        c.reason === 'value_truncated' ? 'value recorded as a hash only' : `${c.actor.type} ${c.actor.id} at ${c.occurred_at}`,
      );
      lines.push(`-- conflict (${by.join('; ')}):`, `-- ${step.sql}`);
    }
  }
  lines.push('commit;');
  return `${lines.join('\n')}\n`;
}

function describeRow(row: RowState): string {
  const where = `${tableOf(row)} ${JSON.stringify(row.key)}`;
  return row.exists ? `${where} holds ${JSON.stringify(row.values)}` : `${where} does not exist`;
}

function json(value: unknown): string {
  return `${literal(JSON.stringify(value))}::jsonb`;
}
