/**
 * The cold archive's HTTP API (docs/lifecycle.md#cold-archive): a tenant's archived segments, each
 * segment and manifest as stored (for `trailproof archive verify`), one archived event with its
 * inclusion proof, and the export of an archived range. Reads of events are recorded as any other
 * (`audit_log.viewed`, `audit_log.exported`); every route is tenant-scoped.
 */
import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TrailproofError } from '../../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../../http/authenticate.ts';
import { answer, media } from '../../http/responses.ts';
import type { Services } from '../../http/services.ts';
import type { ArchivedSegment } from './archive-service.ts';

const tags = ['archive'];
const security = [{ bearer: [] }];
const Index = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const SegmentParams = Type.Object({ tenant: Type.String(), from: { ...Index, description: 'The first leaf index of the segment' } });
const EventParams = Type.Object({ tenant: Type.String(), index: { ...Index, description: 'The leaf index of the event' } });
const ListQuery = Type.Object({ tenant: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });
const ExportQuery = Type.Object(
  {
    tenant: Type.Optional(Type.String({ minLength: 1 })),
    from: Type.Optional({ ...Index, description: 'First leaf index (default 0)' }),
    to: Type.Optional({ ...Index, description: 'Leaf index to stop before (default: the end of the archive)' }),
  },
  { additionalProperties: false },
);
const Segment = Type.Object({
  tenant: Type.String(),
  from: Type.Integer(),
  to: Type.Integer(),
  name: Type.String(),
  sha256: Type.String(),
  bytes: Type.Integer(),
  checkpoint_size: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  first_received_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When its first event was received' }),
  last_received_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When its last event was received' }),
});

const Manifest = answer(
  {
    format: Type.Literal('trailproof-archive-manifest'),
    version: Type.Integer(),
    tenant: Type.String(),
    from: Type.Integer(),
    to: Type.Integer(),
    segment: Type.String({ description: "The segment object's name" }),
    sha256: Type.String({ description: "SHA-256 (hex) of the segment's bytes" }),
    bytes: Type.Integer(),
    checkpoint: answer({ size: Type.Integer({ description: 'Tree size' }), note: Type.String({ description: 'The signed checkpoint note' }) }),
  },
  { title: 'ArchiveManifest' },
);
const ArchivedEvent = answer(
  {
    tenant: Type.String(),
    segment: Type.String(),
    leaf_index: Type.Integer(),
    envelope: answer({}, { description: 'The leaf envelope: v, tenant, index, uid, received_at, commitment' }),
    event: Type.Union([answer({}, { description: 'The event as committed (JCS)' }), Type.Null()]),
    salt: Type.Union([Type.String(), Type.Null()]),
    erased: Type.Boolean(),
    checkpoint: Type.String({ description: 'The signed checkpoint note the proof is in' }),
    proof: Type.String({ description: 'c2sp.org/tlog-proof' }),
  },
  { title: 'ArchivedEvent' },
);

