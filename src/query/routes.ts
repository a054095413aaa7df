/**
 * `GET /v1/events` (filters + keyset pagination) and `GET /v1/events/{uid}`. Each read is recorded
 * as `audit_log.viewed` in the tenant read, committed before the response is sent.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { findEventByUid, findEvents } from './event-repository.ts';
import { parseEventQuery, type EventFilter } from './filters.ts';

export const EventQuerySchema = Type.Object({
  tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
  actor: Type.Optional(Type.String({ description: 'Actor id (exact)' })),
  action: Type.Optional(Type.String({ description: 'Action, exact (`user.login`) or prefix (`user.*`)' })),
  target_type: Type.Optional(Type.String()),
  target_id: Type.Optional(Type.String()),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  ip: Type.Optional(Type.String({ description: 'Address or CIDR range' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive lower bound of occurred_at' })),
  until: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive upper bound of occurred_at' })),
  q: Type.Optional(Type.String({ description: 'Full-text search (web search syntax) over names, action, metadata' })),
  sort: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ description: '`next_cursor` of the previous page' })),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function queryRoutes(services: Services) {
  return async function registerQueryRoutes(app: FastifyInstance): Promise<void> {
    app.get('/v1/events', {
      preHandler: authenticate(services, 'read'),
      validatorCompiler: () => () => true,
      schema: { summary: 'Search events', tags: ['events'], security: [{ bearer: [] }], querystring: EventQuerySchema },
    }, async (request) => {
      const query = parseEventQuery(request.query as Record<string, unknown>);
      const tenant = await tenantFor(services, request, query.tenant);
      const [page] = await Promise.all([
        findEvents(services.sql, tenant, query),
        services.audit.record({
          tenant,
          principal: principalOf(request),
          action: 'audit_log.viewed',
          metadata: { filter: describeFilter(query.filter), sort: query.sort, page: query.cursor ? 'next' : 'first' },
          context: requestContext(request),
        }),
      ]);
      return page;
    });

    app.get('/v1/events/:uid', {
      preHandler: authenticate(services, 'read'),
      schema: { summary: 'Get one event', tags: ['events'], security: [{ bearer: [] }], params: Type.Object({ uid: Type.String() }) },
    }, async (request) => {
      const { uid } = request.params as { uid: string };
      const principal = principalOf(request);
      const event = UUID.test(uid) ? await findEventByUid(services.sql, uid) : undefined;
      // Another tenant's event answers exactly like a missing one: no existence oracle across tenants.
      if (!event || (principal.tenant !== null && principal.tenant !== event.tenant)) {
        throw new TrailproofError('NOT_FOUND', `no event ${uid}`);
      }
      await services.audit.record({
        tenant: event.tenant,
        principal,
        action: 'audit_log.viewed',
        targets: [{ type: 'audit_event', id: event.uid }],
        context: requestContext(request),
      });
      return event;
    });
  };
}

/** Filters as flat strings for the meta-audit record. */
function describeFilter(filter: EventFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(filter)) if (v !== undefined) out[k] = String(v);
  return out;
}
