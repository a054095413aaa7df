/**
 * The lifecycle's HTTP API (docs/lifecycle.md): retention policies, on-demand runs and legal holds.
 * Every route is tenant-scoped: a key bound to a tenant reaches only that tenant.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, listOf, NullableTimestamp, Timestamp } from '../http/responses.ts';
import { createHold, getHold, listHolds, releaseHold } from './legal-holds.ts';
import { getRun, listRuns } from './lifecycle-run.ts';
import { changeRetentionPolicy, type RetentionInput } from './retention-change.ts';
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, policyOf, type RetentionPolicy } from './retention-policy.ts';

const tags = ['lifecycle'];
/** Longest `GET /v1/lifecycle/runs/{id}?wait=` holds a request open. */
const MAX_WAIT_SECONDS = 60;
/** Between looks at a run a request waits for. */
const WAIT_POLL_MS = 250;
const security = [{ bearer: [] }];

const TenantParams = Type.Object({ tenant: Type.String() });
const Days = Type.Integer({ minimum: MIN_RETENTION_DAYS, maximum: MAX_RETENTION_DAYS });
const RetentionBody = Type.Object(
  {
    days: { ...Days, description: 'Days an event is kept after it was received' },
    hot_days: Type.Optional({ ...Days, description: 'With an archive: days it also stays in the database (≤ days)' }),
  },
  { additionalProperties: false },
);
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const HoldBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ minLength: 1 })),
    reason: Text(1024),
    filter: Type.Optional(
      Type.Object(
        {
          actor: Type.Optional({ ...Text(256), description: 'Actor id' }),
          target: Type.Optional(Type.Object({ type: Text(64), id: Text(256) }, { additionalProperties: false })),
          since: Type.Optional(Type.String({ format: 'date-time', description: 'occurred_at at or after' })),
          until: Type.Optional(Type.String({ format: 'date-time', description: 'occurred_at before' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
const HoldQuery = Type.Object({ tenant: Type.Optional(Type.String({ minLength: 1 })), active: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String() });
const ReleaseBody = Type.Object({ reason: Text(1024) }, { additionalProperties: false });
const Retention = answer({
  tenant: Type.String(),
  days: Type.Integer(),
  hot_days: Type.Optional(Type.Integer({ description: 'Days an event stays in the database when an archive is configured; absent: `days`' })),
  source: Type.Union([Type.Literal('tenant'), Type.Literal('default')]),
  default_days: Type.Integer({ description: "The service's default" }),
});
const Hold = answer(
  {
    id: Type.String(),
    tenant: Type.String(),
    reason: Type.String(),
    filter: Type.Object({}, { additionalProperties: true, description: 'Empty: every event of the tenant' }),
    created_at: Timestamp,
    created_by: Type.String(),
    released_at: NullableTimestamp,
    released_by: Type.Union([Type.String(), Type.Null()]),
    release_reason: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'LegalHold' },
);
const TenantResult = answer({
  tenant: Type.String(),
  removed: Type.Integer({ description: 'Events whose payload was purged' }),
  records: Type.Array(answer({ index: Type.Integer(), range: Type.Array(Type.Integer()), count: Type.Integer() }), {
    description: 'The `retention.purged` records appended',
  }),
  seconds: answer({ archive: Type.Number(), removal: Type.Number() }, { description: 'Time spent archiving the expired ranges and removing their payloads' }),
});
const Run = answer(
  {
    id: Type.String(),
    tenant: Type.Union([Type.String(), Type.Null()], { description: 'The one tenant the run covers; null: every tenant' }),
    trigger: Type.Union([Type.Literal('schedule'), Type.Literal('api'), Type.Literal('cli')]),
    requested_by: Type.Union([Type.String(), Type.Null()], { description: 'The API key that asked for it' }),
    status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('interrupted')], {
      description: '`failed`: some tenant failed (see `failed`); `interrupted`: its process died while it ran (the next run finishes its work)',
    }),
    started_at: Timestamp,
    finished_at: NullableTimestamp,
    progress: Type.Union(
      [
        answer({
          tenant: Type.String(),
          phase: Type.Union([Type.Literal('archive'), Type.Literal('removal')]),
          range: Type.Array(Type.Integer(), { description: 'The leaf indices [from, to) the phase works on' }),
          done: Type.Integer({ description: 'Indices of the range done' }),
          tenants_done: Type.Integer(),
          tenants_total: Type.Integer(),
        }),
        Type.Null(),
      ],
      { description: 'Where a running run is; null once it ended' },
    ),
    tenants: Type.Array(TenantResult, { description: 'Per tenant purged, once the run ended' }),
    failed: Type.Array(answer({ tenant: Type.String(), error: Type.String() })),
  },
  { title: 'LifecycleRun' },
);
const RunParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const RunQuery = Type.Object(
  { wait: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, description: 'Seconds to wait for a running run to end' })) },
  { additionalProperties: false },
);
const RunsQuery = Type.Object(
  { tenant: Type.Optional(Type.String({ minLength: 1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) },
  { additionalProperties: false },
);

/** Sets the tenant's retention policy for the request's principal (retention-change.ts). */
export function changeRetention(services: Services, request: FastifyRequest, tenant: string, policy: RetentionInput): Promise<RetentionPolicy> {
  return changeRetentionPolicy(services, tenant, policy, principalOf(request), requestContext(request));
}

export function lifecycleRoutes(services: Services) {
  return async function registerLifecycleRoutes(app: FastifyInstance): Promise<void> {
    const admin = authenticate(services, 'admin');
    const read = authenticate(services, 'read');

    app.get(
      '/v1/tenants/:tenant/retention',
      { onRequest: read, schema: { summary: "A tenant's retention policy", tags, security, params: TenantParams, response: { 200: Retention } } },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.params as { tenant: string }).tenant, '/tenant');
        const policy = await policyOf(services.sql, tenant, services.lifecycle.defaultDays);
        return { tenant, ...policy, default_days: services.lifecycle.defaultDays };
      },
    );

    app.put(
      '/v1/tenants/:tenant/retention',
      {
        onRequest: admin,
        schema: { summary: "Set a tenant's retention policy", tags, security, params: TenantParams, body: RetentionBody, response: { 200: Retention } },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.params as { tenant: string }).tenant, '/tenant');
        const policy = await changeRetention(services, request, tenant, request.body as Static<typeof RetentionBody>);
        return { tenant, ...policy, default_days: services.lifecycle.defaultDays };
      },
    );

    app.post(
      '/v1/lifecycle/run',
      {
        onRequest: admin,
        schema: {
          summary: 'Start a lifecycle run now: archive, then purge, what has expired (body optional); follow it at its Location',
          tags,
          security,
          response: { 202: Run },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const requested = runTenant(request.body);
        // An unbound key naming no tenant runs every tenant.
        const tenant = principal.tenant === null && requested === undefined ? undefined : await tenantFor(services, request, requested);
        const run = await services.lifecycle.begin(tenant, principal.keyId);
        return reply.code(202).header('location', `/v1/lifecycle/runs/${run.id}`).send(run);
      },
    );

    app.get(
      '/v1/lifecycle/runs',
      {
        onRequest: admin,
        schema: { summary: 'The latest lifecycle runs, newest first', tags, security, querystring: RunsQuery, response: { 200: listOf(Run) } },
      },
      async (request) => {
        const query = request.query as Static<typeof RunsQuery>;
        const principal = principalOf(request);
        // An unbound key naming no tenant sees every run, those of all tenants included.
        const tenant = principal.tenant === null && query.tenant === undefined ? null : await tenantFor(services, request, query.tenant);
        return { data: await listRuns(services.sql, tenant, query.limit ?? 20) };
      },
    );

    app.get(
      '/v1/lifecycle/runs/:id',
      {
        onRequest: admin,
        schema: { summary: 'A lifecycle run: its progress, or its result', tags, security, params: RunParams, querystring: RunQuery, response: { 200: Run } },
      },
      async (request) => {
        const { id } = request.params as Static<typeof RunParams>;
        const deadline = Date.now() + ((request.query as Static<typeof RunQuery>).wait ?? 0) * 1000;
        for (;;) {
          const run = await getRun(services.sql, id, principalOf(request).tenant);
          if (!run) throw new TrailproofError('NOT_FOUND', 'no such lifecycle run');
          if (run.status !== 'running' || Date.now() >= deadline || request.raw.destroyed) return run;
          await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
        }
      },
    );

    app.post(
      '/v1/legal-holds',
      { onRequest: admin, schema: { summary: 'Place a legal hold', tags, security, body: HoldBody, response: { 201: Hold } } },
      async (request, reply) => {
        const principal = principalOf(request);
        const body = request.body as Static<typeof HoldBody>;
        const tenant = await tenantFor(services, request, body.tenant);
        const hold = await createHold(services.sql, { tenant, reason: body.reason, filter: body.filter ?? {}, by: principal.keyId });
        await services.audit.record({
          tenant,
          principal,
          action: 'legal_hold.created',
          targets: [{ type: 'legal_hold', id: hold.id }],
          metadata: { reason: hold.reason, filter: hold.filter },
          context: requestContext(request),
        });
        return reply.code(201).send(hold);
      },
    );

    app.get(
      '/v1/legal-holds',
      { onRequest: read, schema: { summary: "A tenant's legal holds, newest first", tags, security, querystring: HoldQuery, response: { 200: listOf(Hold) } } },
      async (request) => {
        const query = request.query as Static<typeof HoldQuery>;
        const tenant = await tenantFor(services, request, query.tenant);
        return { data: await listHolds(services.sql, tenant, { active: query.active === true }) };
      },
    );

    app.get(
      '/v1/legal-holds/:id',
      { onRequest: read, schema: { summary: 'A legal hold', tags, security, params: IdParams, response: { 200: Hold } } },
      async (request) => {
        const hold = await getHold(services.sql, (request.params as { id: string }).id, principalOf(request).tenant);
        if (!hold) throw new TrailproofError('NOT_FOUND', 'no such legal hold');
        return hold;
      },
    );

    app.delete(
      '/v1/legal-holds/:id',
      {
        onRequest: admin,
        schema: { summary: 'Release a legal hold (with a reason)', tags, security, params: IdParams, body: ReleaseBody, response: { 200: Hold } },
      },
      async (request) => {
        const principal = principalOf(request);
        const { reason } = request.body as Static<typeof ReleaseBody>;
        const hold = await releaseHold(services.sql, { id: (request.params as { id: string }).id, tenant: principal.tenant, reason, by: principal.keyId });
        await services.audit.record({
          tenant: hold.tenant,
          principal,
          action: 'legal_hold.released',
          targets: [{ type: 'legal_hold', id: hold.id }],
          metadata: { reason },
          context: requestContext(request),
        });
        return hold;
      },
    );
  };
}

/** The optional body of POST /v1/lifecycle/run: nothing, or `{"tenant": "…"}`. */
function runTenant(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  const fields = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : undefined;
  const extra = fields?.find((f) => f !== 'tenant');
  if (!fields || extra !== undefined) {
    throw new TrailproofError('REQUEST_INVALID', 'the body is optional and may only name a `tenant`', {
      details: [
        { pointer: extra === undefined ? '' : `/${extra}`, code: extra === undefined ? 'invalid_type' : 'unknown_field', message: 'must be {"tenant": "…"}' },
      ],
    });
  }
  const { tenant } = body as { tenant?: unknown };
  if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '')) {
    throw new TrailproofError('REQUEST_INVALID', '`tenant` must be a tenant id', {
      details: [{ pointer: '/tenant', code: 'invalid_type', message: 'must be a non-empty string' }],
    });
  }
  return tenant;
}
