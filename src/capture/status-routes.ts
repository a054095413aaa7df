/**
 * `GET /v1/capture/status` (docs/capture.md#relay): each capture relay of this process as one
 * tenant sees it — its changes waiting in the application's outbox (backlog), the age of the oldest
 * (lag), the parked ones, and what the relay moved into the trail (total, last time, last minute).
 * Admin scope, tenant-scoped like every route: the outbox figures count only the tenant's changes.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { authenticate, tenantFor } from '../http/authenticate.ts';
import { answer, NullableTimestamp } from '../http/responses.ts';
import type { Services } from '../http/services.ts';

const StatusQuery = Type.Object({ tenant: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });

const Source = answer(
  {
    source: Type.String({ description: "The application's database: host, port and name" }),
    running: Type.Boolean({ description: 'Whether this process runs the relay' }),
    reachable: Type.Boolean({ description: "Whether the application's database answered; when not, the outbox figures are zeros" }),
    installed: Type.Boolean({ description: 'Whether capture is installed there' }),
    backlog: Type.Integer({ description: "The tenant's captured changes waiting for the relay (parked ones excluded)" }),
    parked: Type.Integer({ description: 'Changes held back: their tenant is unknown, or they make no valid event' }),
    oldest_waiting_at: { ...NullableTimestamp, description: 'When the oldest waiting change was made' },
    lag_seconds: Type.Number({ description: 'Age of the oldest waiting change; 0 when none waits' }),
    relayed: Type.Integer({ description: 'Changes of the tenant this process relayed since it started' }),
    last_relayed_at: { ...NullableTimestamp, description: 'When it last relayed one' },
    relayed_last_minute: Type.Integer({ description: 'Changes relayed in the last 60 seconds' }),
  },
  { title: 'CaptureSource' },
);

export function captureStatusRoutes(services: Services) {
  return async function registerCaptureStatusRoutes(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/capture/status',
      {
        onRequest: authenticate(services, 'admin'),
        schema: {
          summary: "The capture relays' backlog, lag and throughput for a tenant",
          tags: ['capture'],
          security: [{ bearer: [] }],
          querystring: StatusQuery,
          response: { 200: answer({ tenant: Type.String(), sources: Type.Array(Source) }, { title: 'CaptureStatus' }) },
        },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.query as Static<typeof StatusQuery>).tenant);
        const sources = await services.captureRelays.status(tenant);
        return {
          tenant,
          sources: sources.map((s) => ({
            source: s.source,
            running: s.running,
            reachable: s.reachable,
            installed: s.installed,
            backlog: s.backlog,
            parked: s.parked,
            oldest_waiting_at: s.oldestWaitingAt,
            lag_seconds: s.lagSeconds,
            relayed: s.relayed,
            last_relayed_at: s.lastRelayedAt,
            relayed_last_minute: s.relayedLastMinute,
          })),
        };
      },
    );
  };
}
