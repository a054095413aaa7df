/**
 * Validation and normalization of incoming events (event model v1, docs/events.md).
 *
 * Everything here is attacker-controlled input: the validator never throws on a bad event (it returns
 * field errors), never recurses without a depth bound, and never copies a key that could reach an
 * object's prototype. It runs in two passes over each event:
 *  1. a structural check (types, required and unknown fields, enums, array lengths) with a TypeBox
 *     schema compiled once at load; its errors are read only when the check fails;
 *  2. the rules JSON Schema cannot express, which also builds the normalized `EventBody`.
 * Both passes run on every event so that one response lists all its problems, one per pointer.
 */
import { isIP } from 'node:net';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { EVENT_ERROR_CODES, TrailproofError, type ErrorDetail } from '../errors.ts';
import { EVENT_LIMITS as L, MAX_BATCH } from './limits.ts';
import { EventStructureSchema } from './schema.ts';
import { isServiceAction, isServiceClientId, SERVICE_NAMESPACES, SERVICE_SOURCE } from './service-records.ts';
import { parseRfc3339 } from './timestamp.ts';
import type { Actor, ActorType, Change, EventBody, EventContext, Outcome, Target } from './types.ts';

export { EventBatchInputSchema, EventInputSchema } from './schema.ts';

export { EVENT_ERROR_CODES };

export type EventErrorCode = (typeof EVENT_ERROR_CODES)[number];

/** A field error of event validation; `code` is one of `EVENT_ERROR_CODES`. */
export interface EventErrorDetail extends ErrorDetail {
  code: EventErrorCode;
}

export interface ValidateOptions {
  /** The time of receipt: the default `occurred_at`, and the reference for the future-skew limit. Must be a valid Date. */
  now: Date;
  /** How far `occurred_at` may lie after `now`, in ms. Default: `EVENT_LIMITS.maxFutureSkewMs` (5 minutes). */
  maxFutureSkewMs?: number;
  /** Accept a top-level `tenant` (for keys not bound to one tenant). Default false: `tenant_not_allowed`. */
  allowTenantField?: boolean;
  /**
   * Who records the event. `client` (default): service namespaces and id prefixes and the `source`
   * field are refused (`reserved`). `service`: a service record (src/audit/meta-audit.ts), marked
   * with `source: "trailproof"`.
   */
  origin?: 'client' | 'service';
}

export type EventValidationResult =
  | {
      ok: true;
      body: EventBody;
      /** The `tenant` field, present only when it was sent and `allowTenantField` is set. */
      tenant?: string;
      /** UTF-8 bytes of `JSON.stringify(body)`. */
      size: number;
    }
  | { ok: false; errors: EventErrorDetail[] };

export interface AcceptedEvent {
  /** Position of the event in the request (0 for a single event). */
  index: number;
  body: EventBody;
  tenant?: string;
  /** UTF-8 bytes of `JSON.stringify(body)`. */
  size: number;
}

export interface RejectedEvent {
  index: number;
  /** Pointers are relative to the request body: `/events/<index>/…` in a batch, `/…` for a single event. */
  errors: EventErrorDetail[];
}

export interface BatchValidationResult {
  /** `single` when the body was one event object, `batch` when it was `{"events": [...]}`. */
  mode: 'single' | 'batch';
  accepted: AcceptedEvent[];
  rejected: RejectedEvent[];
}

/**
 * Validates one event and returns its normalized form, or every problem found (at most
 * `EVENT_LIMITS.maxErrorsPerEvent`, one per JSON pointer, pointers relative to the event).
 * Never throws for any `input`.
 */
