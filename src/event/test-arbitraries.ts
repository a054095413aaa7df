/**
 * fast-check generators of valid events, shared by the tests of this folder (validate.test.ts,
 * schema.test.ts). Test support only: production code does not import it.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { EVENT_LIMITS as L } from './limits.ts';
import { isServiceAction } from './service-records.ts';

/** The time of receipt the tests validate with. */
export const testNow = new Date('2026-11-22T10:00:00.000Z');
const now = testNow;

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** Any Unicode text, control characters replaced: valid in identifiers and names. */
const nameText = (maxLength: number) => fc.string({ unit: 'binary', maxLength }).map((s) => s.replace(CONTROL, '_'));
const idText = (maxLength: number) => nameText(maxLength).map((s) => (s === '' ? 'x' : s));
/** Any Unicode text but U+0000: valid free text. */
const freeText = (maxLength: number) => fc.string({ unit: 'binary', maxLength }).map((s) => s.replaceAll('\u0000', ' '));
/** Object keys: `__proto__` is a reserved key the validator rejects (validate.test.ts proves it). */
const objectKey = (text: fc.Arbitrary<string>) => text.filter((k) => k !== '__proto__');
const metadataKey = objectKey(nameText(20));
const changeKey = objectKey(freeText(10));

const scalarArb = fc.oneof(freeText(12), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const jsonArb = (depth: number, key: fc.Arbitrary<string>): fc.Arbitrary<unknown> =>
  depth === 0
    ? scalarArb
    : fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalarArb,
        fc.array(jsonArb(depth - 1, key), { maxLength: 4 }),
        fc.dictionary(key, jsonArb(depth - 1, key), { maxKeys: 4 }),
      );
/** Valid metadata: the object itself is depth 1, so values nest at most 3 more levels. */
export const metadataArb = fc.dictionary(metadataKey, jsonArb(L.metadataMaxDepth - 1, metadataKey), { maxKeys: 8 });

const pad2 = (n: number) => String(n).padStart(2, '0');
/** An instant in [1970, now + skew] written with a random offset and fraction length, and its expected normalization. */
const occurredAtArb = fc
  .record({
    ms: fc.integer({ min: 0, max: now.getTime() + L.maxFutureSkewMs }),
    offset: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
    extraDigits: fc.stringMatching(/^[0-9]{0,6}$/),
    withFraction: fc.boolean(),
    lower: fc.boolean(),
  })
  .map(({ ms, offset, extraDigits, withFraction, lower }) => {
    const local = new Date(ms + offset * 60_000);
    const fraction = withFraction ? `.${String(local.getUTCMilliseconds()).padStart(3, '0')}${extraDigits}` : '';
    const zone = offset === 0 && !lower ? 'Z' : `${offset < 0 ? '-' : '+'}${pad2(Math.floor(Math.abs(offset) / 60))}:${pad2(Math.abs(offset) % 60)}`;
    const text = `${local.toISOString().slice(0, 19)}${fraction}${zone}`;
    const expectedMs = withFraction ? ms : ms - local.getUTCMilliseconds();
    return { text: lower ? text.toLowerCase() : text, expected: new Date(expectedMs).toISOString() };
  })
  .filter(({ expected }) => Date.parse(expected) >= 0);

const targetArb = fc.record(
  {
    type: fc.stringMatching(/^[a-z0-9_][a-z0-9_.-]{0,20}$/),
    id: idText(40),
    name: nameText(40),
    metadata: metadataArb,
  },
  { requiredKeys: ['type', 'id'] },
);

export const eventArb = fc
  .record(
    {
      id: fc.stringMatching(/^[A-Za-z0-9._:@/-]{1,40}$/),
      // Outside the namespaces reserved for the service's own records (`db`, `alert`, …), which the validator refuses.
      action: fc
        .array(fc.stringMatching(/^[a-z0-9_]{1,12}$/), { minLength: 1, maxLength: 4 })
        .map((parts) => parts.join('.'))
        .filter((action) => !isServiceAction(action)),
      occurred_at: occurredAtArb,
      actor: fc.record({ type: fc.constantFrom(...L.actorTypes), id: idText(40), name: nameText(40), metadata: metadataArb }, { requiredKeys: ['type', 'id'] }),
      targets: fc.array(targetArb, { maxLength: 4 }),
      outcome: fc.constantFrom('success', 'failure'),
      reason: freeText(60),
      context: fc.record(
        {
          ip: fc.oneof(
            fc.ipV4(),
            fc.ipV6(),
            fc.ipV6().map((ip) => ip.toUpperCase()),
          ),
          user_agent: freeText(80),
          location: nameText(30),
          request_id: nameText(30),
          session_id: nameText(30),
        },
        { requiredKeys: [] },
      ),
      changes: fc.array(fc.record({ field: idText(30), before: jsonArb(3, changeKey), after: jsonArb(3, changeKey) }, { requiredKeys: ['field'] }), {
        maxLength: 4,
      }),
      metadata: metadataArb,
    },
    { requiredKeys: ['action', 'actor'] },
  )
  .map(({ occurred_at, ...rest }) => ({
    input: occurred_at === undefined ? rest : { ...rest, occurred_at: occurred_at.text },
    expectedOccurredAt: occurred_at?.expected ?? now.toISOString(),
  }))
  // Keep generated events within the size limits; random nesting rarely exceeds them.
  .filter(({ input }) => {
    const sizes = [input.metadata, input.actor.metadata, ...(input.targets ?? []).map((t) => t.metadata)].map((m) =>
      m === undefined ? 0 : Buffer.byteLength(JSON.stringify(m)),
    );
    return Math.max(...sizes) <= L.metadataMaxBytes && Buffer.byteLength(JSON.stringify(input)) < L.eventMaxBytes - 1024;
  });
