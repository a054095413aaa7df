/**
 * Stream destinations (docs/streams.md): `POST/GET /v1/streams`, `GET/PATCH/DELETE /v1/streams/{id}`,
 * `POST /v1/streams/{id}/resume`, `POST /v1/streams/{id}/replay`, `GET /v1/streams/{id}/status`.
 * Admin scope; a key bound to a tenant sees and manages only that tenant's streams (others are
 * NOT_FOUND, not FORBIDDEN: their ids are not disclosed). Secrets are accepted, never returned.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, listOf, NoContent, NullableTimestamp, Timestamp } from '../http/responses.ts';
import { DESTINATION_KINDS } from './destinations.ts';
import { view, type Changer } from './stream-service.ts';

const Filter = Type.Object(
  {
    actions: Type.Optional(
      Type.Array(Type.String(), { maxItems: 100, description: 'Action names (`user.login`) or prefixes (`document.*`); absent: every action' }),
    ),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
    saved_search: Type.Optional(Type.String({ description: 'The id of a saved search of the tenant: an event must match its filter too' })),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    kind: Type.String({ description: `One of ${[...DESTINATION_KINDS.keys()].join(', ')}` }),
    format: Type.Optional(Type.String({ description: "An export format the kind can carry; default the kind's first" })),
    filter: Type.Optional(Filter),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Settings of the kind (docs/streams.md)' })),
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Write-only: signing secret, token or key of the kind' })),
    since: Type.Optional(Type.String({ description: 'RFC 3339: start with the events received since; default: only new events' })),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    format: Type.Optional(Type.String()),
    filter: Type.Optional(Filter),
    config: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('paused')])),
  },
  { additionalProperties: false },
);

const ReplayBody = Type.Object(
  {
    since: Type.String({ description: 'RFC 3339: deliver again every event received at or after it' }),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String() });
const State = Type.Union([Type.Literal('active'), Type.Literal('paused')]);
/** A destination as the API shows it: never its secret, only whether it has one. */
const Stream = answer(
  {
    id: Type.String(),
    tenant: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    format: Type.String(),
    filter: Filter,
    config: Type.Record(Type.String(), Type.Unknown()),
    has_secret: Type.Boolean(),
    status: State,
    paused_reason: Type.Union([Type.String(), Type.Null()]),
    cursor: Type.Integer({ description: 'Index of the next event to deliver' }),
    last_success_at: NullableTimestamp,
    last_error: Type.Union([Type.String(), Type.Null()]),
    last_error_at: NullableTimestamp,
    attempts: Type.Integer({ description: 'Failed deliveries in a row' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Stream' },
);
const Status = answer({
  id: Type.String(),
  status: State,
  paused_reason: Type.Union([Type.String(), Type.Null()]),
  cursor: Type.Integer(),
  head: Type.Integer({ description: "The tenant's tree size" }),
  lag_events: Type.Integer({ description: 'Events committed but not yet delivered (or skipped by the filter)' }),
  lag_seconds: Type.Number({ description: 'Age of the oldest undelivered event; 0 when none' }),
  last_success_at: NullableTimestamp,
  last_error: Type.Union([Type.String(), Type.Null()]),
  last_error_at: NullableTimestamp,
  attempts: Type.Integer(),
});
const ListQuery = Type.Object({ tenant: Type.Optional(Type.String()) });

export function streamRoutes(services: Services) {
  const tags = ['streams'];
  const security = [{ bearer: [] }];
  const admin = authenticate(services, 'admin');
  const changer = (request: FastifyRequest): Changer => ({ principal: principalOf(request), context: requestContext(request) });
  const load = (request: FastifyRequest) => services.streams.get((request.params as { id: string }).id, principalOf(request).tenant);

  return async function registerStreamRoutes(app: FastifyInstance): Promise<void> {
    app.post(
      '/v1/streams',
      { onRequest: admin, schema: { summary: 'Create a stream destination', tags, security, body: CreateBody, response: { 201: Stream } } },
      async (request, reply) => {
        const body = request.body as Static<typeof CreateBody>;
        const tenant = await tenantFor(services, request, body.tenant);
        const { tenant: _t, ...input } = body;
        return reply.code(201).send(await services.streams.create(tenant, input, changer(request)));
      },
    );

    app.get(
      '/v1/streams',
      { onRequest: admin, schema: { summary: 'List stream destinations', tags, security, querystring: ListQuery, response: { 200: listOf(Stream) } } },
      async (request) => {
        const { tenant } = request.query as Static<typeof ListQuery>;
        // An unbound key naming no tenant lists every tenant's streams.
        const scope = principalOf(request).tenant === null && tenant === undefined ? undefined : await tenantFor(services, request, tenant);
        return { data: await services.streams.list(scope) };
      },
    );

    app.get(
      '/v1/streams/:id',
      { onRequest: admin, schema: { summary: 'A stream destination (without its secret)', tags, security, params: IdParams, response: { 200: Stream } } },
      async (request) => {
        return view(await load(request));
      },
    );

    app.patch(
      '/v1/streams/:id',
      {
        onRequest: admin,
        schema: {
          summary: 'Change a stream destination (pause with status=paused)',
          tags,
          security,
          params: IdParams,
          body: UpdateBody,
          response: { 200: Stream },
        },
      },
      async (request) => {
        return services.streams.update(await load(request), request.body as Static<typeof UpdateBody>, changer(request));
      },
    );

    app.delete(
      '/v1/streams/:id',
      { onRequest: admin, schema: { summary: 'Delete a stream destination', tags, security, params: IdParams, response: { 204: NoContent } } },
      async (request, reply) => {
        await services.streams.delete(await load(request), changer(request));
        return reply.code(204).send();
      },
    );

    app.post(
      '/v1/streams/:id/resume',
      { onRequest: admin, schema: { summary: 'Resume a paused stream from its cursor', tags, security, params: IdParams, response: { 200: Stream } } },
      async (request) => {
        return services.streams.resume(await load(request), changer(request));
      },
    );

    app.post(
      '/v1/streams/:id/replay',
      {
        onRequest: admin,
        schema: {
          summary: 'Move the cursor back (or forward) to the first event received since a time',
          tags,
          security,
          params: IdParams,
          body: ReplayBody,
          response: { 200: Stream },
        },
      },
      async (request) => {
        return services.streams.replay(await load(request), (request.body as Static<typeof ReplayBody>).since, changer(request));
      },
    );

    app.get(
      '/v1/streams/:id/status',
      { onRequest: admin, schema: { summary: 'Lag, last success and last error of a stream', tags, security, params: IdParams, response: { 200: Status } } },
      async (request) => {
        return services.streams.status(await load(request));
      },
    );
  };
}