export function validateEvent(input: unknown, options: ValidateOptions): EventValidationResult {
  const checker = new EventChecker(options);
  const root = isObjectLike(input) ? input : undefined;
  // Before the structural errors, so that a forbidden `tenant` of the wrong type says why it is refused.
  if (root !== undefined && root.tenant !== undefined && options.allowTenantField !== true) {
    checker.add('/tenant', 'tenant_not_allowed', 'is not allowed: the API key is bound to a tenant');
  }
  if (root !== undefined && root.source !== undefined && options.origin !== 'service') {
    checker.add('/source', 'reserved', 'is set by the service on its own records only (docs/events.md#service-records)');
  }
  if (!structure.Check(input)) checker.addStructuralErrors(structure.Errors(input));
  if (root === undefined) return { ok: false, errors: checker.errors };

  const normalized = checker.event(root);
  if (checker.errors.length > 0 || normalized === undefined) {
    return { ok: false, errors: checker.errors.length > 0 ? checker.errors : [internalInvariantError()] };
  }
  // The size limit applies to what is stored. Counted rather than serialized: JSON.stringify plus
  // Buffer.byteLength took a third of the validation time.
  const size = jsonByteLength(normalized.body);
  if (size > L.eventMaxBytes) {
    return {
      ok: false,
      errors: [{ pointer: '', code: 'too_large', message: `${fieldLabel('')} must serialize to at most ${L.eventMaxBytes} bytes of JSON (got ${size})` }],
    };
  }
  return normalized.tenant === undefined ? { ok: true, body: normalized.body, size } : { ok: true, body: normalized.body, tenant: normalized.tenant, size };
}

/**
 * Validates a request body that is either one event object or `{"events": [...]}` with
 * 1..`MAX_BATCH` events. Each event is validated on its own: valid events are accepted even when
 * others are rejected. Throws `TrailproofError('EVENT_INVALID')` with details only when the envelope
 * itself is malformed (not an object, `events` not an array, empty, too long, or other keys beside it).
 */
