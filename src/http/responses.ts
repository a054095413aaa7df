/**
 * Response schemas for the OpenAPI document, so clients generated from `/openapi.json` get types.
 * They document the answers; they do not shape them: app.ts serializes with JSON.stringify, so a
 * schema that lags behind its handler never silently drops a field. Every route also answers the
 * error shape of docs/errors.md for 4xx and 5xx (added to every route by `withErrorResponses`).
 */
import { type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import type { RouteOptions } from 'fastify';
import { DETAIL_CODES, ERROR_STATUS } from '../errors.ts';

/** `{ error: { code, message, details? } }` (docs/errors.md). */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(
        Object.keys(ERROR_STATUS).map((c) => Type.Literal(c)),
        { description: 'Stable error code (docs/errors.md)' },
      ),
      message: Type.String({ description: 'For people; may change' }),
      details: Type.Optional(
        Type.Array(
          Type.Object({
            pointer: Type.String({ description: 'JSON pointer (RFC 6901) to the offending field of the body or parameter' }),
            code: Type.Union(DETAIL_CODES.map((c) => Type.Literal(c))),
            message: Type.String(),
          }),
        ),
      ),
    }),
  },
  { title: 'Error', description: 'An error (docs/errors.md)', additionalProperties: true },
);

/** An object answer that may carry fields added after this schema was written. */
export function answer<T extends TProperties>(properties: T, options: { description?: string; title?: string } = {}): TObject<T> {
  return Type.Object(properties, { additionalProperties: true, ...options });
}

/** A list answer: `{ data: [...] }`, with the cursor when the list pages. */
export function listOf(item: TSchema, paged = false) {
  return answer({
    data: Type.Array(item),
    ...(paged ? { next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next page; null at the end' }) } : {}),
  });
}

/** A body that is not JSON (one of `mediaTypes`, parameters such as `; charset` aside): text, or bytes (`format: binary`). */
export function media(mediaTypes: string | string[], description: string, binary = false) {
  const types = [...new Set((Array.isArray(mediaTypes) ? mediaTypes : [mediaTypes]).map((t) => t.split(';')[0]!.trim()))];
  return { description, content: Object.fromEntries(types.map((t) => [t, { schema: Type.String(binary ? { format: 'binary' } : {}) }])) };
}

/** An answer without a body. */
export const NoContent = Type.Null({ description: 'No content' });

export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** `onRoute` hook: adds the error shape as every documented route's 4xx and 5xx answer. */
export function withErrorResponses(route: RouteOptions): void {
  const schema = route.schema as ({ hide?: boolean; response?: Record<string, unknown> } & Record<string, unknown>) | undefined;
  if (!schema || schema.hide) return;
  schema.response = { '4xx': ErrorResponse, '5xx': ErrorResponse, ...schema.response };
}
