/**
 * The erasure API (docs/lifecycle.md "Erasure", docs/api.md#erasures): erase a person's events in a
 * tenant, and list or read erasures. Tenant-scoped: a key bound to a tenant reaches only that tenant;
 * another tenant's erasure answers like a missing one.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import { answer, listOf, Timestamp } from '../http/responses.ts';
import type { Services } from '../http/services.ts';
import type { ErasureSubject } from './erasure-subject.ts';
import { eraseSubject, getErasure, listErasures } from './erasure.ts';

const tags = ['lifecycle'];
const security = [{ bearer: [] }];
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

const ErasureBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ minLength: 1, description: 'Required with a key bound to no tenant' })),
    subject: Type.Object(
      {
        actor_id: Type.Optional({ ...Text(256), description: 'Every event this actor did' }),
        target: Type.Optional(
          Type.Object({ type: Text(64), id: Text(256) }, { additionalProperties: false, description: 'Every event that acted on this target' }),
        ),
      },
      { additionalProperties: false, description: 'Whose events to erase: exactly one of `actor_id` and `target`' },
    ),
    reason: Text(1024),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object({ tenant: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String() });
const ErasureAnswer = answer(
  {
    id: Type.String(),
    tenant: Type.String(),
    subject: answer({ kind: Type.Union([Type.Literal('actor'), Type.Literal('target')]), hash: Type.String({ description: 'Keyed hash of the subject' }) }),
    reason: Type.String(),
    decided_at: Timestamp,
    erased_at: Timestamp,
    requested_by: Type.String({ description: "The requesting key's or person's id" }),
    events: Type.Integer({ description: 'Events whose payloads it erased' }),
    records: Type.Array(Type.Integer(), { description: 'Leaf indices of its erasure.completed records' }),
    status: Type.Union([Type.Literal('completed'), Type.Literal('pending')]),
  },
  { title: 'Erasure' },
);

export function erasureRoutes(services: Services) {
  return async function registerErasureRoutes(app: FastifyInstance): Promise<void> {
    const admin = authenticate(services, 'admin');
    const read = authenticate(services, 'read');

    app.post(
      '/v1/erasures',
      {
        onRequest: admin,
        schema: { summary: "Erase a person's events (actor or target)", tags, security, body: ErasureBody, response: { 201: ErasureAnswer } },
      },
      async (request, reply) => {
        const body = request.body as Static<typeof ErasureBody>;
        const subject = erasureSubject(body.subject);
        const tenant = await tenantFor(services, request, body.tenant);
        const erasure = await eraseSubject(services, {
          tenant,
          subject,
          reason: body.reason,
          principal: principalOf(request),
          context: requestContext(request),
        });
        return reply.code(201).send(erasure);
      },
    );

    app.get(
      '/v1/erasures',
      {
        onRequest: read,
        schema: { summary: "A tenant's erasures, newest first", tags, security, querystring: ListQuery, response: { 200: listOf(ErasureAnswer) } },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.query as Static<typeof ListQuery>).tenant);
        return { data: await listErasures(services.sql, tenant) };
      },
    );

    app.get(
      '/v1/erasures/:id',
      { onRequest: read, schema: { summary: 'An erasure', tags, security, params: IdParams, response: { 200: ErasureAnswer } } },
      async (request) => {
        const erasure = await getErasure(services.sql, (request.params as { id: string }).id, principalOf(request).tenant);
        if (!erasure) throw new TrailproofError('NOT_FOUND', 'no such erasure');
        return erasure;
      },
    );
  };
}

/** The subject: exactly one of an actor and a target. */
function erasureSubject(subject: Static<typeof ErasureBody>['subject']): ErasureSubject {
  if (subject.actor_id !== undefined && subject.target === undefined) return { actor_id: subject.actor_id };
  if (subject.target !== undefined && subject.actor_id === undefined) return { target: subject.target };
  throw new TrailproofError('REQUEST_INVALID', '`subject` must name exactly one of `actor_id` and `target`', {
    details: [{ pointer: '/subject', code: 'invalid_value', message: 'must be {"actor_id": …} or {"target": {"type": …, "id": …}}' }],
  });
}
