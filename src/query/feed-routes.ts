/**
 * `GET /v1/events/feed`: tail a tenant's trail in commit order without gaps or duplicates. When
 * nothing is new the request waits (long poll) up to `wait` seconds and returns as soon as the
 * tenant commits: at once for commits of this process, within `FEED_POLL_MS` for other processes'.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { decodeFeedCursor, encodeFeedCursor, readFeed, type FeedPage } from './feed.ts';

export const FEED_POLL_MS = 500;
const MAX_WAIT_SECONDS = 60;

const FeedQuery = Type.Object({
  tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
  after: Type.Optional(Type.String({ description: '`next_cursor` of the previous response; absent: from the first event' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 500 })),
  wait: Type.Optional(
    Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, default: 20, description: 'Seconds to wait for new events when there are none (long poll)' }),
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
        schema: { summary: 'Tail events in commit order (long poll)', tags: ['events'], security: [{ bearer: [] }], querystring: FeedQuery },
      },
      async (request): Promise<FeedPage> => {
        const query = request.query as { tenant?: string; after?: string; limit?: number; wait?: number };
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
        return { events: page.events, next_cursor: encodeFeedCursor(tenant, page.next) };
      },
    );
  };
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
