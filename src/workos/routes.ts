/**
 * The WorkOS-compatible Audit Logs API (docs/workos.md): the routes the official `@workos-inc/node`
 * SDK's `auditLogs` calls, so an application switches by pointing the SDK at Trailproof
 * (`apiHostname`, `port`, `https`) with a Trailproof key. `organization_id` is the tenant. Errors
 * keep Trailproof's statuses and codes in the shape the SDK reads (`{code, message, errors}`).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { TrailproofError } from '../errors.ts';
import { validateEvent } from '../event/validate.ts';
import { SYSTEM_TENANT } from '../event/service-records.ts';
import { csv } from '../export/csv.ts';
import { exportRecords } from '../export/export-records.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import { errorHandlerAnswering } from '../http/error-handler.ts';
import type { Services } from '../http/services.ts';
import { answer, media, Timestamp } from '../http/responses.ts';
import { admitEvent } from '../ingest/admit.ts';
import { changeRetention } from '../lifecycle/routes.ts';
import { MAX_RETENTION_DAYS, policyOf } from '../lifecycle/retention-policy.ts';
import { actionParam, recordSchemaChange } from '../schema/routes.ts';
import { toEventInput, toWorkosDetail, type WorkosEventRequest } from './event.ts';
import { createExport, exportFilter, exportOfLink, findExport, issueLink, queryOf, type WorkosExport } from './exports.ts';
import { parseWorkosSchema, toDefinition, workosView } from './schema.ts';

const tags = ['workos'];
const security = [{ bearer: [] }];
const Any = Type.Object({}, { additionalProperties: true });
const ActionParams = Type.Object({ action: Type.String() });
const IdParams = Type.Object({ id: Type.String() });
/** The WorkOS error shape these routes answer (see the error handler below), not docs/errors.md's. */
const WorkosError = answer({
  code: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'With 400s: the fields at fault' })),
  details: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
});
const ExportView = answer({
  object: Type.Literal('audit_log_export'),
  id: Type.String(),
  state: Type.Literal('ready'),
  url: Type.String({ description: 'Download URL of the CSV, valid 10 minutes' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const SchemaView = answer({ object: Type.Literal('audit_log_schema') }, { description: 'A WorkOS audit-log schema' });
const RetentionView = answer({ retention_period_in_days: Type.Integer() });
const errors = { '4xx': WorkosError, '5xx': WorkosError };

/** `1_MONTH`…`11_MONTHS`, `1_YEAR`…`10_YEARS`: a month counts 30 days, a year 365. */
const RETENTION_PERIOD = /^(\d{1,2})_(MONTH|MONTHS|YEAR|YEARS)$/;

export function retentionDays(period: unknown): number {
  const match = typeof period === 'string' ? RETENTION_PERIOD.exec(period) : null;
  const n = match ? Number(match[1]) : 0;
  const unit = match?.[2]?.startsWith('MONTH') ? 30 : 365;
  const plural = match?.[2]?.endsWith('S') ?? false;
  const valid = match && n >= 1 && (plural ? n > 1 : n === 1) && (unit === 30 ? n <= 11 : n <= 10);
  if (!valid) {
    const message = 'must be one of 1_MONTH, 2_MONTHS … 11_MONTHS, 1_YEAR, 2_YEARS … 10_YEARS';
    throw new TrailproofError('REQUEST_INVALID', `retention_period ${message}`, { details: [{ pointer: '/retention_period', code: 'invalid_enum', message }] });
  }
  return Math.min(n * unit, MAX_RETENTION_DAYS);
}

export function workosRoutes(services: Services) {
  const orgTenant = (request: FastifyRequest, organization: unknown, pointer: string) => {
    if (organization !== undefined && typeof organization !== 'string') {
      throw new TrailproofError('REQUEST_INVALID', 'organization_id must be a string', {
        details: [{ pointer, code: 'invalid_type', message: 'must be a string' }],
      });
    }
    return tenantFor(services, request, organization, pointer).then((tenant) => {
      if (tenant === SYSTEM_TENANT) throw new TrailproofError('AUTH_FORBIDDEN', 'the operator trail is not an organization');
      return tenant;
    });
  };
  const exportView = async (request: FastifyRequest, e: WorkosExport) => {
    const token = await issueLink(services.sql, e.id);
    return {
      object: 'audit_log_export',
      id: e.id,
      state: 'ready',
      // The address the client reached: its Host, and https also when a TLS-terminating proxy says so.
      url: `${request.headers['x-forwarded-proto'] === 'https' ? 'https' : request.protocol}://${request.host}/audit_logs/exports/${e.id}/download?token=${token}`,
      created_at: e.created_at,
      updated_at: e.created_at,
    };
  };
  const retentionView = async (tenant: string) => ({
    retention_period_in_days: (await policyOf(services.sql, tenant, services.lifecycle.defaultDays)).days,
  });

  return async function registerWorkosRoutes(app: FastifyInstance): Promise<void> {
    // The SDK throws BadRequestException (status 400, whatever the response's) for any body with
    // `code` and `errors`: so `errors` comes with 400s only, other statuses keep theirs.
    app.setErrorHandler(
      errorHandlerAnswering((e) => ({
        code: e.code,
        message: e.message,
        ...(e.status === 400 ? { errors: e.details ?? [] } : e.details ? { details: e.details } : {}),
      })),
    );

    app.post(
      '/audit_logs/events',
      {
        onRequest: authenticate(services, 'ingest'),
        validatorCompiler: () => () => true,
        schema: {
          summary: 'WorkOS createEvent: record one event of an organization',
          tags,
          security,
          body: Any,
          response: { 201: answer({ success: Type.Literal(true) }), ...errors },
        },
      },
      async (request, reply) => {
        const body = (request.body ?? {}) as WorkosEventRequest;
        const tenant = await orgTenant(request, body.organization_id, '/organization_id');
        const header = request.headers['idempotency-key'];
        const key = typeof header === 'string' && header !== '' ? header : undefined;
        const result = validateEvent(toEventInput(body.event, key), { now: new Date(), maxFutureSkewMs: services.config.maxFutureSkewMs });
        if (!result.ok) throw new TrailproofError('EVENT_INVALID', 'the event is invalid', { details: result.errors.map(toWorkosDetail) });
        const version = (body.event as { version?: unknown }).version;
        if (version !== undefined && !(Number.isInteger(version) && (version as number) >= 1)) {
          throw new TrailproofError('EVENT_INVALID', 'the event is invalid', {
            details: [{ pointer: '/event/version', code: 'invalid_type', message: 'must be a positive integer' }],
          });
        }
        const admitted = await admitEvent(
          services,
          tenant,
          result.body,
          '/event',
          version === undefined ? undefined : { value: version as number, pointer: '/event/version' },
        );
        const [appended] = await services.committer.append([{ tenant, body: admitted.body, occurredAtFilled: false }]);
        if (appended?.status === 'conflict') {
          throw new TrailproofError(
            'EVENT_ID_CONFLICT',
            `Idempotency-Key ${key} was used for an event with different content (differs in: ${appended.fields.join(', ')})`,
            {
              details: [{ pointer: '/headers/idempotency-key', code: 'id_conflict', message: `already used by event ${appended.uid}` }],
            },
          );
        }
        if (appended?.status === 'tenant_not_found') throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${tenant}" does not exist`);
        request.log.info({ principal: principalOf(request).keyId, duplicate: appended?.status === 'duplicate' }, 'workos event ingested');
        return reply.code(201).send({ success: true });
      },
    );

    app.post(
      '/audit_logs/exports',
      {
        onRequest: authenticate(services, 'read'),
        validatorCompiler: () => () => true,
        schema: {
          summary: "WorkOS createExport: an organization's events in a date range, as CSV",
          tags,
          security,
          body: Any,
          response: { 201: ExportView, ...errors },
        },
      },
      async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const tenant = await orgTenant(request, body.organization_id, '/organization_id');
        const { filter, query } = exportFilter(body);
        const principal = principalOf(request);
        const created = await createExport(services.sql, tenant, filter, principal.keyId);
        await services.audit.record({
          tenant,
          principal,
          action: 'audit_log.exported',
          metadata: { format: csv.name, export: created.id, filter: Object.fromEntries(Object.entries(query.filter).map(([k, v]) => [k, String(v)])) },
          context: requestContext(request),
        });
        return reply.code(201).send(await exportView(request, created));
      },
    );

    app.get(
      '/audit_logs/exports/:id',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: 'WorkOS getExport: the export, with a fresh download URL (10 minutes)',
          tags,
          security,
          params: IdParams,
          response: { 200: ExportView, ...errors },
        },
      },
      async (request) => {
        const found = await findExport(services.sql, (request.params as { id: string }).id, principalOf(request).tenant);
        return exportView(request, found);
      },
    );

    app.get(
      '/audit_logs/exports/:id/download',
      {
        schema: {
          summary: "An export's CSV; the URL's token is the credential",
          tags,
          params: IdParams,
          querystring: Type.Object({ token: Type.String({ maxLength: 128 }) }),
          response: { 200: media('text/csv', 'The CSV (docs/exports.md)'), ...errors },
        },
      },
      async (request, reply) => {
        const e = await exportOfLink(services.sql, (request.params as { id: string }).id, (request.query as { token: string }).token);
        const query = queryOf(e.filter);
        query.filter = await services.redaction.searchable(e.tenant, query.filter);
        return reply
          .type(csv.mediaType)
          .header('content-disposition', `attachment; filename="${e.id}.${csv.extension}"`)
          .header('cache-control', 'no-store')
          .send(Readable.from(exportRecords(services.sql, e.tenant, query, csv), { objectMode: false }));
      },
    );

    app.post(
      '/audit_logs/actions/:action/schemas',
      {
        onRequest: authenticate(services, 'admin'),
        validatorCompiler: () => () => true,
        schema: {
          summary: "WorkOS createSchema: a new version of an action's schema, for the key's tenant",
          tags,
          security,
          params: ActionParams,
          body: Any,
          response: { 201: SchemaView, ...errors },
        },
      },
      async (request, reply) => {
        const action = actionParam((request.params as { action: string }).action);
        const tenant = await orgTenant(request, undefined, '/organization_id');
        const given = parseWorkosSchema(request.body);
        const { schema, created } = await services.schemas.put(tenant, action, toDefinition(given), principalOf(request).keyId, given);
        if (created) await recordSchemaChange(services, request, schema);
        return reply.code(201).send(workosView(schema));
      },
    );

    app.get(
      '/audit_logs/actions/:action/schemas',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: "WorkOS listSchemas: every version of an action's schema, newest first",
          tags,
          security,
          params: ActionParams,
          response: {
            200: answer({ object: Type.Literal('list'), data: Type.Array(SchemaView), list_metadata: Type.Object({}, { additionalProperties: true }) }),
            ...errors,
          },
        },
      },
      async (request) => {
        const action = actionParam((request.params as { action: string }).action);
        const tenant = await orgTenant(request, undefined, '/organization_id');
        const versions = await services.schemas.versions(tenant, action);
        return { object: 'list', data: versions.map(workosView), list_metadata: { before: null, after: null } };
      },
    );

    app.get(
      '/organizations/:id/audit_logs_retention',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: "WorkOS getOrganizationAuditLogsRetention: the tenant's retention in days",
          tags,
          security,
          params: IdParams,
          response: { 200: RetentionView, ...errors },
        },
      },
      async (request) => retentionView(await orgTenant(request, (request.params as { id: string }).id, '/id')),
    );

    app.put(
      '/organizations/:id/audit_logs_retention',
      {
        onRequest: authenticate(services, 'admin'),
        validatorCompiler: () => () => true,
        schema: {
          summary: "WorkOS updateOrganizationAuditLogsRetention: set the tenant's retention policy",
          tags,
          security,
          params: IdParams,
          body: Any,
          response: { 200: RetentionView, ...errors },
        },
      },
      async (request) => {
        const tenant = await orgTenant(request, (request.params as { id: string }).id, '/id');
        const days = retentionDays((request.body as { retention_period?: unknown } | undefined)?.retention_period);
        // A tenant's own `hot_days` (docs/lifecycle.md) stays while it still fits the new period.
        const current = await policyOf(services.sql, tenant, services.lifecycle.defaultDays);
        const hot = current.source === 'tenant' && current.hot_days !== undefined && current.hot_days <= days ? current.hot_days : undefined;
        await changeRetention(services, request, tenant, { days, ...(hot === undefined ? {} : { hot_days: hot }) });
        return retentionView(tenant);
      },
    );
  };
}
