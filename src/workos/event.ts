/**
 * A WorkOS Audit Logs event (`POST /audit_logs/events`) as a Trailproof event, field by field as
 * docs/workos.md describes: actor, targets, metadata and `occurred_at` keep their names;
 * `context.location` becomes `context.ip` when it is an IP address (else `context.location`);
 * `context.user_agent` stays; the `Idempotency-Key` header becomes the event's client `id`.
 * Field errors of the Trailproof event point back at the WorkOS request's fields.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { ErrorDetail } from '../errors.ts';
import { EVENT_LIMITS } from '../event/limits.ts';

export interface WorkosEventRequest {
  organization_id?: unknown;
  event?: unknown;
}

const CLIENT_ID = new RegExp(EVENT_LIMITS.clientIdPattern);

/**
 * The client `id` for an `Idempotency-Key`: the key itself when it is a valid client id (the
 * WorkOS SDK's `workos-node-<uuid>` is), else its SHA-256, so any key stays idempotent.
 */
export function clientIdOf(idempotencyKey: string): string {
  if (idempotencyKey.length <= EVENT_LIMITS.clientIdMaxLength && CLIENT_ID.test(idempotencyKey)) return idempotencyKey;
  return `sha256:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
}

/** The Trailproof event input (to be validated by validateEvent) of a WorkOS `event` object. */
export function toEventInput(event: unknown, idempotencyKey: string | undefined): unknown {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return event;
  const { version: _version, context, ...rest } = event as Record<string, unknown>;
  const input: Record<string, unknown> = { ...rest };
  if (idempotencyKey !== undefined) input.id = clientIdOf(idempotencyKey);
  if (typeof context === 'object' && context !== null && !Array.isArray(context)) {
    const { location, ...other } = context as Record<string, unknown>;
    const mapped: Record<string, unknown> = { ...other };
    if (typeof location === 'string' && isIP(location) !== 0) mapped.ip = location;
    else if (location !== undefined) mapped.location = location;
    input.context = mapped;
  } else if (context !== undefined) {
    input.context = context;
  }
  return input;
}

/** An error of the converted event, pointing at the WorkOS request's field. */
export function toWorkosDetail(detail: ErrorDetail): ErrorDetail {
  let pointer = detail.pointer;
  if (pointer === '/context/ip') pointer = '/context/location';
  if (pointer === '/id') return { ...detail, pointer: '/headers/idempotency-key' };
  return { ...detail, pointer: `/event${pointer}` };
}
