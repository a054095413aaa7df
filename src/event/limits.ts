/**
 * Every limit of the event model (v1), in one place. docs/events.md documents each of them; the
 * validator (validate.ts), the documented JSON Schema (schema.ts) and the tests read them from here.
 *
 * Lengths are counted in Unicode code points, as JSON Schema `maxLength` (draft 2020-12 §6.3.1) and
 * PostgreSQL `char_length` count them, so an astral character such as an emoji counts once.
 * Sizes are UTF-8 bytes of the value's `JSON.stringify` form.
 */
export const EVENT_LIMITS = Object.freeze({
  /** `action`: maximum length. */
  actionMaxLength: 128,
  /** `action`: dot-separated lower-case segments, e.g. `user.login_failed`, `document.exported`. */
  actionPattern: '^[a-z0-9_]+(\\.[a-z0-9_]+)*$',
  /** `actor.type`: the closed set of actor kinds. */
  actorTypes: Object.freeze(['user', 'service', 'system', 'api_key', 'anonymous'] as const),
  /** `actor.type` / `targets[].type`: maximum length. */
  typeMaxLength: 64,
  /** `targets[].type`: lower-case, starts with a letter, digit or `_`, then also `.` and `-`. */
  targetTypePattern: '^[a-z0-9_][a-z0-9_.-]*$',
  /** `actor.id`, `targets[].id` and an accepted `tenant`: maximum length. */
  idMaxLength: 256,
  /** `actor.name`, `targets[].name`: maximum length. */
  nameMaxLength: 256,
  /** Client event `id` (the idempotency key): maximum length. */
  clientIdMaxLength: 128,
  /** Client event `id`: ASCII letters, digits and `. _ : @ / -` (fits UUIDs, ULIDs, URNs, paths). */
  clientIdPattern: '^[A-Za-z0-9._:@/-]+$',
  /** `targets`: maximum number of targets per event. */
  maxTargets: 32,
  /** `changes`: maximum number of changes per event. */
  maxChanges: 100,
  /** `changes[].field`: maximum length. */
  changeFieldMaxLength: 256,
  /**
   * `changes[].before` / `after`: maximum nesting depth of arrays and objects (a scalar is depth 0,
   * `{}` is depth 1). It bounds the validator's recursion on attacker-controlled input while leaving
   * room for nested JSON columns.
   */
  changeValueMaxDepth: 16,
  /** `reason`: maximum length. */
  reasonMaxLength: 1024,
  /** `context.user_agent`: maximum length. */
  userAgentMaxLength: 1024,
  /** `context.location`: maximum length. */
  locationMaxLength: 256,
  /** `context.request_id`: maximum length. */
  requestIdMaxLength: 256,
  /** `context.session_id`: maximum length. */
  sessionIdMaxLength: 256,
  /** `context.ip`: longest textual IP address (IPv6 with an embedded IPv4 address, RFC 4291 §2.2). */
  ipMaxLength: 45,
  /** Every metadata object (`metadata`, `actor.metadata`, `targets[].metadata`, and objects nested in them): maximum keys. */
  metadataMaxKeys: 64,
  /** Metadata keys: maximum length. */
  metadataKeyMaxLength: 128,
  /** Metadata: maximum nesting depth of objects and arrays; the metadata object itself is depth 1. */
  metadataMaxDepth: 4,
  /** Each metadata object: maximum serialized size in bytes (16 KiB). */
  metadataMaxBytes: 16 * 1024,
  /** A whole normalized event: maximum serialized size in bytes (64 KiB). */
  eventMaxBytes: 64 * 1024,
  /** `occurred_at`: default maximum distance into the future, in ms (5 minutes); see `maxFutureSkewMs` option. */
  maxFutureSkewMs: 5 * 60 * 1000,
  /** `occurred_at`: earliest accepted instant, 1970-01-01T00:00:00Z, in ms since the epoch. */
  minOccurredAtMs: 0,
  /** Field errors reported per event; further errors are dropped. */
  maxErrorsPerEvent: 20,
  /** Events per batch request. */
  maxBatchEvents: 1000,
  /** HTTP request body for event ingestion, in bytes (8 MiB); larger bodies get REQUEST_TOO_LARGE. */
  maxBodyBytes: 8 * 1024 * 1024,
});

/** Events per batch request (`{"events": [...]}`). */
export const MAX_BATCH = EVENT_LIMITS.maxBatchEvents;

/** HTTP request body limit for `POST /v1/events`, in bytes. */
export const MAX_BODY_BYTES = EVENT_LIMITS.maxBodyBytes;