export function archiveRoutes(services: Services) {
  return async function registerArchiveRoutes(app: FastifyInstance): Promise<void> {
    const read = authenticate(services, 'read');
    const { archive } = services;

    /** The recorded segment of `tenant` starting at `from`, or NOT_FOUND. */
    const segmentAt = async (request: FastifyRequest): Promise<ArchivedSegment> => {
      const params = request.params as Static<typeof SegmentParams>;
      const tenant = await tenantFor(services, request, params.tenant);
      const segment = (await archive.list(tenant)).find((s) => s.from === params.from);
      if (!segment) throw new TrailproofError('NOT_FOUND', `no archived segment of ${tenant} starts at leaf ${params.from}`);
      return segment;
    };

    app.get(
      '/v1/archive/segments',
      {
        onRequest: read,
        schema: {
          summary: "A tenant's archived segments, oldest first",
          tags,
          security,
          querystring: ListQuery,
          response: { 200: Type.Object({ data: Type.Array(Segment) }) },
        },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.query as Static<typeof ListQuery>).tenant);
        return { data: await archive.list(tenant) };
      },
    );

    app.get(
      '/v1/archive/segments/:tenant/:from',
      {
        onRequest: read,
        schema: {
          summary: 'One archived segment as stored (gzip JSON Lines), checked against its recorded SHA-256',
          description: 'Verify it offline with `trailproof archive verify <file> --key <verifier key>`.',
          tags,
          security,
          params: SegmentParams,
          response: { 200: media('application/gzip', 'The segment: gzip JSON Lines', true) },
        },
      },
      async (request, reply) => {
        const segment = await segmentAt(request);
        const { bytes } = await archive.read(segment);
        await services.audit.record({
          tenant: segment.tenant,
          principal: principalOf(request),
          action: 'audit_log.exported',
          metadata: { format: 'archive_segment', from: segment.from, to: segment.to },
          context: requestContext(request),
        });
        return reply
          .type('application/gzip')
          .header('content-disposition', `attachment; filename="${segment.name.split('/').at(-1)}"`)
          .send(bytes);
      },
    );

    app.get(
      '/v1/archive/segments/:tenant/:from/manifest',
      { onRequest: read, schema: { summary: "An archived segment's manifest", tags, security, params: SegmentParams, response: { 200: Manifest } } },
      async (request) => (await archive.read(await segmentAt(request))).manifest,
    );

    app.get(
      '/v1/archive/events/:tenant/:index',
      {
        onRequest: read,
        schema: {
          summary: 'One archived event with its inclusion proof',
          description:
            "The JSON of GET /v1/events/{uid}/proof, from the archive: the envelope, the event and salt (null when erased), and the proof in the segment's checkpoint. `trailproof verify-proof` checks it.",
          tags,
          security,
          params: EventParams,
          response: { 200: ArchivedEvent },
        },
      },
      async (request) => {
        const params = request.params as Static<typeof EventParams>;
        const tenant = await tenantFor(services, request, params.tenant);
        const event = await archive.archivedEvent(tenant, params.index);
        if (!event) throw new TrailproofError('NOT_FOUND', `no archived segment of ${tenant} holds leaf ${params.index}`);
        await services.audit.record({
          tenant,
          principal: principalOf(request),
          action: 'audit_log.viewed',
          targets: [{ type: 'audit_event', id: event.envelope.uid }],
          metadata: { view: 'archived_event' },
          context: requestContext(request),
        });
        return event;
      },
    );

    app.get(
      '/v1/archive/export',
      {
        onRequest: read,
        schema: {
          summary: 'The archived events of a range of leaf indices, as JSON Lines',
          description: 'One line per archived leaf, oldest first: the segment, the envelope, the event and salt (null when erased).',
          tags,
          security,
          querystring: ExportQuery,
          response: { 200: media('application/x-ndjson', 'One archived leaf per line') },
        },
      },
      async (request, reply) => {
        const query = request.query as Static<typeof ExportQuery>;
        const from = query.from ?? 0;
        const to = query.to ?? Number.MAX_SAFE_INTEGER;
        if (to <= from) {
          throw new TrailproofError('QUERY_INVALID', '`to` must be greater than `from`', {
            details: [{ pointer: '/to', code: 'out_of_range', message: `must be greater than from (${from})` }],
          });
        }
        const tenant = await tenantFor(services, request, query.tenant);
        await services.audit.record({
          tenant,
          principal: principalOf(request),
          action: 'audit_log.exported',
          metadata: { format: 'archive', from, ...(query.to === undefined ? {} : { to }) },
          context: requestContext(request),
        });
        const lines = (async function* () {
          for await (const line of archive.exportRange(tenant, from, to)) yield `${JSON.stringify(line)}\n`;
        })();
        return reply
          .type('application/x-ndjson')
          .header('content-disposition', `attachment; filename="trailproof-${tenant}-archive-${from}.jsonl"`)
          .send(Readable.from(lines));
      },
    );
  };
}
