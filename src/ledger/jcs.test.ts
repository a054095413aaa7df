import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LedgerError } from './errors.ts';
import { canonicalJson } from './jcs.ts';

// JSON values as JSON.parse produces them, with the awkward parts JCS must get right: full Unicode
// (surrogate pairs), keys that sort differently by code unit than by code point, and numbers of
// every magnitude (RFC 8785 §3.2.2.3 number serialisation is ECMAScript's).
const key = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('\u20ac', '\r', '\ud83d\ude00', '1', '10', 'a', 'A', ''));
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 6 }),
  ),
})).value;

describe('canonicalJson (RFC 8785)', () => {
  it('equals the canonicalize package on any JSON value', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches the RFC 8785 §3.2.3 sorting example and number forms', () => {
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalJson(value)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(canonicalJson([1e21, 1e-7, -0, 0.000001, 333333333.3333333])).toBe('[1e+21,1e-7,0,0.000001,333333333.3333333]');
  });

  it('drops undefined members and refuses what JSON cannot hold', () => {
    expect(canonicalJson({ b: undefined, a: [undefined] })).toBe('{"a":[null]}');
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 'x\ud800', { '\udc00': 1 }, () => 1, 1n]) {
      expect(() => canonicalJson(bad)).toThrow(LedgerError);
    }
  });
});
