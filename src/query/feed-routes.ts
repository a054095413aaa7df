/**
 * `GET /v1/events/feed`: tail a tenant's trail in commit order without gaps or duplicates. When
 * nothing is new the request waits (long poll) up to `wait` seconds and returns as soon as the
 * tenant commits: at once for commits of this process, within `FEED_POLL_MS` for other processes'.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { StoredEventSchema } from '../event/schema.ts';
import { answer } from '../http/responses.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { decodeFeedCursor, encodeFeedCursor, readFeed, type FeedPage } from './feed.ts';
import { ACCESS_NAMESPACE, matchesAction, parseEventQuery, type EventFilter } from './filters.ts';
import type { StoredEvent } from '../event/types.ts';

export const FEED_POLL_MS = 500;
const MAX_WAIT_SECONDS = 60;

const FeedQuery = Type.Object({
  tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
  after: Type.Optional(Type.String({ description: '`next_cursor` of the previous response; absent: from the first event' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 500 })),
  wait: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, default: 20, description: 'Seconds to wait for new events when there are none (long poll)' }),
  ),
  exclude_action: Type.Optional(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: 'Leave out these actions: names or patterns (`audit_log.viewed`, `audit_log.*`, `*.viewed`), repeated or comma-separated',
    }),
  ),
  kind: Type.Optional(
    Type.Union([Type.Literal('access'), Type.Literal('activity')], {
      description: '`access`: only reads and exports of the trail (`audit_log.*`); `activity`: everything else',
    }),
  ),
});

export function feedRoutes(services: Services) {
  return async function registerFeedRoutes(app: FastifyInstance): Promise<void> {
    // Waiting requests end at once when the server shuts down, so shutdown is not held up.
    const shutdown = new AbortController();
    app.addHook('preClose', async () => shutdown.abort());

    app.get(
      '/v1/events/feed',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: 'Tail events in commit order (long poll)',
          tags: ['events'],
          security: [{ bearer: [] }],
          querystring: FeedQuery,
          response: {
            200: answer({
              data: Type.Array(StoredEventSchema),
              events: Type.Array(StoredEventSchema, { description: 'The same list as `data`; deprecated', deprecated: true }),
              next_cursor: Type.String({ description: 'Where the next request starts; also returned when no event was new' }),
            }),
          },
        },
      },
      async (request): Promise<FeedPage> => {
        const query = request.query as { tenant?: string; after?: string; limit?: number; wait?: number; exclude_action?: unknown; kind?: unknown };
        const { filter } = parseEventQuery({ exclude_action: query.exclude_action, kind: query.kind });
        const selected = (events: StoredEvent[]) => events.filter((e) => selects(filter, e.action));
        const tenant = await tenantFor(services, request, query.tenant);
        const from = query.after === undefined ? 0 : decodeFeedCursor(query.after, tenant);
        const limit = query.limit ?? 500;
        const deadline = Date.now() + (query.wait ?? 20) * 1000;

        let page = await readFeed(services.sql, tenant, from, limit);
        while (page.next === from && Date.now() < deadline && !shutdown.signal.aborted) {
          await commitOf(services, tenant, Math.min(FEED_POLL_MS, deadline - Date.now()), shutdown.signal);
          page = await readFeed(services.sql, tenant, from, limit);
        }
        // Record reads of the trail, but not a collector reading only the records of its own feed
        // reads: that would feed itself one record per poll forever.
        if (page.events.some((e) => !isFeedReadRecord(e))) {
          await services.audit.record({
            tenant,
            principal: principalOf(request),
            action: 'audit_log.viewed',
            metadata: { view: 'feed', from, events: page.events.length },
            context: requestContext(request),
          });
        }
        // The cursor passes the events the filter leaves out: a page may then be empty yet move on.
        const events = selected(page.events);
        return { data: events, events, next_cursor: encodeFeedCursor(tenant, page.next) };
      },
    );
  };
}

/** Whether the feed's filters (exclude_action, kind) keep an event with this action. */
function selects(filter: EventFilter, action: string): boolean {
  if (filter.excludeActions?.some((p) => matchesAction(p, action))) return false;
  if (filter.kind === undefined) return true;
  return matchesAction({ value: ACCESS_NAMESPACE, match: 'prefix' }, action) === (filter.kind === 'access');
}

function isFeedReadRecord(e: { action: string; metadata?: Record<string, unknown> }): boolean {
  return e.action === 'audit_log.viewed' && e.metadata?.view === 'feed';
}

/** Resolves when this process commits events of `tenant`, after `ms`, or on abort. */
function commitOf(services: Services, tenant: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    const unsubscribe = services.committer.onCommitted((tenants) => {
      if (tenants.has(tenant)) done();
    });
    signal.addEventListener('abort', done);
  });
}
