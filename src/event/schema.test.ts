/**
 * The documented schema (EventInputSchema) is what API clients and their validators see. It must
 * never refuse an event the service accepts, and it must carry the same limits. Ajv is the
 * validator OpenAPI tooling and Fastify use, so it is the judge here.
 */
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_LIMITS as L, MAX_BATCH } from './limits.ts';
import { EventBatchInputSchema, EventInputSchema, EventStructureSchema } from './schema.ts';
import { eventArb, testNow } from './test-arbitraries.ts';
import { validateEvent } from './validate.ts';

// ajv-formats is CommonJS: under NodeNext the default import is `module.exports`, whose `default` is the plugin.
const addFormats = ajvFormats.default;
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const checkEvent = ajv.compile(JSON.parse(JSON.stringify(EventInputSchema)));
const checkBatch = ajv.compile(JSON.parse(JSON.stringify(EventBatchInputSchema)));

const minimal = () => ({ action: 'user.login', actor: { type: 'user', id: 'u_1' } });

describe('EventInputSchema', () => {
  it('is plain JSON Schema that ajv compiles in strict mode', () => {
    expect(checkEvent(minimal())).toBe(true);
    expect(checkBatch({ events: [minimal()] })).toBe(true);
  });

  it('accepts every event the validator accepts', () => {
    fc.assert(
      fc.property(eventArb, ({ input }) => {
        expect(validateEvent(input, { now: testNow }).ok).toBe(true);
        expect(checkEvent(input), JSON.stringify(checkEvent.errors)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['action', (s: string) => ({ ...minimal(), action: s }), L.actionMaxLength, 'a'],
    ['id', (s: string) => ({ ...minimal(), id: s }), L.clientIdMaxLength, 'A'],
    ['actor.id', (s: string) => ({ ...minimal(), actor: { type: 'user', id: s } }), L.idMaxLength, '😀'],
    ['actor.name', (s: string) => ({ ...minimal(), actor: { type: 'user', id: 'u', name: s } }), L.nameMaxLength, 'n'],
    ['targets[].type', (s: string) => ({ ...minimal(), targets: [{ type: s, id: 'i' }] }), L.typeMaxLength, 't'],
    ['reason', (s: string) => ({ ...minimal(), reason: s }), L.reasonMaxLength, 'é'],
    ['context.session_id', (s: string) => ({ ...minimal(), context: { session_id: s } }), L.sessionIdMaxLength, 's'],
    ['changes[].field', (s: string) => ({ ...minimal(), changes: [{ field: s }] }), L.changeFieldMaxLength, 'f'],
  ])('documents the length limit of %s', (_name, make, max, char) => {
    expect(checkEvent(make(char.repeat(max)))).toBe(true);
    expect(checkEvent(make(char.repeat(max + 1)))).toBe(false);
  });

  it('documents the count limits', () => {
    const targets = (n: number) => Array.from({ length: n }, () => ({ type: 't', id: 'i' }));
    expect(checkEvent({ ...minimal(), targets: targets(L.maxTargets) })).toBe(true);
    expect(checkEvent({ ...minimal(), targets: targets(L.maxTargets + 1) })).toBe(false);
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect(checkEvent({ ...minimal(), metadata: keys(L.metadataMaxKeys) })).toBe(true);
    expect(checkEvent({ ...minimal(), metadata: keys(L.metadataMaxKeys + 1) })).toBe(false);
    const events = (n: number) => Array.from({ length: n }, minimal);
    expect(checkBatch({ events: events(MAX_BATCH) })).toBe(true);
    expect(checkBatch({ events: events(MAX_BATCH + 1) })).toBe(false);
    expect(checkBatch({ events: [] })).toBe(false);
  });

  it('documents the enums, patterns, timestamp format and closed objects', () => {
    expect(checkEvent({ ...minimal(), actor: { type: 'robot', id: 'r' } })).toBe(false);
    expect(checkEvent({ ...minimal(), outcome: 'maybe' })).toBe(false);
    expect(checkEvent({ ...minimal(), action: 'User.Login' })).toBe(false);
    expect(checkEvent({ ...minimal(), occurred_at: '2026-11-22' })).toBe(false);
    expect(checkEvent({ ...minimal(), occurred_at: '2026-11-22T10:00:00+01:00' })).toBe(true);
    expect(checkEvent({ ...minimal(), extra: 1 })).toBe(false);
    expect(checkEvent({ ...minimal(), context: { ip: '1.2.3.4', port: 1 } })).toBe(false);
  });

  it('differs from the compiled structural schema only by the keywords validate.ts checks itself', () => {
    const stripped = JSON.stringify(EventInputSchema, (key, value: unknown) =>
      ['minLength', 'maxLength', 'pattern', 'format', 'maxProperties'].includes(key) ? undefined : value,
    );
    expect(stripped).toBe(JSON.stringify(EventStructureSchema));
  });
});
