/**
 * The JSON Schema of an incoming event (v1), written with TypeBox.
 *
 * `EventInputSchema` is the documented form, with every limit of limits.ts as a JSON Schema keyword;
 * the OpenAPI document publishes it. It describes the shape only: validate.ts also applies the rules
 * JSON Schema cannot say (calendar dates, future skew, IP syntax, control characters, metadata depth
 * and size), so routes must validate with `validateEvent`/`validateBatch`, not with this schema.
 *
 * `EventStructureSchema` is the same tree without the string and key-count keywords (`minLength`,
 * `maxLength`, `pattern`, `format`, `maxProperties`). validate.ts compiles it once and checks those
 * keywords itself, so that lengths count code points the way JSON Schema defines them (TypeBox counts
 * UTF-16 units) and each string gets the most specific error code (`control_character` before `pattern`).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { EVENT_LIMITS as L, MAX_BATCH } from './limits.ts';
import { RFC3339_PATTERN } from './timestamp.ts';

function eventSchema(documented: boolean) {
  /** Keywords only the documented schema carries. */
  const doc = <T extends object>(keywords: T): T | Record<string, never> => (documented ? keywords : {});

  const metadata = (description: string) =>
    Type.Object(
      {},
      {
        additionalProperties: true,
        description: `${description} Any JSON values; at most ${L.metadataMaxKeys} keys per object, keys of at most ${L.metadataKeyMaxLength} characters, nesting depth at most ${L.metadataMaxDepth}, at most ${L.metadataMaxBytes} bytes serialized. Identifiers in keys reject control characters.`,
        ...doc({ maxProperties: L.metadataMaxKeys }),
      },
    );

  const actor = Type.Object(
    {
      type: Type.Union(
        L.actorTypes.map((t) => Type.Literal(t)),
        { description: 'What kind of principal acted.' },
      ),
      id: Type.String({ description: 'Stable identifier of the actor in the sending application.', ...doc({ minLength: 1, maxLength: L.idMaxLength }) }),
      name: Type.Optional(Type.String({ description: 'Display name at the time of the event.', ...doc({ maxLength: L.nameMaxLength }) })),
      metadata: Type.Optional(metadata('Extra attributes of the actor.')),
    },
    { additionalProperties: false, description: 'Who did it.' },
  );

  const target = Type.Object(
    {
      type: Type.String({
        description: 'Kind of resource, e.g. `document`, `billing.invoice`.',
        ...doc({ minLength: 1, maxLength: L.typeMaxLength, pattern: L.targetTypePattern }),
      }),
      id: Type.String({ description: 'Identifier of the resource.', ...doc({ minLength: 1, maxLength: L.idMaxLength }) }),
      name: Type.Optional(Type.String({ description: 'Display name at the time of the event.', ...doc({ maxLength: L.nameMaxLength }) })),
      metadata: Type.Optional(metadata('Extra attributes of the target.')),
    },
    { additionalProperties: false },
  );

  const context = Type.Object(
    {
      ip: Type.Optional(
        Type.String({
          description: 'Client IPv4 or IPv6 address, without port, brackets or zone; IPv6 is stored lower-case.',
          ...doc({ maxLength: L.ipMaxLength }),
        }),
      ),
      user_agent: Type.Optional(Type.String({ description: 'Free text.', ...doc({ maxLength: L.userAgentMaxLength }) })),
      location: Type.Optional(Type.String({ ...doc({ maxLength: L.locationMaxLength }) })),
      request_id: Type.Optional(Type.String({ ...doc({ maxLength: L.requestIdMaxLength }) })),
      session_id: Type.Optional(Type.String({ ...doc({ maxLength: L.sessionIdMaxLength }) })),
    },
    { additionalProperties: false, description: 'Where the action came from. Defaults to `{}`.' },
  );

  const change = Type.Object(
    {
      field: Type.String({ description: 'Name or path of the changed field.', ...doc({ minLength: 1, maxLength: L.changeFieldMaxLength }) }),
      before: Type.Optional(
        Type.Unknown({ description: `Value before the change (any JSON, nesting depth at most ${L.changeValueMaxDepth}); absent when unknown.` }),
      ),
      after: Type.Optional(
        Type.Unknown({ description: `Value after the change (any JSON, nesting depth at most ${L.changeValueMaxDepth}); absent when unknown.` }),
      ),
    },
    { additionalProperties: false },
  );

  return Type.Object(
    {
      id: Type.Optional(
        Type.String({
          description: 'Client event id: the idempotency key within the tenant.',
          ...doc({ maxLength: L.clientIdMaxLength, pattern: L.clientIdPattern }),
        }),
      ),
      tenant: Type.Optional(
        Type.String({ description: 'Tenant of the event; only accepted from keys not bound to a tenant.', ...doc({ minLength: 1, maxLength: L.idMaxLength }) }),
      ),
      action: Type.String({
        description: 'What happened: a dot-namespaced verb, e.g. `user.login_failed`.',
        ...doc({ maxLength: L.actionMaxLength, pattern: L.actionPattern }),
      }),
      occurred_at: Type.Optional(
        Type.String({
          description: `RFC 3339 date-time with \`Z\` or an offset; stored in UTC with millisecond precision. Default: the time of receipt. At most ${L.maxFutureSkewMs / 1000} s in the future, not before 1970-01-01.`,
          ...doc({ format: 'date-time', pattern: RFC3339_PATTERN }),
        }),
      ),
      actor,
      targets: Type.Optional(Type.Array(target, { maxItems: L.maxTargets, description: 'What was acted on. Defaults to `[]`.' })),
      outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')], { description: 'Defaults to `success`.' })),
      reason: Type.Optional(
        Type.String({
          description: 'Free text, e.g. why the action failed or was taken. Allowed with either outcome.',
          ...doc({ maxLength: L.reasonMaxLength }),
        }),
      ),
      context: Type.Optional(context),
      changes: Type.Optional(Type.Array(change, { maxItems: L.maxChanges, description: 'Field changes of an update, so they can be reviewed and reverted.' })),
      metadata: Type.Optional(metadata('Extra attributes of the event.')),
    },
    { additionalProperties: false, title: 'EventInput', description: 'An audit event as a client sends it (event model v1, docs/events.md).' },
  );
}

/** The documented JSON Schema of one incoming event (for the OpenAPI document). */
export const EventInputSchema = eventSchema(true);

/** The documented JSON Schema of a batch request body. */
export const EventBatchInputSchema = Type.Object(
  { events: Type.Array(EventInputSchema, { minItems: 1, maxItems: MAX_BATCH }) },
  { additionalProperties: false, title: 'EventBatchInput' },
);

/** The structural subset that validate.ts compiles; see the module comment. */
export const EventStructureSchema: TSchema = eventSchema(false);

/** The documented JSON Schema of a stored event as the read API answers it (the input plus what the service adds). */
export const StoredEventSchema = Type.Composite(
  [
    Type.Omit(EventInputSchema, ['tenant', 'occurred_at']),
    Type.Object({
      uid: Type.String({ description: 'Global id (UUIDv7)' }),
      tenant: Type.String(),
      seq: Type.Integer({ description: "0-based index of the event in its tenant's Merkle tree" }),
      occurred_at: Type.String({ format: 'date-time' }),
      received_at: Type.String({ format: 'date-time', description: 'When the service recorded it' }),
      source: Type.Optional(Type.Literal('trailproof', { description: 'On the records Trailproof makes itself (docs/events.md#service-records)' })),
    }),
  ],
  { title: 'StoredEvent', additionalProperties: true },
);
