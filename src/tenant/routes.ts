/** Operator API for tenants: `POST /v1/tenants`, `GET /v1/tenants` (admin scope). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { SYSTEM_TENANT } from '../event/service-records.ts';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, listOf, Timestamp } from '../http/responses.ts';
import { createTenant, listTenants, TENANT_ID_PATTERN } from './tenant-repository.ts';

const CreateTenantBody = Type.Object(
  {
    id: Type.String({
      pattern: TENANT_ID_PATTERN.source,
      description: 'Used in URLs and checkpoint origins; WorkOS organization ids (`org_01EH…`) are valid as they are',
    }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);

const TenantSchema = answer({ id: Type.String(), name: Type.String(), created_at: Timestamp }, { title: 'Tenant' });

export function tenantRoutes(services: Services) {
  return async function registerTenantRoutes(app: FastifyInstance): Promise<void> {
    app.post(
      '/v1/tenants',
      {
        onRequest: authenticate(services, 'admin'),
        schema: { summary: 'Create a tenant', tags: ['operator'], security: [{ bearer: [] }], body: CreateTenantBody, response: { 201: TenantSchema } },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (principal.tenant !== null) throw new TrailproofError('AUTH_FORBIDDEN', 'only a key bound to no tenant can create tenants');
        const body = request.body as Static<typeof CreateTenantBody>;
        const tenant = await createTenant(services.sql, body);
        await services.audit.record({
          tenant: SYSTEM_TENANT,
          principal,
          action: 'tenant.created',
          targets: [{ type: 'tenant', id: tenant.id, name: tenant.name }],
          context: requestContext(request),
        });
        return reply.code(201).send(tenant);
      },
    );

    app.get(
      '/v1/tenants',
      {
        onRequest: authenticate(services, 'admin'),
        schema: { summary: 'List tenants', tags: ['operator'], security: [{ bearer: [] }], response: { 200: listOf(TenantSchema) } },
      },
      async (request) => {
        const principal = principalOf(request);
        // A person with roles on several tenants lists those (principal.tenants).
        const tenants = principal.tenants
          ? (await listTenants(services.sql)).filter((t) => principal.tenants!.includes(t.id))
          : await listTenants(services.sql, principal.tenant ? { only: principal.tenant } : {});
        return { data: tenants.filter((t) => t.id !== SYSTEM_TENANT || principal.tenant === null) };
      },
    );
  };
}
