/**
 * Operator API for keys: `POST /v1/keys` (the secret is in this response only), `GET /v1/keys`,
 * `DELETE /v1/keys/{id}`. Admin scope; a tenant-bound admin key manages only its tenant's keys.
 * Every change is recorded in the tenant concerned (or the operator trail).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { SYSTEM_TENANT } from '../event/service-records.ts';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, listOf, NoContent, NullableTimestamp, Timestamp } from '../http/responses.ts';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, type ApiKey } from './api-keys.ts';

const CreateKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }),
    scope: Type.Union([Type.Literal('ingest'), Type.Literal('read'), Type.Literal('admin')]),
    tenant: Type.Optional(Type.String({ description: 'Bind the key to this tenant; omit for an operator key (unbound keys need an unbound admin key)' })),
  },
  { additionalProperties: false },
);

const ApiKeySchema = answer(
  {
    id: Type.String(),
    name: Type.String(),
    scope: Type.Union([Type.Literal('ingest'), Type.Literal('read'), Type.Literal('admin')]),
    tenant: Type.Union([Type.String(), Type.Null()], { description: 'The one tenant the key is bound to; null: it names the tenant per request' }),
    created_at: Timestamp,
    revoked_at: NullableTimestamp,
  },
  { title: 'ApiKey' },
);

export function keyRoutes(services: Services) {
  return async function registerKeyRoutes(app: FastifyInstance): Promise<void> {
    const admin = authenticate(services, 'admin');

    app.post(
      '/v1/keys',
      {
        onRequest: admin,
        schema: {
          summary: 'Create an API key (the secret is shown once)',
          tags: ['operator'],
          security: [{ bearer: [] }],
          body: CreateKeyBody,
          response: { 201: Type.Composite([ApiKeySchema, Type.Object({ secret: Type.String({ description: 'The key itself; shown only in this answer' }) })]) },
        },
      },
      async (request, reply) => {
        const body = request.body as Static<typeof CreateKeyBody>;
        const principal = principalOf(request);
        // A bound admin key can only mint keys for its own tenant; an unbound key needs an unbound admin.
        const tenant =
          body.tenant === undefined && principal.tenant === null ? null : await tenantFor(services, request, body.tenant ?? principal.tenant ?? undefined);
        const { key, secret } = await createApiKey(services.sql, { name: body.name, scope: body.scope, tenant });
        await recordKeyChange(request, 'api_key.created', key);
        return reply.code(201).send({ ...key, secret });
      },
    );

    app.get(
      '/v1/keys',
      {
        onRequest: admin,
        schema: { summary: 'List API keys (never their secrets)', tags: ['operator'], security: [{ bearer: [] }], response: { 200: listOf(ApiKeySchema) } },
      },
      async (request) => {
        const principal = principalOf(request);
        return { data: await listApiKeys(services.sql, principal.tenant ? { tenant: principal.tenant } : {}) };
      },
    );

    app.delete(
      '/v1/keys/:id',
      {
        onRequest: admin,
        schema: {
          summary: 'Revoke an API key',
          tags: ['operator'],
          security: [{ bearer: [] }],
          params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
          response: { 204: NoContent },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const principal = principalOf(request);
        const key = await getApiKey(services.sql, id);
        if (!key || (principal.tenant !== null && key.tenant !== principal.tenant)) throw new TrailproofError('NOT_FOUND', `no key ${id}`);
        if (!(await revokeApiKey(services.sql, id))) throw new TrailproofError('NOT_FOUND', `key ${id} is already revoked`);
        services.keys.evictKey(id);
        await recordKeyChange(request, 'api_key.revoked', key);
        return reply.code(204).send();
      },
    );

    async function recordKeyChange(request: FastifyRequest, action: string, key: ApiKey): Promise<void> {
      const principal = principalOf(request);
      const targets = [{ type: 'api_key', id: key.id, name: key.name.slice(0, 256) }];
      const metadata = { scope: key.scope, tenant: key.tenant ?? '(all)' };
      const tenants = new Set([SYSTEM_TENANT, ...(key.tenant ? [key.tenant] : [])]);
      if (principal.tenant !== null) tenants.delete(SYSTEM_TENANT);
      await Promise.all(
        [...tenants].map((tenant) => services.audit.record({ tenant, principal, action, targets, metadata, context: requestContext(request) })),
      );
    }
  };
}
