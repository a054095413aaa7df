/**
 * Per-action schemas (docs/schemas.md): `PUT /v1/schemas/{action}` adds a version (admin, recorded
 * as `tenant.schema_updated`), `GET /v1/schemas`, `GET /v1/schemas/{action}` and
 * `GET /v1/schemas/{action}/versions` read them (read). A key bound to no tenant names one with
 * `?tenant=`; a bound key reaches only its own tenant.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { type DetailCode, fieldInvalid } from '../errors.ts';
import { EVENT_LIMITS } from '../event/limits.ts';
import { isServiceAction } from '../event/service-records.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, listOf, Timestamp } from '../http/responses.ts';
import type { ActionSchema } from './action-schemas.ts';
import { parseDefinition, SCHEMA_PARTS } from './definition.ts';

const tags = ['schemas'];
const security = [{ bearer: [] }];
const ActionParams = Type.Object({ action: Type.String() });
const TenantQuery = Type.Object({ tenant: Type.Optional(Type.String()) }, { additionalProperties: false });
const Definition = Type.Object(
  Object.fromEntries(Object.keys(SCHEMA_PARTS).map((part) => [part, Type.Optional(Type.Object({}, { additionalProperties: true }))])),
  { description: 'JSON Schemas (draft 2020-12) for the parts of the event: metadata, actor_metadata, targets' },
);
const ACTION = new RegExp(EVENT_LIMITS.actionPattern);
const SchemaVersion = Type.Composite(
  [
    Type.Object({ tenant: Type.String(), action: Type.String(), version: Type.Integer() }),
    Definition,
    Type.Object({ created_by: Type.String(), created_at: Timestamp }),
  ],
  { title: 'ActionSchema', additionalProperties: true },
);

/** The answer's form of one version. */
export function schemaView(schema: ActionSchema) {
  return {
    tenant: schema.tenant,
    action: schema.action,
    version: schema.version,
    ...schema.definition,
    created_by: schema.created_by,
    created_at: schema.created_at,
  };
}

/** The action of the path, held to the event model's action rules. */
export function actionParam(action: string, pointer = '/action'): string {
  const fail = (code: DetailCode, message: string): never => {
    throw fieldInvalid(pointer, code, message, `invalid action: ${message}`);
  };
  if (action.length > EVENT_LIMITS.actionMaxLength) fail('too_long', `must be at most ${EVENT_LIMITS.actionMaxLength} characters`);
  if (!ACTION.test(action)) fail('pattern', `must match ${EVENT_LIMITS.actionPattern}`);
  if (isServiceAction(action)) fail('reserved', 'actions of the service namespaces are recorded by the service only');
  return action;
}

export function schemaRoutes(services: Services) {
  const tenantOf = (request: FastifyRequest) => tenantFor(services, request, (request.query as { tenant?: string }).tenant, '/tenant');
  const actionOf = (request: FastifyRequest) => actionParam((request.params as { action: string }).action);

  return async function registerSchemaRoutes(app: FastifyInstance): Promise<void> {
    app.put(
      '/v1/schemas/:action',
      {
        onRequest: authenticate(services, 'admin'),
        // Validation is parseDefinition's: each part is compiled, errors name its pointer.
        validatorCompiler: () => () => true,
        schema: {
          summary: "Add a version of an action's schema",
          description: 'Events of the action received from then on are checked against it (within seconds on every server process).',
          tags,
          security,
          params: ActionParams,
          querystring: TenantQuery,
          body: Definition,
          response: { 200: answer(SchemaVersion.properties, { description: 'The same definition was the newest already' }), 201: SchemaVersion },
        },
      },
      async (request, reply) => {
        const action = actionOf(request);
        const tenant = await tenantOf(request);
        const definition = parseDefinition(request.body);
        const principal = principalOf(request);
        const { schema, created } = await services.schemas.put(tenant, action, definition, principal.keyId);
        if (created) await recordSchemaChange(services, request, schema);
        return reply.code(created ? 201 : 200).send(schemaView(schema));
      },
    );

    app.get(
      '/v1/schemas',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: "The newest schema of each of the tenant's actions",
          tags,
          security,
          querystring: TenantQuery,
          response: { 200: listOf(SchemaVersion) },
        },
      },
      async (request) => ({ data: (await services.schemas.list(await tenantOf(request))).map(schemaView) }),
    );

    app.get(
      '/v1/schemas/:action',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: "The newest version of an action's schema",
          tags,
          security,
          params: ActionParams,
          querystring: TenantQuery,
          response: { 200: SchemaVersion },
        },
      },
      async (request) => {
        const action = actionOf(request);
        return schemaView(await services.schemas.get(await tenantOf(request), action));
      },
    );

    app.get(
      '/v1/schemas/:action/versions',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: "Every version of an action's schema, newest first",
          tags,
          security,
          params: ActionParams,
          querystring: TenantQuery,
          response: { 200: listOf(SchemaVersion) },
        },
      },
      async (request) => {
        const action = actionOf(request);
        return { data: (await services.schemas.versions(await tenantOf(request), action)).map(schemaView) };
      },
    );
  };
}

/** A new version, recorded in the tenant's trail. */
export async function recordSchemaChange(services: Services, request: FastifyRequest, schema: ActionSchema): Promise<void> {
  await services.audit.record({
    tenant: schema.tenant,
    principal: principalOf(request),
    action: 'tenant.schema_updated',
    metadata: { action: schema.action, version: schema.version },
    context: requestContext(request),
  });
}
