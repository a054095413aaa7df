/**
 * Saved searches (saved-searches.ts): `POST/GET /v1/saved-searches`, `GET/PATCH/DELETE
 * /v1/saved-searches/{id}`. Read keys list and open them; admin keys create, change and delete them.
 * Every change is recorded in the tenant's trail.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from '@sinclair/typebox';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, listOf, NoContent, Timestamp } from '../http/responses.ts';
import { view, type Changer } from './saved-searches.ts';

const Filter = Type.Record(Type.String(), Type.String(), {
  description: 'GET /v1/events filter parameters: actor, action, target_type, target_id, outcome, ip, since, until, q',
});
const CreateBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    filter: Filter,
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), filter: Type.Optional(Filter) },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String() });
const ListQuery = Type.Object({ tenant: Type.Optional(Type.String()) });
const SavedSearch = answer(
  {
    id: Type.String(),
    tenant: Type.String(),
    name: Type.String(),
    filter: Filter,
    url: Type.String({ description: "The console's events view with this filter (relative to the server)" }),
    created_by: Type.String(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'SavedSearch' },
);

export function savedSearchRoutes(services: Services) {
  const tags = ['saved searches'];
  const security = [{ bearer: [] }];
  const changer = (request: FastifyRequest): Changer => ({ principal: principalOf(request), context: requestContext(request) });
  const load = (request: FastifyRequest) => services.savedSearches.get((request.params as { id: string }).id, principalOf(request).tenant);

  return async function registerSavedSearchRoutes(app: FastifyInstance): Promise<void> {
    app.post(
      '/v1/saved-searches',
      {
        onRequest: authenticate(services, 'admin'),
        schema: { summary: 'Save a named filter for the tenant', tags, security, body: CreateBody, response: { 201: SavedSearch } },
      },
      async (request, reply) => {
        const body = request.body as Static<typeof CreateBody>;
        const tenant = await tenantFor(services, request, body.tenant);
        return reply.code(201).send(await services.savedSearches.create(tenant, body, changer(request)));
      },
    );

    app.get(
      '/v1/saved-searches',
      {
        onRequest: authenticate(services, 'read'),
        schema: { summary: "The tenant's saved searches", tags, security, querystring: ListQuery, response: { 200: listOf(SavedSearch) } },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.query as Static<typeof ListQuery>).tenant);
        return { data: await services.savedSearches.list(tenant) };
      },
    );

    app.get(
      '/v1/saved-searches/:id',
      {
        onRequest: authenticate(services, 'read'),
        schema: { summary: 'A saved search, with its console URL', tags, security, params: IdParams, response: { 200: SavedSearch } },
      },
      async (request) => view(await load(request)),
    );

    app.patch(
      '/v1/saved-searches/:id',
      {
        onRequest: authenticate(services, 'admin'),
        schema: { summary: 'Rename a saved search or change its filter', tags, security, params: IdParams, body: UpdateBody, response: { 200: SavedSearch } },
      },
      async (request) => services.savedSearches.update(await load(request), request.body as Static<typeof UpdateBody>, changer(request)),
    );

    app.delete(
      '/v1/saved-searches/:id',
      {
        onRequest: authenticate(services, 'admin'),
        schema: { summary: 'Delete a saved search no stream or alert rule uses', tags, security, params: IdParams, response: { 204: NoContent } },
      },
      async (request, reply) => {
        await services.savedSearches.delete(await load(request), changer(request));
        return reply.code(204).send();
      },
    );
  };
}
