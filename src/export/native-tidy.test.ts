/**
 * The native tidying of export pages (native/tidy.c) writes what the JavaScript writes, byte for
 * byte, and fails where it fails: eventLines, csvRecords and tidyCsvRows run with the addon and without it on
 * the same random pages, well-formed and broken. CI checks the addon was built.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csv, csvCell } from './csv.ts';
import { tidyCsvRows, type CellKind } from './csv-rows.ts';
import { csvRecords, eventLines } from './event-lines.ts';
import { nativeTidy } from './native-tidy.ts';

/** A JSON value spaced as jsonb_out spaces it, or more. */
const spaced = (value: unknown) => JSON.stringify(value, null, 1).replace(/\n */g, ' ');

/** Numbers as they may come, including ones JavaScript writes otherwise (JavaScript then writes the line). */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.constantFrom('-0', '1e21', '1.50', '0.000001', '1E+2', '123456789012345678', '-12', '007', '-', '1.', '9007199254740993'),
);
/** A JSON value's text: a random value spaced, sometimes with a number or an index key of our own in it. */
const jsonText = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue().map(spaced) },
  { weight: 1, arbitrary: fc.tuple(numberText, fc.jsonValue()).map(([n, v]) => `{"n": ${n}, "v": ${spaced(v)}}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('0', '42', '4294967294', '4294967295', '01', '12345678901', 'x1'), fc.jsonValue())
      .map(([k, v]) => `{"${k}": ${spaced(v)}, "a": 1}`),
  },
  // Longer than the native code's scratch buffer (16 KiB): the JavaScript's to write.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.jsonValue(), fc.oneof(numberText, fc.constant('"x"')))
      .map(([v, tail]) => `{"long": "${'ab, '.repeat(4200)}", "v": ${spaced(v)}, "t": ${tail}}`),
  },
);

/** What `run` returns, or the error it throws, for comparing two implementations. */
function outcome(run: () => Buffer): string {
  try {
    return `ok ${run().toString('latin1')}`;
  } catch (error) {
    return `error ${(error as Error).message}`;
  }
}

/**
 * `page` cut short or with an ASCII byte changed, sometimes. Never a byte of a multi-byte character:
 * PostgreSQL's text is always valid UTF-8, and where bytes are copied (native) rather than decoded
 * and encoded again (JavaScript, for a row it parses) a broken character would differ.
 */
const damaged = (page: Buffer, cut: number, at: number, byte: number, how: number): Buffer => {
  if (page.length === 0 || how < 2) return page;
  if (how === 2) return page.subarray(0, cut % page.length);
  const copy = Buffer.from(page);
  if (copy[at % copy.length]! < 0x80) copy[at % copy.length] = byte;
  return copy;
};

describe.runIf(nativeTidy)('native tidying', () => {
  it('writes event lines and their CSV records as the JavaScript does, and fails where it fails', () => {
    // Rows as event-lines.ts has PostgreSQL write them: bodies with the API's members and others, in
    // any order and spacing, values of every kind, timestamps real and not. Mostly what PostgreSQL
    // writes (the native code's path), sometimes not.
    const often = <T, U>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<U>) => fc.oneof({ weight: 9, arbitrary: usual }, { weight: 1, arbitrary: odd });
    const member = fc.constantFrom('id', 'action', 'actor', 'targets', 'outcome', 'reason', 'context', 'changes', 'metadata', 'source', 'other', '0', 'a"b');
    const stamp = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
    // Integers, not floats: values the native code takes.
    const { plain } = fc.letrec<{ plain: unknown }>((tie) => ({
      plain: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('plain'), { maxLength: 3 }),
        fc.dictionary(fc.string(), tie('plain'), { maxKeys: 3 }),
      ),
    }));
    const value = fc.oneof(
      { weight: 29, arbitrary: plain },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.jsonValue(),
          stamp.map((d) => d.toISOString()),
        ),
      },
    );
    // The actor and context as the CSV writer wants them: objects of strings, sometimes not.
    const text = often(
      fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '=', '-', '@', '+', "'", 'é', '😀') }),
      fc.oneof(fc.constant(null), fc.integer(), fc.constantFrom('=1', "'-x", 'a,b', 'q"q', 'tab\t', 'line\n')),
    );
    const actor = often(fc.record({ type: text, id: text, name: text, metadata: plain }, { requiredKeys: ['type', 'id'] }), plain);
    const context = often(fc.record({ ip: text, user_agent: text, location: text, request_id: text }, { requiredKeys: [] }), plain);
    const rest = fc.record(
      {
        id: text,
        action: text,
        outcome: text,
        reason: text,
        changes: fc.array(plain, { maxLength: 2 }),
        metadata: fc.dictionary(fc.string(), plain, { maxKeys: 2 }),
        source: text,
      },
      { requiredKeys: [] },
    );
    const targets = often(fc.array(fc.record({ type: text, id: text }), { maxLength: 2 }), plain);
    const occurredAt = often(
      stamp.map((d) => d.toISOString()),
      fc.constantFrom('2026-02-30T00:00:00.000Z', '2026-01-01T24:00:00.000Z', '2026-01-01T00:00:00Z', 3),
    );
    const body = fc.oneof(
      {
        weight: 12,
        arbitrary: fc
          .tuple(
            fc.dictionary(member, value, { maxKeys: 10 }),
            fc.option(occurredAt, { freq: 6 }),
            fc.option(actor, { freq: 6 }),
            fc.option(context, { freq: 6 }),
            fc.option(targets, { freq: 6 }),
            fc.option(rest, { freq: 6 }),
          )
          .map(([members, occurred, a, c, t, r]) => ({
            ...members,
            ...r,
            ...(occurred === null ? {} : { occurred_at: occurred }),
            ...(a === null ? {} : { actor: a }),
            ...(c === null ? {} : { context: c }),
            ...(t === null ? {} : { targets: t }),
          })),
      },
      { weight: 1, arbitrary: jsonText },
      // Keys in jsonb's order (by length), which JavaScript lists otherwise when they are array indexes.
      {
        weight: 1,
        arbitrary: fc.constantFrom('{"action": "a", "metadata": {"k": 1, "0": 2, "01": [{"b": 1, "7": 0}]}}', '{"changes": [{"x": {"ab": 1, "42": 2}}]}'),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom('{"a": "\\u0041"}', '{"a": "\\/"}', '{"a": "\\u001f\\n"}', '{"a": [1 2]}', '{"a": nul}', '{"a": tru}', '{}', '{ }', '[]'),
      },
    );
    const pgStamp = often(
      stamp.map(
        (d) =>
          `${d.toISOString().slice(0, 19).replace('T', ' ')}${['', '.5', `.${String(d.getUTCMilliseconds()).padStart(3, '0')}789`][d.getUTCSeconds() % 3]}`,
      ),
      fc.constantFrom('2026-02-30 00:00:00', '2026-11-30 12:00:00.', '2026-11-30 12:00:00.1234567', 'x'),
    );
    const row = fc
      .tuple(
        often(fc.uuid(), fc.constantFrom('', 'X', 'a"b')),
        often(
          fc.string().map((t) => JSON.stringify(t)),
          fc.constantFrom('"\\u0041"', 'acme'),
        ),
        often(fc.nat().map(String), fc.constantFrom('', '01', '-1', '12345678901234567')),
        pgStamp,
        pgStamp,
        body,
        fc.nat(9).map((n) => n === 0),
      )
      .map(([uid, tenant, seq, received, occurred, b, odd]) => {
        // The occurred_at column only for a body without one (or, oddly, either way).
        const inBody = typeof b === 'object' && b !== null && 'occurred_at' in b;
        return `${[uid, tenant, seq, received, inBody !== odd ? '' : occurred, typeof b === 'string' ? b : spaced(b)].join('\x1f')}\n`;
      });
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(0x20, 0x22, 0x5c, 0x0a, 0x7b, 0x31, 0x1f),
        fc.nat(4),
        (rows, cut, at, byte, how) => {
          const page = damaged(Buffer.from(rows.join('')), cut, at, byte, how);
          expect(outcome(() => eventLines(Buffer.from(page), nativeTidy))).toBe(outcome(() => eventLines(Buffer.from(page), null)));
          expect(outcome(() => csvRecords(Buffer.from(page), csv.record, nativeTidy))).toBe(outcome(() => csvRecords(Buffer.from(page), csv.record, null)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes CSV rows as the JavaScript does, and fails where it fails', () => {
    const plainText = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '"', "'", '=', '-', '+', '@', 'é', '😀', '\\', '.') });
    const anyText = fc.string({
      unit: fc.oneof(
        fc.constantFrom(',', '"', "'", '=', '-', '\\', '\n', '\r', '\t', '\u0001'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        fc.constant('ü'),
      ),
    });
    const cell: Record<CellKind, fc.Arbitrary<string>> = {
      raw: fc.stringMatching(/^[0-9A-Za-z:.-]*$/),
      plain: plainText,
      text: fc.oneof({ weight: 5, arbitrary: anyText.map((t) => JSON.stringify(t)) }, { weight: 1, arbitrary: fc.constantFrom('null', '12') }),
      json: jsonText,
    };
    const kinds = fc.array(fc.constantFrom<CellKind>('raw', 'plain', 'text', 'json'), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(
        kinds.chain((k) => fc.tuple(fc.constant(k), fc.array(fc.tuple(...k.map((kind) => fc.option(cell[kind], { nil: '' }))), { maxLength: 8 }))),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(0x1e, 0x1f, 0x22, 0x5c, 0x2c, 0x20),
        fc.nat(4),
        ([k, rows], cut, at, byte, how) => {
          const page = damaged(Buffer.from(rows.map((cells) => `${cells.join('\x1f')}\x1e`).join('')), cut, at, byte, how);
          expect(outcome(() => tidyCsvRows(Buffer.from(page), k, csvCell, nativeTidy))).toBe(outcome(() => tidyCsvRows(Buffer.from(page), k, csvCell, null)));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('refuses arguments it cannot take, before writing anything', () => {
    const rows = Buffer.from('a\x1e');
    const out = Buffer.alloc(16);
    expect(() => nativeTidy!.tidyCsvRows(rows, Uint8Array.of(4), out, new Uint32Array(2))).toThrow(RangeError);
    expect(() => nativeTidy!.tidyCsvRows(rows, Uint8Array.of(0), out, Uint32Array.of(3, 0))).toThrow(RangeError);
    expect(() => nativeTidy!.tidyCsvRows(rows, Uint8Array.of(0), rows, new Uint32Array(2))).toThrow(RangeError);
    expect(() => nativeTidy!.tidyCsvRows(rows, Uint8Array.of(0), out, new Uint32Array(1))).toThrow(TypeError);
    expect(() => nativeTidy!.eventLines(rows, out, Uint32Array.of(3, 0))).toThrow(RangeError);
    expect(() => nativeTidy!.eventLines(rows, rows, new Uint32Array(2))).toThrow(RangeError);
    expect(() => nativeTidy!.eventLines(rows, out, new Uint32Array(1))).toThrow(TypeError);
    expect(out).toEqual(Buffer.alloc(16));
  });
});

describe("the export's tidying", () => {
  it('is native in CI, where the install builds it', () => {
    if (!process.env.CI || process.env.TRAILPROOF_NATIVE === '0') return;
    expect(nativeTidy, 'scripts/build-native.mjs did not build native/ (see the npm ci output)').toBeDefined();
  });
});
