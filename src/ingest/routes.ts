/**
 * `POST /v1/events`: one event, or `{"events": [...]}` up to MAX_BATCH. Valid events are stored even
 * when others in the batch are not; the response says, per index, what happened. The reply is sent
 * only after the transaction holding the events committed.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { TrailproofError, type ErrorDetail } from '../errors.ts';
import { MAX_BODY_BYTES } from '../event/limits.ts';
import { EventInputSchema } from '../event/validate.ts';
import { answer, ErrorResponse, Timestamp } from '../http/responses.ts';
import { validateBatch } from '../event/validate.ts';
import { SYSTEM_TENANT } from '../event/service-records.ts';
import type { EventBody } from '../event/types.ts';
import { authenticate, principalOf, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import type { AppendResult } from './append-batch.ts';
import { admitEvent } from './admit.ts';

interface Accepted {
  index: number;
  uid: string;
  seq: number;
  received_at: string;
  duplicate: boolean;
  /** Pointers of the fields redaction removed or hashed (docs/redaction.md); absent when none. */
  redacted?: string[];
}

interface Rejected {
  index: number;
  errors: ErrorDetail[];
}

/** One recorded event: where it is in the ledger. */
const Recorded = answer({
  uid: Type.String(),
  seq: Type.Integer({ description: "Index in the tenant's ledger" }),
  received_at: Timestamp,
  duplicate: Type.Boolean({ description: 'Recorded before with this id and the same content' }),
  redacted: Type.Optional(Type.Array(Type.String(), { description: 'Paths the redaction rules removed or hashed' })),
});
const BatchAnswer = answer({
  accepted: Type.Array(Type.Composite([Type.Object({ index: Type.Integer() }), Recorded])),
  rejected: Type.Array(
    answer({
      index: Type.Integer(),
      errors: Type.Array(answer({ pointer: Type.String(), code: Type.String(), message: Type.String() })),
    }),
  ),
});

export function ingestRoutes(services: Services) {
  return async function registerIngestRoutes(app: FastifyInstance): Promise<void> {
    app.post(
      '/v1/events',
      {
        onRequest: authenticate(services, 'ingest'),
        bodyLimit: MAX_BODY_BYTES,
        // Validation is ours (validateBatch): it reports every field with its pointer, per event.
        validatorCompiler: () => () => true,
        config: { checksOwnBody: true },
        schema: {
          summary: 'Record one event or a batch',
          tags: ['events'],
          security: [{ bearer: [] }],
          body: Type.Union([EventInputSchema, Type.Object({ events: Type.Array(EventInputSchema, { minItems: 1, maxItems: 1000 }) })]),
          response: {
            200: Type.Union([BatchAnswer, Type.Composite([Recorded, Type.Object({ duplicate: Type.Literal(true) })])], {
              description: 'A batch (each event accepted or rejected), or a single event recorded before with the same id and content',
            }),
            201: Type.Composite([Recorded, Type.Object({ duplicate: Type.Literal(false) })], { description: 'A single event, recorded' }),
            '4xx': Type.Composite([ErrorResponse, Type.Partial(BatchAnswer)], {
              description: 'An error; for a batch none of whose events was accepted, with them all',
            }),
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const batch = validateBatch(request.body, { now: new Date(), maxFutureSkewMs: services.config.maxFutureSkewMs, allowTenantField: true });
        const prefix = (i: number) => (batch.mode === 'batch' ? `/events/${i}` : '');
        const rejected: Rejected[] = [...batch.rejected];
        const items: { index: number; tenant: string; body: EventBody; occurredAtFilled: boolean; redacted: string[] }[] = [];
        for (const a of batch.accepted) {
          try {
            const pointer = `${prefix(a.index)}/tenant`;
            const tenant = await tenantFor(services, request, a.tenant, pointer);
            if (tenant === SYSTEM_TENANT) throw reservedTrail(pointer);
            const { body, redacted } = await admitEvent(services, tenant, a.body, prefix(a.index));
            const occurredAtFilled = sentEvent(request.body, batch.mode, a.index)?.occurred_at === undefined;
            items.push({ index: a.index, tenant, body, occurredAtFilled, redacted });
          } catch (err) {
            if (batch.mode === 'single' || !(err instanceof TrailproofError)) throw err;
            rejected.push({
              index: a.index,
              errors: err.details ?? [{ pointer: `${prefix(a.index)}/tenant`, code: 'invalid_value', message: err.message }],
            });
          }
        }
        if (batch.mode === 'single' && rejected.length > 0) {
          throw new TrailproofError('EVENT_INVALID', 'the event is invalid', { details: rejected[0]!.errors });
        }
        const results = await services.committer.append(items.map(({ tenant, body, occurredAtFilled }) => ({ tenant, body, occurredAtFilled })));
        const accepted: Accepted[] = [];
        results.forEach((result, i) => {
          const item = items[i]!;
          const outcome = describe(result, `${prefix(item.index)}/id`);
          if ('errors' in outcome) rejected.push({ index: item.index, errors: outcome.errors });
          else accepted.push({ index: item.index, ...outcome, ...(item.redacted.length > 0 ? { redacted: item.redacted } : {}) });
        });
        rejected.sort((a, b) => a.index - b.index);
        accepted.sort((a, b) => a.index - b.index);
        request.log.info({ principal: principal.keyId, accepted: accepted.length, rejected: rejected.length }, 'events ingested');

        if (batch.mode === 'single') {
          const only = accepted[0];
          if (!only)
            throw new TrailproofError('EVENT_ID_CONFLICT', 'an event with this id and different content already exists', {
              details: rejected[0]?.errors ?? [],
            });
          const { index: _index, ...body } = only;
          return reply.code(only.duplicate ? 200 : 201).send(body);
        }
        if (accepted.length === 0) {
          const conflictsOnly = rejected.every((r) => r.errors.every((e) => e.code === 'id_conflict'));
          const error = new TrailproofError(conflictsOnly ? 'EVENT_ID_CONFLICT' : 'EVENT_INVALID', 'no event of the batch was accepted', {
            details: rejected.flatMap((r) => r.errors),
          });
          return reply.code(error.status).send({ ...error.toJSON(), accepted, rejected });
        }
        return reply.code(200).send({ accepted, rejected });
      },
    );
  };
}

/** The event as the client sent it (validated already): the body, or its `events[index]`. */
function sentEvent(body: unknown, mode: 'single' | 'batch', index: number): Record<string, unknown> | undefined {
  const sent = mode === 'single' ? body : (body as { events: unknown[] }).events[index];
  return sent as Record<string, unknown> | undefined;
}

/** The operator trail holds only the service's own records (src/event/service-records.ts). */
function reservedTrail(pointer: string): TrailproofError {
  const message = `tenant "${SYSTEM_TENANT}" is the operator trail, reserved for the service's own records`;
  return new TrailproofError('EVENT_INVALID', message, { details: [{ pointer, code: 'reserved', message }] });
}

function describe(result: AppendResult, idPointer: string): Omit<Accepted, 'index'> | { errors: ErrorDetail[] } {
  switch (result.status) {
    case 'created':
    case 'duplicate':
      return { uid: result.uid, seq: result.seq, received_at: result.received_at, duplicate: result.status === 'duplicate' };
    case 'conflict': {
      const message = `id already used by event ${result.uid} with different content (differs in: ${result.fields.join(', ')})`;
      return { errors: [{ pointer: idPointer, code: 'id_conflict', message }] };
    }
    case 'tenant_not_found':
      return { errors: [{ pointer: idPointer.replace(/\/id$/, '/tenant'), code: 'not_found', message: 'tenant does not exist' }] };
  }
}
