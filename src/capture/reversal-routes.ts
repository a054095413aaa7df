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
                rows: Type.Array(Type.Object({}, { additionalProperties: true }), {
                  description: 'Each row the actor changed: its state before, now and after',
                }),
                steps: Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'The statements that revert them, with their checks' }),
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
