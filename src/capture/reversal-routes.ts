/**
 * `POST /v1/reversals` (docs/capture.md#reversal): plans the reversal of one actor's captured
 * changes in a window, answers the plan as JSON (or, with `?format=sql`, as its SQL script) and
 * records `reversal.planned` in the tenant, committed before the answer. Read scope: a plan changes
 * nothing; `trailproof capture revert` applies it.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { type DetailCode, fieldInvalid, TrailproofError } from '../errors.ts';
import { parseRfc3339 } from '../event/timestamp.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, media, Timestamp } from '../http/responses.ts';
import { planDigest, planReversal } from './reversal-plan.ts';
import { MAX_PLANNED_ROWS, reversalHistory } from './reversal-history.ts';

const PlanBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
    actor: Type.String({ minLength: 1, maxLength: 256, description: 'Actor id whose changes to reverse' }),
    since: Type.String({ description: 'RFC 3339: first instant of the window (inclusive)' }),
    until: Type.String({ description: 'RFC 3339: end of the window (exclusive)' }),
  },
  { additionalProperties: false },
);

const RowKey = Type.Record(Type.String(), Type.Unknown(), { description: "The row's key columns and values" });
const RowState = answer(
  {
    schema: Type.String(),
    table: Type.String(),
    key: RowKey,
    exists: Type.Boolean({ description: 'Whether the row exists now, as the trail knows it' }),
    values: Type.Record(Type.String(), Type.Unknown(), { description: 'The values of the columns the trail has seen' }),
  },
  { title: 'ReversalRowState' },
);
const Conflict = answer(
  {
    event_uid: Type.String({ description: 'The later change' }),
    occurred_at: Timestamp,
    actor: answer({ type: Type.String(), id: Type.String() }, { description: 'Who made it' }),
    reason: Type.Union([Type.Literal('later_change'), Type.Literal('value_truncated')]),
  },
  { title: 'ReversalConflict' },
);
const Step = answer(
  {
    schema: Type.String(),
    table: Type.String(),
    key: RowKey,
    event_uid: Type.String({ description: 'The change this step undoes' }),
    occurred_at: Timestamp,
    op: Type.Union([Type.Literal('update'), Type.Literal('delete_row'), Type.Literal('insert_row')], {
      description: '`update` sets a field back; `delete_row` undoes an insert; `insert_row` undoes a delete',
    }),
    field: Type.Optional(Type.String({ description: '`update`: the column' })),
    set: Type.Optional(Type.Unknown({ description: '`update`: the value it restores' })),
    expect: Type.Optional(Type.Unknown({ description: '`update`: the value the change set' })),
    values: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: '`insert_row`: the values it inserts again' })),
    status: Type.Union([Type.Literal('clean'), Type.Literal('conflict')]),
    conflicts: Type.Array(Conflict),
    sql: Type.String({ description: 'The statement that applies it' }),
  },
  { title: 'ReversalStep' },
);

const PlanQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('sql')], { default: 'json' })) });

export function reversalRoutes(services: Services) {
  return async function registerReversalRoutes(app: FastifyInstance): Promise<void> {
    app.post(
      '/v1/reversals',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: "Plan the reversal of one actor's captured database changes",
          tags: ['capture'],
          security: [{ bearer: [] }],
          body: PlanBody,
          querystring: PlanQuery,
          response: {
            200: media('application/sql', 'With `format=sql`: the plan as one SQL script'),
            201: answer(
              {
                id: Type.String(),
                tenant: Type.String(),
                actor: Type.String(),
                since: Timestamp,
                until: Timestamp,
                created_at: Timestamp,
                rows: Type.Array(RowState, { description: 'Each row the plan touches, as the trail says it is now' }),
                steps: Type.Array(Step, { description: 'The inverse of each change, newest first' }),
                summary: answer({ steps: Type.Integer(), clean: Type.Integer(), conflicts: Type.Integer() }),
                sql: Type.String({ description: 'The whole plan as one SQL script' }),
              },
              { title: 'ReversalPlan' },
            ),
          },
        },
      },
      async (request, reply) => {
        const body = request.body as Static<typeof PlanBody>;
        const { format } = request.query as Static<typeof PlanQuery>;
        const tenant = await tenantFor(services, request, body.tenant);
        const since = instant(body.since, '/since');
        const until = instant(body.until, '/until');
        if (until <= since) throw invalid('/until', 'invalid_range', 'must be after since');
        const window = { tenant, actor: body.actor, since: new Date(since).toISOString(), until: new Date(until).toISOString() };
        const history = await reversalHistory(services.sql, window);
        if (history === 'too_many') {
          throw invalid('', 'too_large', `the window touches more than ${MAX_PLANNED_ROWS} rows: plan smaller windows`);
        }
        const plan = planReversal(window, history);
        await services.audit.record({
          tenant,
          principal: principalOf(request),
          action: 'reversal.planned',
          targets: [{ type: 'reversal_plan', id: plan.id }],
          metadata: {
            actor: plan.actor,
            since: plan.since,
            until: plan.until,
            ...plan.summary,
            plan_sha256: planDigest(plan),
          },
          context: requestContext(request),
        });
        if (format === 'sql') return reply.type('application/sql; charset=utf-8').send(plan.sql);
        return reply.code(201).send(plan);
      },
    );
  };
}

function instant(text: string, pointer: string): number {
  const ms = parseRfc3339(text);
  if (ms === undefined) throw invalid(pointer, 'invalid_timestamp', 'must be an RFC 3339 date-time with an offset');
  return ms;
}

function invalid(pointer: string, code: DetailCode, message: string): TrailproofError {
  return fieldInvalid(pointer, code, message, `${pointer.slice(1) || 'request'} ${message}`);
}
