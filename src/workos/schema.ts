/**
 * WorkOS Audit Logs schemas (`POST /audit_logs/actions/{action}/schemas`) as per-action schema
 * definitions (src/schema/): each listed metadata key must have its type (`string`, `number`,
 * `boolean`) and no other key is accepted; each target must be of a listed type, its metadata as
 * that type lists. The WorkOS form is kept beside the definition so that it is answered as given.
 */
import { type DetailCode, fieldInvalid } from '../errors.ts';
import type { ActionSchema } from '../schema/action-schemas.ts';
import type { JsonSchema, SchemaDefinition } from '../schema/definition.ts';

const METADATA_TYPES = new Set(['string', 'number', 'boolean']);

interface WorkosMetadata {
  type: 'object';
  properties: Record<string, { type: string }>;
}

export interface WorkosSchema {
  actor?: { metadata?: WorkosMetadata };
  targets: { type: string; metadata?: WorkosMetadata }[];
  metadata?: WorkosMetadata;
}

function invalid(pointer: string, code: DetailCode, message: string): never {
  throw fieldInvalid(pointer, code, message, `the schema is invalid: ${pointer} ${message}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a WorkOS schema body and gives it in its stored form (only the fields WorkOS defines). */
export function parseWorkosSchema(body: unknown): WorkosSchema {
  if (!isObject(body)) invalid('', 'invalid_type', 'must be an object');
  const metadataOf = (value: unknown, pointer: string): WorkosMetadata | undefined => {
    if (value === undefined || value === null) return undefined;
    if (!isObject(value)) return invalid(pointer, 'invalid_type', 'must be an object');
    const properties = value.properties ?? {};
    if (!isObject(properties)) return invalid(`${pointer}/properties`, 'invalid_type', 'must be an object');
    const out: WorkosMetadata = { type: 'object', properties: {} };
    for (const [key, property] of Object.entries(properties)) {
      const type = isObject(property) ? property.type : undefined;
      if (typeof type !== 'string' || !METADATA_TYPES.has(type)) {
        invalid(`${pointer}/properties/${key.replace(/~/g, '~0').replace(/\//g, '~1')}/type`, 'invalid_enum', 'must be string, number or boolean');
      }
      out.properties[key] = { type };
    }
    return out;
  };
  const targets = body.targets ?? [];
  if (!Array.isArray(targets)) invalid('/targets', 'invalid_type', 'must be an array');
  const schema: WorkosSchema = {
    targets: targets.map((target, i) => {
      if (!isObject(target) || typeof target.type !== 'string' || target.type === '')
        return invalid(`/targets/${i}/type`, 'required', 'a target type is required');
      const metadata = metadataOf(target.metadata, `/targets/${i}/metadata`);
      return { type: target.type, ...(metadata ? { metadata } : {}) };
    }),
  };
  const actorMetadata = isObject(body.actor) ? metadataOf(body.actor.metadata, '/actor/metadata') : undefined;
  if (actorMetadata) schema.actor = { metadata: actorMetadata };
  const metadata = metadataOf(body.metadata, '/metadata');
  if (metadata) schema.metadata = metadata;
  return schema;
}

/** The per-action schema definition that enforces a WorkOS schema. */
export function toDefinition(schema: WorkosSchema): SchemaDefinition {
  const object = (m: WorkosMetadata | undefined): JsonSchema => ({
    type: 'object',
    properties: Object.fromEntries(Object.entries(m?.properties ?? {}).map(([k, p]) => [k, { type: p.type }])),
    additionalProperties: false,
  });
  const definition: SchemaDefinition = { metadata: object(schema.metadata), actor_metadata: object(schema.actor?.metadata) };
  if (schema.targets.length > 0) {
    definition.targets = {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: { enum: [...new Set(schema.targets.map((t) => t.type))] } },
        allOf: schema.targets.map((t) => ({
          if: { properties: { type: { const: t.type } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, never awaited
          then: { properties: { metadata: object(t.metadata) } },
        })),
      },
    };
  }
  return definition;
}

/** A schema version in the WorkOS API's form: as given, or read off a definition put through /v1/schemas. */
export function workosView(schema: ActionSchema) {
  const given = schema.workos as WorkosSchema | undefined;
  const fromDefinition = (part: JsonSchema | undefined): WorkosMetadata | undefined => {
    const properties = part?.properties;
    if (!isObject(properties)) return undefined;
    const out: WorkosMetadata = { type: 'object', properties: {} };
    for (const [k, p] of Object.entries(properties)) if (isObject(p) && typeof p.type === 'string') out.properties[k] = { type: p.type };
    return out;
  };
  const form: WorkosSchema = given ?? {
    targets: [],
    ...(fromDefinition(schema.definition.actor_metadata) ? { actor: { metadata: fromDefinition(schema.definition.actor_metadata)! } } : {}),
    ...(fromDefinition(schema.definition.metadata) ? { metadata: fromDefinition(schema.definition.metadata)! } : {}),
  };
  return {
    object: 'audit_log_schema',
    version: schema.version,
    actor: form.actor ?? { metadata: { type: 'object', properties: {} } },
    targets: form.targets,
    ...(form.metadata ? { metadata: form.metadata } : {}),
    created_at: schema.created_at,
  };
}