export function validateBatch(input: unknown, options: ValidateOptions): BatchValidationResult {
  if (!isObjectLike(input)) {
    throw invalidEnvelope([{ pointer: '', code: 'invalid_type', message: 'the request body must be a JSON object: one event, or {"events": [...]}' }]);
  }
  if (!Object.hasOwn(input, 'events')) {
    const result = validateEvent(input, options);
    return result.ok
      ? { mode: 'single', accepted: [accepted(0, result)], rejected: [] }
      : { mode: 'single', accepted: [], rejected: [{ index: 0, errors: result.errors }] };
  }
  const extra = Object.keys(input).filter((key) => key !== 'events');
  if (extra.length > 0) {
    throw invalidEnvelope(
      extra.slice(0, L.maxErrorsPerEvent).map((key) => ({
        pointer: `/${escapePointerToken(key)}`,
        code: 'unknown_field',
        message: `${JSON.stringify(key)} is not allowed beside "events": a batch body has only "events"`,
      })),
    );
  }
  const events = input.events;
  if (!Array.isArray(events)) {
    throw invalidEnvelope([{ pointer: '/events', code: 'invalid_type', message: 'events must be an array of events' }]);
  }
  if (events.length === 0) {
    throw invalidEnvelope([{ pointer: '/events', code: 'required', message: 'events must contain at least 1 event' }]);
  }
  if (events.length > MAX_BATCH) {
    throw invalidEnvelope([{ pointer: '/events', code: 'too_many_items', message: `events must contain at most ${MAX_BATCH} events (got ${events.length})` }]);
  }
  const result: BatchValidationResult = { mode: 'batch', accepted: [], rejected: [] };
  for (let index = 0; index < events.length; index++) {
    const r = validateEvent(events[index], options);
    if (r.ok) {
      result.accepted.push(accepted(index, r));
    } else {
      const prefix = `/events/${index}`;
      result.rejected.push({ index, errors: r.errors.map((e) => ({ pointer: prefix + e.pointer, code: e.code, message: e.message })) });
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

const structure = TypeCompiler.Compile(EventStructureSchema);

const ACTION_RE = new RegExp(L.actionPattern);
const TARGET_TYPE_RE = new RegExp(L.targetTypePattern);
const CLIENT_ID_RE = new RegExp(L.clientIdPattern);
const ACTOR_TYPES: ReadonlySet<string> = new Set(L.actorTypes);

/** Characters an identifier check must look closer at: controls and UTF-16 surrogates, paired or not. */
const IDENTIFIER_SUSPECT_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ud800-\udfff]/;
/** Characters a free-text check must look closer at. */
const TEXT_SUSPECT_RE = /[\u0000\ud800-\udfff]/;
/** Anything but printable ASCII that JSON.stringify copies as is (`"` and `\` are escaped). */
const JSON_NOT_PLAIN_RE = /[^ !#-[\]-~]/;
/** C0, DEL, C1, and the line/paragraph separators that some line-based sinks and JS parsers split on. */
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** A UTF-16 surrogate without its pair: not Unicode text, and rejected by PostgreSQL's UTF-8 encoding. */
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** PostgreSQL text and jsonb cannot store U+0000; free text may hold any other character. */
const NUL_OR_LONE_SURROGATE_RE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** The latest instant whose `toISOString()` still has a four-digit year, so normalization is idempotent. */
const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

interface IdentifierRule {
  max: number;
  /** A required field: the empty string is reported as `required`. */
  nonEmpty?: boolean;
  pattern?: RegExp;
  /** Human description of the pattern for the message. */
  patternHint?: string;
}

const ACTION_RULE: IdentifierRule = {
  max: L.actionMaxLength,
  nonEmpty: true,
  pattern: ACTION_RE,
  patternHint: 'dot-separated segments of a-z, 0-9 and _, e.g. user.login_failed',
};
const TARGET_TYPE_RULE: IdentifierRule = {
  max: L.typeMaxLength,
  nonEmpty: true,
  pattern: TARGET_TYPE_RE,
  patternHint: 'a-z, 0-9, _, . and -, not starting with . or -',
};
const CLIENT_ID_RULE: IdentifierRule = {
  max: L.clientIdMaxLength,
  pattern: CLIENT_ID_RE,
  patternHint: 'ASCII letters, digits and . _ : @ / -',
};
const ID_RULE: IdentifierRule = { max: L.idMaxLength, nonEmpty: true };
const NAME_RULE: IdentifierRule = { max: L.nameMaxLength };
const CHANGE_FIELD_RULE: IdentifierRule = { max: L.changeFieldMaxLength, nonEmpty: true };
const METADATA_KEY_RULE: IdentifierRule = { max: L.metadataKeyMaxLength };

type JsonObject = Record<string, unknown>;

/** The checks of one event; collects errors and builds the normalized body in the same walk. */
class EventChecker {
  readonly errors: EventErrorDetail[] = [];
  /** Pointers that have an error; created with the first error, as most events have none. */
  private pointers: Set<string> | undefined;
  private readonly options: ValidateOptions;

  constructor(options: ValidateOptions) {
    this.options = options;
  }

  get full(): boolean {
    return this.errors.length >= L.maxErrorsPerEvent;
  }

  /** Records an error unless the pointer already has one or the cap is reached. */
  add(pointer: string, code: EventErrorCode, message: string): void {
    if (this.full) return;
    this.pointers ??= new Set();
    if (this.pointers.has(pointer)) return;
    this.pointers.add(pointer);
    this.errors.push({ pointer, code, message: `${fieldLabel(pointer)} ${message}` });
  }

  addStructuralErrors(errors: Iterable<ValueError>): void {
    let seen = 0;
    for (const error of errors) {
      if (this.full) break;
      seen++;
      const [code, message] = describeStructuralError(error, this.options.allowTenantField === true);
      this.add(error.path, code, message);
    }
    // TypeBox's Check and Errors agree; this keeps "check failed ⇒ at least one error" if they ever do not.
    if (seen === 0) this.add('', 'invalid_type', 'does not match the event schema');
  }

  /**
   * The semantic checks and normalization. Values of the wrong type are skipped here: the structural
   * pass has reported them. Returns undefined only when errors were recorded.
   */
  event(root: JsonObject): { body: EventBody; tenant?: string } | undefined {
    let tenant: string | undefined;
    if (root.tenant !== undefined && this.options.allowTenantField === true) {
      tenant = this.identifier(root.tenant, '/tenant', ID_RULE);
    }
    const id = root.id === undefined ? undefined : this.identifier(root.id, '/id', CLIENT_ID_RULE);
    const action = this.identifier(root.action, '/action', ACTION_RULE);
    const service = this.options.origin === 'service';
    if (!service && action !== undefined && isServiceAction(action)) {
      this.add(
        '/action',
        'reserved',
        `is in a namespace reserved for the service's own records (${SERVICE_NAMESPACES.join(', ')}): name the action in another one`,
      );
    }
    if (!service && id !== undefined && isServiceClientId(id)) {
      this.add('/id', 'reserved', "starts with a prefix reserved for the service's own records");
    }
    const occurredAt = this.occurredAt(root.occurred_at);
    const actor = this.actor(root.actor);
    const targets = this.targets(root.targets);
    const outcome = root.outcome === undefined ? 'success' : root.outcome;
    const reason = root.reason === undefined ? undefined : this.freeText(root.reason, '/reason', L.reasonMaxLength);
    const context = this.context(root.context);
    const changes = root.changes === undefined ? undefined : this.changes(root.changes);
    const metadata = root.metadata === undefined ? undefined : this.metadata(root.metadata, '/metadata');

    if (this.errors.length > 0 || action === undefined || occurredAt === undefined || actor === undefined) return undefined;
    if (outcome !== 'success' && outcome !== 'failure') return undefined;
    // Model order, as in types.ts; free-form objects (metadata, change values) keep the client's order.
    // Assigned one by one rather than with conditional spreads, which cost a third of the validation time.
    const body: Partial<EventBody> = {};
    if (id !== undefined) body.id = id;
    body.action = action;
    body.occurred_at = occurredAt;
    body.actor = actor;
    body.targets = targets;
    body.outcome = outcome satisfies Outcome;
    if (reason !== undefined) body.reason = reason;
    body.context = context;
    if (changes !== undefined) body.changes = changes;
    if (metadata !== undefined) body.metadata = metadata;
    if (service) body.source = SERVICE_SOURCE;
    // Every required key is set above.
    return tenant === undefined ? { body: body as EventBody } : { body: body as EventBody, tenant };
  }

  // --- fields ------------------------------------------------------------------------------------

  private occurredAt(value: unknown): string | undefined {
    if (value === undefined) return isoString(this.options.now.getTime());
    if (typeof value !== 'string') return undefined;
    const ms = parseRfc3339(value);
    if (ms === undefined) {
      this.add(
        '/occurred_at',
        'invalid_timestamp',
        'must be an RFC 3339 date-time with Z or an offset, e.g. 2026-11-22T10:00:00Z, naming a real date and time',
      );
      return undefined;
    }
    if (ms < L.minOccurredAtMs) {
      this.add('/occurred_at', 'invalid_timestamp', 'must not be before 1970-01-01T00:00:00Z');
      return undefined;
    }
    const skew = this.options.maxFutureSkewMs ?? L.maxFutureSkewMs;
    if (ms > this.options.now.getTime() + skew) {
      this.add(
        '/occurred_at',
        'future_timestamp',
        `must not be more than ${formatDuration(skew)} after the time of receipt (${this.options.now.toISOString()})`,
      );
      return undefined;
    }
    if (ms > MAX_TIMESTAMP_MS) {
      this.add('/occurred_at', 'invalid_timestamp', 'must not be after 9999-12-31T23:59:59.999Z');
      return undefined;
    }
    // Already normalized (`2026-11-22T10:00:00.000Z`, as Date#toISOString writes it): keep the string.
    if (value.length === 24 && value[10] === 'T' && value[19] === '.' && value[23] === 'Z') return value;
    return isoString(ms);
  }

  private actor(value: unknown): Actor | undefined {
    if (!isObjectLike(value)) return undefined;
    const type = typeof value.type === 'string' && ACTOR_TYPES.has(value.type) ? (value.type as ActorType) : undefined;
    const id = this.identifier(value.id, '/actor/id', ID_RULE);
    const name = value.name === undefined ? undefined : this.identifier(value.name, '/actor/name', NAME_RULE);
    const metadata = value.metadata === undefined ? undefined : this.metadata(value.metadata, '/actor/metadata');
    if (type === undefined || id === undefined) return undefined;
    const actor: Actor = { type, id };
    if (name !== undefined) actor.name = name;
    if (metadata !== undefined) actor.metadata = metadata;
    return actor;
  }

  private targets(value: unknown): Target[] {
    const targets: Target[] = [];
    if (!Array.isArray(value)) return targets;
    for (let i = 0; i < value.length && !this.full; i++) {
      const item: unknown = value[i];
      if (!isObjectLike(item)) continue;
      const pointer = `/targets/${i}`;
      const type = this.identifier(item.type, `${pointer}/type`, TARGET_TYPE_RULE);
      const id = this.identifier(item.id, `${pointer}/id`, ID_RULE);
      const name = item.name === undefined ? undefined : this.identifier(item.name, `${pointer}/name`, NAME_RULE);
      const metadata = item.metadata === undefined ? undefined : this.metadata(item.metadata, `${pointer}/metadata`);
      if (type === undefined || id === undefined) continue;
      const target: Target = { type, id };
      if (name !== undefined) target.name = name;
      if (metadata !== undefined) target.metadata = metadata;
      targets.push(target);
    }
    return targets;
  }

  private context(value: unknown): EventContext {
    const context: EventContext = {};
    if (!isObjectLike(value)) return context;
    const ip = value.ip === undefined ? undefined : this.ip(value.ip);
    const userAgent = value.user_agent === undefined ? undefined : this.freeText(value.user_agent, '/context/user_agent', L.userAgentMaxLength);
    const location = value.location === undefined ? undefined : this.identifier(value.location, '/context/location', { max: L.locationMaxLength });
    const requestId = value.request_id === undefined ? undefined : this.identifier(value.request_id, '/context/request_id', { max: L.requestIdMaxLength });
    const sessionId = value.session_id === undefined ? undefined : this.identifier(value.session_id, '/context/session_id', { max: L.sessionIdMaxLength });
    if (ip !== undefined) context.ip = ip;
    if (userAgent !== undefined) context.user_agent = userAgent;
    if (location !== undefined) context.location = location;
    if (requestId !== undefined) context.request_id = requestId;
    if (sessionId !== undefined) context.session_id = sessionId;
    return context;
  }

  private ip(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    // net.isIP accepts an IPv6 zone (`fe80::1%eth0`), which names an interface of the sender's host.
    const version = value.length <= L.ipMaxLength && !value.includes('%') ? isIP(value) : 0;
    if (version === 0) {
      this.add('/context/ip', 'invalid_ip', 'must be an IPv4 or IPv6 address, without port, brackets or zone');
      return undefined;
    }
    return version === 6 ? value.toLowerCase() : value;
  }

  private changes(value: unknown): Change[] | undefined {
    if (!Array.isArray(value)) return undefined;
    const changes: Change[] = [];
    for (let i = 0; i < value.length && !this.full; i++) {
      const item: unknown = value[i];
      if (!isObjectLike(item)) continue;
      const pointer = `/changes/${i}`;
      const field = this.identifier(item.field, `${pointer}/field`, CHANGE_FIELD_RULE);
      // `before`/`after` absent means "not captured"; null means the value was null. Both are kept.
      const before = item.before === undefined ? undefined : this.json(item.before, `${pointer}/before`, 0, false);
      const after = item.after === undefined ? undefined : this.json(item.after, `${pointer}/after`, 0, false);
      if (field === undefined) continue;
      const change: Change = { field };
      if (item.before !== undefined) change.before = before;
      if (item.after !== undefined) change.after = after;
      changes.push(change);
    }
    return changes;
  }

  private metadata(value: unknown, pointer: string): Record<string, unknown> | undefined {
    const copy = this.json(value, pointer, 0, true);
    if (!isObjectLike(copy)) return undefined;
    const size = jsonByteLength(copy);
    if (size > L.metadataMaxBytes) {
      this.add(pointer, 'too_large', `must serialize to at most ${L.metadataMaxBytes} bytes of JSON (got ${size})`);
    }
    return copy;
  }

  // --- strings -----------------------------------------------------------------------------------

  /** An identifier or name: no control characters, bounded length, optional pattern. */
  private identifier(value: unknown, pointer: string, rule: IdentifierRule): string | undefined {
    if (typeof value !== 'string') return undefined;
    if (value.length === 0 && rule.nonEmpty === true) {
      this.add(pointer, 'required', 'must not be empty');
      return undefined;
    }
    if (IDENTIFIER_SUSPECT_RE.test(value)) {
      const lone = LONE_SURROGATE_RE.exec(value);
      if (lone !== null) {
        this.add(pointer, 'invalid_string', `must be valid Unicode text (lone UTF-16 surrogate ${codePointName(lone[0])} at index ${lone.index})`);
        return undefined;
      }
      const control = CONTROL_RE.exec(value);
      if (control !== null) {
        this.add(pointer, 'control_character', `must not contain control characters (${codePointName(control[0])} at index ${control.index})`);
        return undefined;
      }
    }
    if (!this.length(value, pointer, rule.max)) return undefined;
    if (rule.pattern !== undefined && !rule.pattern.test(value)) {
      this.add(pointer, 'pattern', `must match ${rule.pattern.source} (${rule.patternHint ?? ''})`);
      return undefined;
    }
    return value;
  }

  /** Free text: any character but U+0000, valid UTF-16, bounded length. */
  private freeText(value: unknown, pointer: string, max: number): string | undefined {
    if (typeof value !== 'string') return undefined;
    if (!this.textChars(value, pointer)) return undefined;
    return this.length(value, pointer, max) ? value : undefined;
  }

  private textChars(value: string, pointer: string): boolean {
    if (!TEXT_SUSPECT_RE.test(value)) return true;
    const bad = NUL_OR_LONE_SURROGATE_RE.exec(value);
    if (bad === null) return true;
    this.add(
      pointer,
      'invalid_string',
      bad[0] === '\u0000'
        ? `must not contain U+0000 (at index ${bad.index})`
        : `must be valid Unicode text (lone UTF-16 surrogate ${codePointName(bad[0])} at index ${bad.index})`,
    );
    return false;
  }

  private length(value: string, pointer: string, max: number): boolean {
    // A string has at most as many code points as UTF-16 units: count only past the cheap bound.
    if (value.length <= max) return true;
    const length = codePointLength(value);
    if (length <= max) return true;
    this.add(pointer, 'too_long', `must be at most ${max} characters (got ${length})`);
    return false;
  }

  // --- JSON values (metadata, change values) -----------------------------------------------------

  /**
   * Checks and copies a JSON value found in metadata (`inMetadata`) or a change value, and adds its
   * `depth` is the depth of the container holding the value.
   * Object keys whose value is `undefined` are dropped, as JSON.stringify drops them.
   */
  private json(value: unknown, pointer: string, depth: number, inMetadata: boolean): unknown {
    switch (typeof value) {
      case 'string':
        this.textChars(value, pointer);
        return value;
      case 'number': {
        if (!Number.isFinite(value)) {
          this.add(pointer, 'invalid_type', 'must be a finite number');
          return undefined;
        }
        return value === 0 ? 0 : value; // -0 serializes as 0
      }
      case 'boolean':
        return value;
      case 'object': {
        if (value === null) return null;
        const maxDepth = inMetadata ? L.metadataMaxDepth : L.changeValueMaxDepth;
        if (depth + 1 > maxDepth) {
          this.add(
            pointer,
            'too_deep',
            `is nested too deep: ${inMetadata ? 'metadata allows' : 'change values allow'} at most ${maxDepth} levels of objects and arrays`,
          );
          return undefined;
        }
        if (Array.isArray(value)) return this.jsonArray(value, pointer, depth + 1, inMetadata);
        if (!isPlainObject(value)) break;
        return this.jsonObject(value, pointer, depth + 1, inMetadata);
      }
      default:
        break;
    }
    this.add(pointer, 'invalid_type', 'must be a JSON value (string, finite number, boolean, null, array or plain object)');
    return undefined;
  }

  private jsonArray(value: unknown[], pointer: string, depth: number, inMetadata: boolean): unknown[] {
    const copy: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length && !this.full; i++) {
      const item: unknown = value[i];
      if (item === undefined) {
        this.add(`${pointer}/${i}`, 'invalid_type', 'must be a JSON value, not undefined');
        continue;
      }
      copy[i] = this.json(item, `${pointer}/${i}`, depth, inMetadata);
    }
    return copy;
  }

  private jsonObject(value: JsonObject, pointer: string, depth: number, inMetadata: boolean): JsonObject {
    const keys = Object.keys(value);
    if (inMetadata && keys.length > L.metadataMaxKeys) {
      // Keys whose value is undefined do not exist in JSON and are not counted.
      const count = keys.reduce((n, key) => (value[key] === undefined ? n : n + 1), 0);
      if (count > L.metadataMaxKeys) this.add(pointer, 'too_many_keys', `must have at most ${L.metadataMaxKeys} keys (got ${count})`);
    }
    const copy: JsonObject = {};
    for (const key of keys) {
      if (this.full) break;
      const item = value[key];
      if (item === undefined) continue;
      const itemPointer = `${pointer}/${escapePointerToken(key)}`;
      const keyOk = inMetadata ? this.identifier(key, itemPointer, METADATA_KEY_RULE) !== undefined : this.textChars(key, itemPointer);
      // Assigning `__proto__` would replace the copy's prototype instead of adding a key (prototype
      // pollution); Fastify's JSON parser refuses such bodies too (onProtoPoisoning: 'error').
      if (key === '__proto__') {
        this.add(itemPointer, 'pattern', 'is a reserved key');
        continue;
      }
      const itemCopy = this.json(item, itemPointer, depth, inMetadata);
      if (keyOk) copy[key] = itemCopy;
    }
    return copy;
  }
}

function describeStructuralError(error: ValueError, allowTenant: boolean): [EventErrorCode, string] {
  const schema = error.schema;
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return ['required', 'is required'];
    case ValueErrorType.ObjectAdditionalProperties: {
      const allowed = Object.keys(schema.properties ?? {}).filter((key) => allowTenant || error.path.lastIndexOf('/') > 0 || key !== 'tenant');
      return ['unknown_field', `is not a known field; allowed: ${allowed.join(', ')}`];
    }
    case ValueErrorType.ArrayMaxItems:
      return ['too_many_items', `must have at most ${schema.maxItems} items (got ${Array.isArray(error.value) ? error.value.length : '?'})`];
    case ValueErrorType.ObjectMaxProperties:
      return ['too_many_keys', `must have at most ${schema.maxProperties} keys`];
    case ValueErrorType.StringMaxLength:
      return ['too_long', `must be at most ${schema.maxLength} characters`];
    case ValueErrorType.StringMinLength:
      return ['required', 'must not be empty'];
    case ValueErrorType.StringPattern:
      return ['pattern', `must match ${schema.pattern}`];
    case ValueErrorType.Union: {
      const options = Array.isArray(schema.anyOf) ? schema.anyOf.map((s: { const?: unknown }) => String(s.const)).join(', ') : '';
      if (error.value === undefined) return ['required', 'is required'];
      return typeof error.value === 'string' ? ['invalid_enum', `must be one of: ${options}`] : ['invalid_type', `must be a string, one of: ${options}`];
    }
    default:
      // A required property present with the value `undefined` (JavaScript callers) is missing.
      if (error.value === undefined) return ['required', 'is required'];
      return ['invalid_type', `must be ${typeName(schema.type)}`];
  }
}

function typeName(type: unknown): string {
  switch (type) {
    case 'string':
      return 'a string';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return 'of another type';
  }
}

function accepted(index: number, result: Extract<EventValidationResult, { ok: true }>): AcceptedEvent {
  return result.tenant === undefined ? { index, body: result.body, size: result.size } : { index, body: result.body, tenant: result.tenant, size: result.size };
}

function invalidEnvelope(details: EventErrorDetail[]): TrailproofError {
  return new TrailproofError('EVENT_INVALID', `The request body must be one event object or {"events": [...]} with 1 to ${MAX_BATCH} events`, { details });
}

function internalInvariantError(): EventErrorDetail {
  // Unreachable: every path that leaves a field unset records an error. Kept so a bug rejects the
  // event instead of storing a partial one.
  return { pointer: '', code: 'invalid_type', message: 'the event could not be validated' };
}

function isObjectLike(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPlainObject(value: object): value is JsonObject {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** RFC 6901 §3: `~` → `~0`, `/` → `~1`. */
function escapePointerToken(token: string): string {
  if (!token.includes('~') && !token.includes('/')) return token;
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A readable name for the field at `pointer`, for messages: `actor.id`, `targets[2].name`, `metadata["a/b"]`. */
function fieldLabel(pointer: string): string {
  if (pointer === '') return 'the event';
  let label = '';
  for (const escaped of pointer.slice(1).split('/')) {
    const token = escaped.replace(/~1/g, '/').replace(/~0/g, '~');
    if (label !== '' && /^(0|[1-9][0-9]*)$/.test(token)) label += `[${token}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(token)) label += label === '' ? token : `.${token}`;
    // JSON.stringify escapes control characters, so a hostile key cannot break a log line.
    else label += `[${JSON.stringify(token)}]`;
  }
  return label;
}

function codePointLength(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * UTF-8 bytes of `JSON.stringify(value)` for a JSON value (no cycles, finite numbers; the callers
 * guarantee both), without building the string.
 */
function jsonByteLength(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return jsonStringBytes(value);
    case 'number':
      return String(value).length; // JSON.stringify uses Number::toString for finite numbers
    case 'boolean':
      return value ? 4 : 5;
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let bytes = value.length === 0 ? 2 : value.length + 1; // brackets and commas
        for (const item of value) bytes += item === undefined ? 4 : jsonByteLength(item);
        return bytes;
      }
      let bytes = 0;
      let members = 0;
      for (const key of Object.keys(value)) {
        const item: unknown = (value as JsonObject)[key];
        if (item === undefined) continue;
        bytes += jsonStringBytes(key) + 1 + jsonByteLength(item); // key, colon, value
        members++;
      }
      return bytes + (members === 0 ? 2 : members + 1); // braces and commas
    }
    default:
      return 0;
  }
}

/** UTF-8 bytes of `JSON.stringify(value)` for a string (ECMA-262 QuoteJSONString). */
function jsonStringBytes(value: string): number {
  if (!JSON_NOT_PLAIN_RE.test(value)) return value.length + 2; // printable ASCII, nothing to escape
  let bytes = value.length + 2; // one byte per UTF-16 unit, plus the quotes; corrected below
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) {
      if (unit < 0x20)
        bytes += unit === 0x08 || unit === 0x09 || unit === 0x0a || unit === 0x0c || unit === 0x0d ? 1 : 5; // \n or \u00XX
      else if (unit === 0x22 || unit === 0x5c) bytes += 1; // \" or \\
    } else if (unit < 0x800) {
      bytes += 1;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // a pair: two units, four bytes
        i++;
      } else {
        bytes += 5; // a lone surrogate is escaped as \uXXXX
      }
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

let lastIso: { ms: number; iso: string } = { ms: 0, iso: new Date(0).toISOString() };

/** `Date#toISOString`, remembering the last result: every event of a batch defaults to the same `now`. */
function isoString(ms: number): string {
  if (lastIso.ms !== ms) lastIso = { ms, iso: new Date(ms).toISOString() };
  return lastIso.iso;
}

function codePointName(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

function formatDuration(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} minutes` : ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
