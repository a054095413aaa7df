/**
 * `GET /v1/exports?format=…&<the filters of GET /v1/events>`: the matching events, streamed in the
 * format asked for, oldest first by default. Recorded as `audit_log.exported` before the first byte.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { Counter } from 'prom-client';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { parseEventQuery } from '../query/filters.ts';
import { narrowFilter } from '../query/viewer-narrowing.ts';
import { EventQuerySchema } from '../query/routes.ts';
import { assertNoFilters, BUNDLE_EXPORT, bundleStream, ledgerIdentityOf } from './bundle-export.ts';
import { exportRecords } from './export-records.ts';
import { EVENT_FORMATS, unknownFormat } from './formats.ts';
import { registersOf } from '../metrics.ts';
import { media } from '../http/responses.ts';

const { limit: _limit, cursor: _cursor, ...filterProperties } = EventQuerySchema.properties;
const ExportQuery = Type.Object({
  format: Type.String({
    description: `One of ${[...EVENT_FORMATS.keys()].join(', ')}, or ${BUNDLE_EXPORT.name}: the verifiable bundle of the whole log (docs/bundle.md), no filters`,
  }),
  ...filterProperties,
});

export function exportRoutes(services: Services) {
  const rows = new Counter({
    name: 'trailproof_export_rows_total',
    help: 'Events written by GET /v1/exports, by format (for the bundle: its leaves)',
    labelNames: ['format'] as const,
    registers: registersOf(services.metrics),
  });

  /**
   * The verifiable bundle: recorded, then a checkpoint issued for the tree as it is (export record
   * included) so everything in it is signed, then streamed. A narrowed viewer token may not have it.
   */
  const sendBundle = async (request: FastifyRequest, reply: FastifyReply, params: Record<string, unknown>) => {
    assertNoFilters(
      Object.keys(params).filter((k) => k !== 'tenant' && params[k] !== undefined),
      '/',
    );
    const principal = principalOf(request);
    if (principal.viewer?.actions || principal.viewer?.targets)
      throw new TrailproofError('AUTH_FORBIDDEN', 'a narrowed viewer token cannot export the whole log');
    const tenant = await tenantFor(services, request, params.tenant as string | undefined);
    await services.audit.record({
      tenant,
      principal,
      action: 'audit_log.exported',
      metadata: { format: BUNDLE_EXPORT.name },
      context: requestContext(request),
    });
    // A tree the checkpointer refuses to sign (its head contradicts an earlier checkpoint) is still
    // exported: the bundle is how that gets shown.
    await services.checkpointer.issue(tenant).catch((err: unknown) => request.log.error({ err, tenant }, 'export: no fresh checkpoint'));
    const filename = `trailproof-${tenant}-${new Date().toISOString().slice(0, 10)}.${BUNDLE_EXPORT.extension}`;
    return reply
      .type(BUNDLE_EXPORT.mediaType)
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('cache-control', 'no-store')
      .send(bundleStream(services.sql, tenant, ledgerIdentityOf(services.ledgerKeys, tenant), (n) => rows.inc({ format: BUNDLE_EXPORT.name }, n)));
  };

  return async function registerExportRoutes(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/exports',
      {
        onRequest: authenticate(services, 'read'),
        validatorCompiler: () => () => true,
        schema: {
          summary: 'Export matching events in a SIEM or spreadsheet format (streamed)',
          tags: ['exports'],
          security: [{ bearer: [] }],
          querystring: ExportQuery,
          response: {
            200: media(
              [...[...EVENT_FORMATS.values()].map((f) => f.mediaType), BUNDLE_EXPORT.mediaType],
              'Every matching event in the chosen format, streamed (docs/exports.md)',
            ),
          },
        },
      },
      async (request, reply) => {
        const params = { ...(request.query as Record<string, unknown>) };
        const formatName = params.format;
        delete params.format;
        if (formatName === BUNDLE_EXPORT.name) return sendBundle(request, reply, params);
        const format = typeof formatName === 'string' ? EVENT_FORMATS.get(formatName) : undefined;
        if (!format) throw unknownFormat(formatName);
        if (params.limit !== undefined || params.cursor !== undefined) throw notForExports(params.limit !== undefined ? 'limit' : 'cursor');
        const query = parseEventQuery({ sort: 'asc', ...params });
        const tenant = await tenantFor(services, request, query.tenant);
        // A viewer token's narrowing (src/query/viewer-narrowing.ts) applies to exports like to every read.
        query.filter = narrowFilter(principalOf(request), query.filter);
        await services.audit.record({
          tenant,
          principal: principalOf(request),
          action: 'audit_log.exported',
          metadata: { format: format.name, filter: Object.fromEntries(Object.entries(query.filter).map(([k, v]) => [k, String(v)])) },
          context: requestContext(request),
        });
        query.filter = await services.redaction.searchable(tenant, query.filter);
        const filename = `trailproof-${tenant}-${new Date().toISOString().slice(0, 10)}.${format.extension}`;
        return reply
          .type(format.mediaType)
          .header('content-disposition', `attachment; filename="${filename}"`)
          .send(
            Readable.from(
              exportRecords(services.sql, tenant, query, format, (n) => rows.inc({ format: format.name }, n)),
              { objectMode: false },
            ),
          );
      },
    );
  };
}

function notForExports(name: string): TrailproofError {
  const message = `${name} does not apply to exports, which return every matching event`;
  return new TrailproofError('QUERY_INVALID', message, { details: [{ pointer: `/${name}`, code: 'unknown_field', message }] });
}
