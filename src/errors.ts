/**
 * One error class for the whole service. Every error has a stable string `code`, listed with its HTTP
 * status in `ERROR_STATUS` and documented in docs/errors.md; clients and tests match on the code,
 * never on the message.
 */

export const ERROR_STATUS = {
  /** The request body or a parameter is malformed or breaks a rule of the event model. */
  EVENT_INVALID: 400,
  /** A query parameter is malformed. */
  QUERY_INVALID: 400,
  /** A request body (other than events) is malformed. */
  REQUEST_INVALID: 400,
  /** The request body exceeds the size limit. */
  REQUEST_TOO_LARGE: 413,
  /** The pagination cursor is malformed or belongs to another query. */
  CURSOR_INVALID: 400,
  /** No credentials, or credentials that do not match a live key. */
  AUTH_REQUIRED: 401,
  /** A viewer token (`tpv_…`) that this server did not issue, or that was altered. */
  VIEWER_TOKEN_INVALID: 401,
  /** A viewer token past its expiry. */
  VIEWER_TOKEN_EXPIRED: 401,
  /** A viewer token whose minting key was revoked. */
  VIEWER_TOKEN_REVOKED: 401,
  /** The key is valid but its scope or tenant does not allow this request. */
  AUTH_FORBIDDEN: 403,
  /** The tenant is not named (unbound key) or does not exist. */
  TENANT_REQUIRED: 400,
  TENANT_NOT_FOUND: 404,
  TENANT_EXISTS: 409,
  /** The event, key or other resource does not exist (or is not visible to this key). */
  NOT_FOUND: 404,
  /** A client `id` was reused with different content. */
  EVENT_ID_CONFLICT: 409,
  /** Too many requests for this key. */
  RATE_LIMITED: 429,
  /** The service is shutting down or the database is unreachable. */
  UNAVAILABLE: 503,
  /** Configuration given at start is invalid. */
  CONFIG_INVALID: 500,
  /** (at start) The HTTP port is taken by another program. */
  PORT_IN_USE: 500,
  /** (at start) Another `serve` owns the embedded database's data dir. */
  DATA_DIR_IN_USE: 500,
  /** (at start, and CLI commands) The database cannot be connected to: unreachable, wrong password, no such database. */
  DATABASE_CONNECT_FAILED: 500,
  /** Ledger proof or signature did not verify. */
  LEDGER_PROOF_INVALID: 422,
  /** Witness: the checkpoint's origin is not a log this witness is configured for (c2sp.org/tlog-witness). */
  WITNESS_UNKNOWN_LOG: 404,
  /** Witness: no signature on the checkpoint verifies with a key the witness trusts for its origin. */
  WITNESS_UNTRUSTED_SIGNATURE: 403,
  /** Witness: the old size is not the witness's latest cosigned size, or the same size has another root. */
  WITNESS_CONFLICT: 409,
  /** A witness could not be reached or gave an answer outside the protocol; retried later. */
  WITNESS_UNAVAILABLE: 502,
  /** A stream destination with this name already exists in the tenant. */
  STREAM_EXISTS: 409,
  /** A stream destination's stored secret does not decrypt with this server's secret key. */
  STREAM_SECRET_UNREADABLE: 500,
  /** A stream destination refused a delivery, timed out or could not be reached (recorded as its last error). */
  STREAM_DELIVERY_FAILED: 502,
  /** The archive store could not be reached or refused a request. */
  ARCHIVE_UNAVAILABLE: 503,
  /** An archive object already exists with other content (archived objects are never replaced). */
  ARCHIVE_CONFLICT: 409,
  /** An archive segment failed verification: modified, truncated or not covered by a trusted checkpoint. */
  ARCHIVE_SEGMENT_INVALID: 422,
  /** An erasure would remove events a legal hold in force covers (docs/lifecycle.md#erasure): release the hold first. */
  ERASURE_HELD: 409,
  /** The event was erased (docs/lifecycle.md#erasure): its leaf stays, its content is gone; the message names the erasure. */
  EVENT_ERASED: 410,
  /** Database capture (docs/capture.md): a table, column or option given to `capture install` does not fit the database. */
  CAPTURE_SETUP_INVALID: 400,
  /** A reversal plan's rows changed since it was made (docs/capture.md#reversal): make a new plan. */
  REVERSAL_STALE: 409,
  /** A reversal plan has steps in conflict with later changes: apply it with --skip-conflicts, or make a narrower plan. */
  REVERSAL_HAS_CONFLICTS: 409,
  /** A saved search with this name already exists in the tenant. */
  SAVED_SEARCH_EXISTS: 409,
  /** The saved search is the filter of a stream or an alert rule, so it cannot be deleted. */
  SAVED_SEARCH_IN_USE: 409,
  /** An alert rule with this name already exists in the tenant. */
  ALERT_RULE_EXISTS: 409,
  /** A user with this email address already exists. */
  USER_EXISTS: 409,
  /** Anything unexpected; details are logged, not returned. */
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Every `code` a field error of event validation can carry (events.md#field-error-codes). Stable: clients match on them. */
export const EVENT_ERROR_CODES = [
  'required',
  'invalid_type',
  'too_long',
  'pattern',
  'invalid_enum',
  'control_character',
  'invalid_ip',
  'invalid_timestamp',
  'future_timestamp',
  'too_many_items',
  'too_many_keys',
  'too_deep',
  'too_large',
  'unknown_field',
  'invalid_string',
  'tenant_not_allowed',
  'reserved',
] as const;

/**
 * Every `details[].code` an error can carry: one vocabulary for event fields, query parameters and
 * request bodies (docs/errors.md). Stable: clients match on them.
 */
export const DETAIL_CODES = [
  ...EVENT_ERROR_CODES,
  // Query parameters and request bodies.
  'out_of_range',
  'invalid_range',
  'invalid_cursor',
  'invalid_json',
  'invalid_value',
  'not_found',
  'exists',
  // Per-action schemas (schemas.md#errors).
  'invalid_format',
  'too_short',
  'too_few_items',
  'too_few_keys',
  'schema_mismatch',
  'invalid_schema',
  // Alert rules (alerts.md).
  'invalid_url',
  'invalid_email',
  'immutable',
  'unavailable',
  'invalid_timezone',
  // People (security.md#users-and-roles): a session's missing CSRF token or foreign origin, a role the caller may not grant.
  'csrf',
  'role_forbidden',
  // Batches.
  'id_conflict',
  'tenant_forbidden',
  // Reversal plans (capture.md#reversal).
  'conflict',
  'changed',
  // Witness conflicts (witness.md).
  'fork',
  'witness_ahead',
  'old_size',
] as const;

export type DetailCode = (typeof DETAIL_CODES)[number];

export interface ErrorDetail {
  /** JSON pointer (RFC 6901) of the offending field, relative to the request body or query. */
  pointer: string;
  code: DetailCode;
  message: string;
}

export class TrailproofError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetail[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrailproofError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options.details;
  }

  /** The JSON body every error response carries: `{ error: { code, message, details? } }`. */
  toJSON(): { error: { code: ErrorCode; message: string; details?: ErrorDetail[] } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export function isTrailproofError(err: unknown): err is TrailproofError {
  return err instanceof TrailproofError;
}

/** REQUEST_INVALID with one field error at `pointer`; `summary` is the error's message, the field's by default. */
export function fieldInvalid(pointer: string, code: DetailCode, message: string, summary = message): TrailproofError {
  return new TrailproofError('REQUEST_INVALID', summary, { details: [{ pointer, code, message }] });
}

/** `code` (a `*_EXISTS` conflict) for a name the tenant already gives another thing of its kind. */
export function nameTaken(code: ErrorCode, message: string): TrailproofError {
  return new TrailproofError(code, message, { details: [{ pointer: '/name', code: 'exists', message: 'name taken' }] });
}
