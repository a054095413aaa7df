/**
 * A per-action schema's definition (docs/schemas.md): JSON Schemas (draft 2020-12) for the parts of
 * an event an application shapes itself — `metadata`, `actor_metadata` (the actor's `metadata`) and
 * `targets` (the whole array) — checked against events of the action after the event model's own
 * rules. Here: parsing a definition as a client sends it, compiling it, and reading an event's
 * violations as field errors with the event's pointers and stable codes.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { type DetailCode, type ErrorDetail, fieldInvalid } from '../errors.ts';
import type { EventBody } from '../event/types.ts';

/** Each part's JSON Schema, as JSON text: at most this many bytes. */
export const MAX_PART_BYTES = 32 * 1024;

/** The parts of an event a definition may constrain, and where each sits in the event. */
export const SCHEMA_PARTS = {
  metadata: { pointer: '/metadata', of: (e: EventBody): unknown => e.metadata ?? {} },
  actor_metadata: { pointer: '/actor/metadata', of: (e: EventBody): unknown => e.actor.metadata ?? {} },
  targets: { pointer: '/targets', of: (e: EventBody): unknown => e.targets ?? [] },
} as const;

export type SchemaPart = keyof typeof SCHEMA_PARTS;
export type JsonSchema = Record<string, unknown>;
export type SchemaDefinition = Partial<Record<SchemaPart, JsonSchema>>;

/** Every `code` a schema violation can carry. Stable: clients match on them. */
export const SCHEMA_ERROR_CODES = [
  'required',
  'unknown_field',
  'invalid_type',
  'invalid_enum',
  'pattern',
  'invalid_format',
  'too_long',
  'too_short',
  'out_of_range',
  'too_many_items',
  'too_few_items',
  'too_many_keys',
  'too_few_keys',
  'schema_mismatch',
] as const;

type SchemaErrorCode = (typeof SCHEMA_ERROR_CODES)[number] & DetailCode;

const CODE_OF_KEYWORD: Record<string, SchemaErrorCode> = {
  required: 'required',
  additionalProperties: 'unknown_field',
  unevaluatedProperties: 'unknown_field',
  type: 'invalid_type',
  enum: 'invalid_enum',
  const: 'invalid_enum',
  pattern: 'pattern',
  format: 'invalid_format',
  maxLength: 'too_long',
  minLength: 'too_short',
  maximum: 'out_of_range',
  minimum: 'out_of_range',
  exclusiveMaximum: 'out_of_range',
  exclusiveMinimum: 'out_of_range',
  multipleOf: 'out_of_range',
  maxItems: 'too_many_items',
  minItems: 'too_few_items',
  maxProperties: 'too_many_keys',
  minProperties: 'too_few_keys',
};

/** Keywords whose failure only sums up the failures reported beside it. */
const SUMMARY_KEYWORDS = new Set(['if', 'allOf', 'anyOf', 'oneOf', 'not', 'contains']);

/**
 * The definition in a request body, compiled to prove it is usable. Throws REQUEST_INVALID with a
 * pointer per part at fault (`/metadata`, …): an unknown part, a part that is not an object, one too
 * large, or one that is not a schema Ajv's strict mode compiles (unknown keywords, remote `$ref`s).
 */
export function parseDefinition(body: unknown, prefix = ''): SchemaDefinition {
  const fail = (pointer: string, code: DetailCode, message: string): never => {
    throw fieldInvalid(`${prefix}${pointer}`, code, message, `the schema is invalid: ${message}`);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('', 'invalid_type', 'must be an object');
  const definition: SchemaDefinition = {};
  for (const [key, value] of Object.entries(body)) {
    if (!(key in SCHEMA_PARTS)) fail(`/${key}`, 'unknown_field', `unknown part; one of ${Object.keys(SCHEMA_PARTS).join(', ')}`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`/${key}`, 'invalid_type', 'must be a JSON Schema object');
    if (Buffer.byteLength(JSON.stringify(value)) > MAX_PART_BYTES) fail(`/${key}`, 'too_large', `must be at most ${MAX_PART_BYTES} bytes as JSON`);
    try {
      compile(value as JsonSchema);
    } catch (err) {
      fail(`/${key}`, 'invalid_schema', err instanceof Error ? err.message : String(err));
    }
    definition[key as SchemaPart] = value as JsonSchema;
  }
  if (Object.keys(definition).length === 0) fail('', 'required', `name at least one of ${Object.keys(SCHEMA_PARTS).join(', ')}`);
  return definition;
}

/** A definition compiled: the field errors of an event against it (none when it conforms). */
export type EventChecker = (event: EventBody, prefix: string) => ErrorDetail[];

export function compileDefinition(definition: SchemaDefinition): EventChecker {
  const parts = (Object.keys(SCHEMA_PARTS) as SchemaPart[]).flatMap((part) => {
    const schema = definition[part];
    return schema ? [{ ...SCHEMA_PARTS[part], validate: compile(schema) }] : [];
  });
  return (event, prefix) => {
    const details: ErrorDetail[] = [];
    for (const part of parts) {
      if (part.validate(part.of(event))) continue;
      for (const error of part.validate.errors ?? []) {
        if (SUMMARY_KEYWORDS.has(error.keyword)) continue;
        const detail = detailOf(error, `${prefix}${part.pointer}`);
        if (!details.some((d) => d.pointer === detail.pointer && d.code === detail.code)) details.push(detail);
      }
    }
    return details;
  };
}

/**
 * A fresh Ajv per schema, so that one schema's `$id` cannot clash with another's. Strict about
 * what would silently check nothing (unknown keywords and formats), not about style: `properties`
 * without `type: "object"` and the like are ordinary JSON Schema.
 */
function compile(schema: JsonSchema): ValidateFunction {
  const ajv = new Ajv2020({
    allErrors: true,
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    logger: false,
  });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

function detailOf(error: ErrorObject, base: string): ErrorDetail {
  let pointer = `${base}${error.instancePath}`;
  if (error.keyword === 'required') pointer += `/${escapePointer(String(error.params.missingProperty))}`;
  if (error.keyword === 'additionalProperties') pointer += `/${escapePointer(String(error.params.additionalProperty))}`;
  if (error.keyword === 'unevaluatedProperties') pointer += `/${escapePointer(String(error.params.unevaluatedProperty))}`;
  const code = CODE_OF_KEYWORD[error.keyword] ?? 'schema_mismatch';
  const message = code === 'required' ? 'is required by the action schema' : `${error.message ?? 'does not match'} (action schema)`;
  return { pointer, code, message };
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
