/**
 * Maps every failure to `{ error: { code, message, details? } }` with the status of its code
 * (src/errors.ts): the one place where errors get HTTP statuses. The ledger library's coded errors
 * (src/ledger/errors.ts) map by code in `fromLedgerError`. Unexpected errors are logged with their
 * stack and answered as INTERNAL, without internals in the body.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type DetailCode, type ErrorDetail, TrailproofError } from '../errors.ts';
import { LedgerError } from '../ledger/errors.ts';
import { DATABASE_RETRY_AFTER_S, isDatabaseLoss } from '../store/database-loss.ts';
import { closeIfBodyPending } from './request-limits.ts';

export const errorHandler = errorHandlerAnswering((error) => error.toJSON());

/** The error handler with another body for the same error and status (the WorkOS-compatible API's). */
export function errorHandlerAnswering(body: (error: TrailproofError) => unknown) {
  return function handleError(err: FastifyError | TrailproofError | Error, request: FastifyRequest, reply: FastifyReply): void {
    const error = toTrailproofError(err, request.method);
    if (error.code === 'INTERNAL' || error.code === 'UNAVAILABLE') request.log.error({ err }, 'request failed');
    if (error.code === 'RATE_LIMITED') void reply.header('retry-after', '1');
    if (error.code === 'UNAVAILABLE') void reply.header('retry-after', String(DATABASE_RETRY_AFTER_S));
    closeIfBodyPending(request, reply);
    void reply.code(error.status).send(body(error));
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  closeIfBodyPending(request, reply);
  void reply.code(404).send(new TrailproofError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`).toJSON());
}

/** The detail code of each JSON-schema keyword a request can fail in fastify's validation. */
const SCHEMA_KEYWORD_CODES: Record<string, DetailCode> = {
  required: 'required',
  additionalProperties: 'unknown_field',
  type: 'invalid_type',
  enum: 'invalid_enum',
  const: 'invalid_enum',
  pattern: 'pattern',
  maxLength: 'too_long',
  minLength: 'required',
  maxItems: 'too_many_items',
  minimum: 'out_of_range',
  maximum: 'out_of_range',
  exclusiveMinimum: 'out_of_range',
  exclusiveMaximum: 'out_of_range',
};

function toTrailproofError(err: FastifyError | TrailproofError | Error, method: string): TrailproofError {
  if (isDatabaseLoss(err) || (err instanceof TrailproofError && err.code === 'INTERNAL' && isDatabaseLoss(err.cause))) return databaseUnavailable(err, method);
  if (err instanceof TrailproofError) return err;
  if (err instanceof LedgerError) return fromLedgerError(err);
  const fe = err as FastifyError & {
    validation?: { instancePath: string; keyword: string; message?: string; params?: Record<string, unknown> }[];
    validationContext?: string;
  };
  if (fe.validation) {
    const details: ErrorDetail[] = fe.validation.map((v) => {
      const missing = v.keyword === 'required' ? `/${String(v.params?.missingProperty ?? '')}` : '';
      const extra = v.keyword === 'additionalProperties' ? `/${String(v.params?.additionalProperty ?? '')}` : '';
      return {
        pointer: `${v.instancePath}${missing}${extra}`,
        code: SCHEMA_KEYWORD_CODES[v.keyword] ?? 'invalid_value',
        message: v.message ?? 'invalid',
      };
    });
    const code = fe.validationContext === 'querystring' ? 'QUERY_INVALID' : 'REQUEST_INVALID';
    return new TrailproofError(code, details.map((d) => `${d.pointer || '/'} ${d.message}`).join('; '), { details });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TrailproofError('REQUEST_TOO_LARGE', 'the request body is larger than the limit', { cause: err });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TrailproofError('REQUEST_INVALID', `the body is not valid JSON: ${err.message}`, {
        cause: err,
        details: [{ pointer: '', code: 'invalid_json', message: err.message }],
      });
    // The body stopped arriving: the client went away, or request-limits.ts closed a stalled one.
    case 'ECONNRESET':
      return new TrailproofError('REQUEST_INVALID', 'the connection closed before the request body arrived', { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TrailproofError('REQUEST_INVALID', 'send JSON with `Content-Type: application/json`', { cause: err });
  }
  if (fe.statusCode === 400 && fe.code?.startsWith('FST_ERR')) return new TrailproofError('REQUEST_INVALID', err.message, { cause: err });
  return new TrailproofError('INTERNAL', 'internal error; see the server log', { cause: err });
}

/** The API's error for each code of the ledger library. */
export function fromLedgerError(err: LedgerError): TrailproofError {
  switch (err.code) {
    case 'PROOF_INVALID':
    case 'UNKNOWN_KEY':
      return new TrailproofError('LEDGER_PROOF_INVALID', err.message, { cause: err });
    case 'OUT_OF_RANGE':
      return new TrailproofError('QUERY_INVALID', err.message, { cause: err });
    case 'NOT_CANONICAL':
      return new TrailproofError('EVENT_INVALID', err.message, { cause: err });
    case 'NOT_A_TILE':
      return new TrailproofError('NOT_FOUND', err.message, { cause: err });
    case 'TENANT_NOT_FOUND':
      return new TrailproofError('TENANT_NOT_FOUND', err.message, { cause: err });
    case 'KEY_INVALID':
      return new TrailproofError('CONFIG_INVALID', err.message, { cause: err });
    case 'INCONSISTENT':
    case 'INVALID_ARGUMENT':
      return new TrailproofError('INTERNAL', 'internal error; see the server log', { cause: err });
  }
}

/** A loss of the database, said for what the request was doing: reading, or changing something. */
function databaseUnavailable(err: Error, method: string): TrailproofError {
  const reading = method === 'GET' || method === 'HEAD';
  return new TrailproofError(
    'UNAVAILABLE',
    reading ? 'the database cannot be read right now; retry later' : 'the database is unavailable, the request may not have been carried out; retry later',
    { cause: err },
  );
}
