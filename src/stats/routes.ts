/** `GET /v1/stats`: event counts and distinct actors per group (stats.ts), recorded as a read. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { EventQuerySchema } from '../query/routes.ts';
import { DEFAULT_GROUPS, eventStats, GROUP_BY, MAX_GROUPS, parseStatsQuery } from './stats.ts';

const GroupSchema = Type.Object({
  key: Type.Union([Type.String(), Type.Null()]),
  target_type: Type.Optional(Type.String()),
  target_id: Type.Optional(Type.String()),
  events: Type.Integer(),
  actors: Type.Integer(),
});

export function statsRoutes(services: Services) {
  return async function registerStatsRoutes(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/stats',
      {
        onRequest: authenticate(services, 'read'),
        validatorCompiler: () => () => true,
        schema: {
          summary: 'Event counts and distinct actors per group',
          description:
            'The events the filters select, grouped by actor, action, target (`type:id`), address, day or hour (UTC): per group the events and the distinct actors, and both over all groups. Day and hour return every bucket with events in time order; the others the `limit` largest groups. Recorded as `audit_log.viewed`.',
          tags: ['events'],
          security: [{ bearer: [] }],
          querystring: Type.Composite([
            Type.Omit(EventQuerySchema, ['sort', 'cursor', 'limit']),
            Type.Object({
              group_by: Type.Union(
                GROUP_BY.map((g) => Type.Literal(g)),
                { description: 'What to group by' },
              ),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_GROUPS, default: DEFAULT_GROUPS })),
            }),
          ]),
          response: {
            200: Type.Object({
              group_by: Type.String(),
              source: Type.Union([Type.Literal('rollups'), Type.Literal('events')]),
              groups: Type.Array(GroupSchema),
              total: Type.Object({ events: Type.Integer(), actors: Type.Integer() }),
            }),
          },
        },
      },
      async (request) => {
        const query = parseStatsQuery(request.query as Record<string, unknown>);
        const tenant = await tenantFor(services, request, query.tenant);
        // Counted before the read's own record is appended, so an answer never counts itself.
        const stats = await eventStats(services.sql, tenant, query);
        await services.audit.record({
          tenant,
          principal: principalOf(request),
          action: 'audit_log.viewed',
          metadata: { stats: query.groupBy, filter: JSON.stringify(query.filter) },
          context: requestContext(request),
        });
        return stats;
      },
    );
  };
}
