/**
 * `GET /v1/events` (filters + keyset pagination) and `GET /v1/events/{uid}`. Each read is recorded
 * as `audit_log.viewed` in the tenant read, committed before the response is sent.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { StoredEventSchema } from '../event/schema.ts';
import { answer, listOf, Timestamp } from '../http/responses.ts';
import { readRecorded } from '../audit/recorded-read.ts';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { erasedEvent } from '../lifecycle/erasure.ts';
import { findEventByUid, findEvents } from './event-repository.ts';
import { parseEventQuery, type EventFilter } from './filters.ts';
import { DEFAULT_BUCKETS, eventHistogram, MAX_BUCKETS } from './histogram.ts';
import { narrowFilter } from './viewer-narrowing.ts';
import { MIN_INSTANT_MS } from '../event/timestamp.ts';

export const EventQuerySchema = Type.Object({
  tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
  actor: Type.Optional(Type.String({ description: 'Actor id (exact)' })),
  action: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: 'Actions: exact (`user.login`), prefix (`user.*`) or suffix (`*.updated`); several (repeated or comma-separated) match any',
    }),
  ),
  exclude_action: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Leave out these actions (same patterns as `action`), e.g. `audit_log.viewed`' }),
  ),
  kind: Type.Optional(
    Type.Union([Type.Literal('access'), Type.Literal('activity')], {
      description: '`access`: only reads and exports of the trail (`audit_log.*`); `activity`: everything else',
    }),
  ),
  has_changes: Type.Optional(Type.Boolean({ description: 'Only events that record field changes (`true`), or only those that do not' })),
  target_type: Type.Optional(Type.String()),
  target_id: Type.Optional(Type.String()),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  ip: Type.Optional(Type.String({ description: 'Address or CIDR range' })),
  since: Type.Optional(Type.String({ description: 'Inclusive lower bound of occurred_at: RFC 3339, or relative to now (`-1h`, `-7d`; s, m, h, d, w)' })),
  until: Type.Optional(Type.String({ description: 'Exclusive upper bound of occurred_at: RFC 3339, or relative to now (`-15m`)' })),
  q: Type.Optional(
    Type.String({
      description: 'Full-text search (web search syntax) over names, action (and its segments: `member` finds `member.role_changed`), reason, metadata',
    }),
  ),
  sort: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ description: '`next_cursor` of the previous page' })),
});

export function queryRoutes(services: Services) {
  return async function registerQueryRoutes(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/events',
      {
        onRequest: authenticate(services, 'read'),
        validatorCompiler: () => () => true,
        schema: {
          summary: 'Search events',
          tags: ['events'],
          security: [{ bearer: [] }],
          querystring: EventQuerySchema,
          response: { 200: listOf(StoredEventSchema, true) },
        },
      },
      async (request) => {
        const query = parseEventQuery(request.query as Record<string, unknown>);
        const tenant = await tenantFor(services, request, query.tenant);
        query.filter = await services.redaction.searchable(tenant, narrowFilter(principalOf(request), query.filter));
        // The page and the read's record side by side (the record commits before the answer goes out).
        // The page leaves out read records received from now on: otherwise a read could find its own
        // record, whose metadata holds the filter it searched for.
        const readAt = new Date();
        const [page] = await Promise.all([
          findEvents(services.sql, tenant, query, { hideReadsSince: readAt }),
          services.audit.record({
            tenant,
            principal: principalOf(request),
            action: 'audit_log.viewed',
            metadata: { filter: describeFilter(query.filter), sort: query.sort, page: query.cursor ? 'next' : 'first' },
            context: requestContext(request),
          }),
        ]);
        return page;
      },
    );

    app.get(
      '/v1/events/histogram',
      {
        onRequest: authenticate(services, 'read'),
        validatorCompiler: () => () => true,
        schema: {
          summary: 'Event counts per time bucket',
          description:
            "The events the filters select, counted in `buckets` equal buckets over [since, until) (default: the last 24 hours). Not recorded as a read: it reveals counts only, and the console reads the same filter's events alongside, which is recorded.",
          tags: ['events'],
          security: [{ bearer: [] }],
          querystring: Type.Composite([
            Type.Omit(EventQuerySchema, ['sort', 'limit', 'cursor']),
            Type.Object({ buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BUCKETS, default: DEFAULT_BUCKETS })) }),
          ]),
          response: {
            200: answer({
              since: Timestamp,
              until: Timestamp,
              bucket_ms: Type.Integer(),
              counts: Type.Array(Type.Integer(), { description: 'Events per bucket, oldest first' }),
              total: Type.Integer(),
              newest: Type.Optional(
                Type.Union([Timestamp, Type.Null()], {
                  description: 'Only when the window holds no event: occurred_at of the newest event the filters select at any time; null when none does',
                }),
              ),
            }),
          },
        },
      },
      async (request) => {
        const { buckets: bucketsRaw, ...params } = request.query as Record<string, unknown>;
        const query = parseEventQuery(params);
        const buckets = bucketsRaw === undefined ? DEFAULT_BUCKETS : /^\d+$/.test(String(bucketsRaw)) ? Number(bucketsRaw) : NaN;
        if (!(buckets >= 1 && buckets <= MAX_BUCKETS)) {
          throw new TrailproofError('QUERY_INVALID', `buckets must be a whole number from 1 to ${MAX_BUCKETS}`, {
            details: [{ pointer: '/buckets', code: 'out_of_range', message: `buckets must be from 1 to ${MAX_BUCKETS}` }],
          });
        }
        const tenant = await tenantFor(services, request, query.tenant);
        const until = query.filter.until ?? new Date().toISOString();
        const since = query.filter.since ?? new Date(Math.max(MIN_INSTANT_MS, Date.parse(until) - 24 * 3600_000)).toISOString();
        const filter = await services.redaction.searchable(tenant, narrowFilter(principalOf(request), query.filter));
        return eventHistogram(services.sql, tenant, { ...filter, since, until }, buckets);
      },
    );

    app.get(
      '/v1/events/:uid',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: 'Get one event',
          tags: ['events'],
          security: [{ bearer: [] }],
          params: Type.Object({ uid: Type.String() }),
          response: { 200: StoredEventSchema },
        },
      },
      async (request) => {
        const { uid } = request.params as { uid: string };
        // Another tenant's event answers exactly like a missing one: no existence oracle across tenants.
        const lookup = async (id: string) => (await findEventByUid(services.sql, id)) ?? (await erasedEvent(services.sql, id));
        const { found, recorded } = await readRecorded(services.readRecords, principalOf(request), uid, lookup, { context: requestContext(request) });
        await recorded;
        if ('erasure' in found) throw new TrailproofError('EVENT_ERASED', `event ${uid} was erased by erasure ${found.erasure} (record ${found.record})`);
        return found;
      },
    );
  };
}

/** Filters as flat strings for the meta-audit record. */
function describeFilter(filter: EventFilter): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(filter)) if (v !== undefined && k !== 'hashed') out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return out;
}
