/** The browser JCS against the `canonicalize` package (the reference implementation of RFC 8785's authors). */
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './jcs.ts';

describe('canonicalJson (browser)', () => {
  it('matches canonicalize on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches RFC 8785 §3.2.2 number and §3.2.3 key-order examples', () => {
    // biome-ignore lint/correctness/noPrecisionLoss: RFC 8785's own example literal
    expect(canonicalJson({ numbers: [333333333.33333329, 1e30, 4.5, 0.002, 1e-27], '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3, '1': 4, '\u00f6': 5 })).toBe(
      '{"\\r":2,"1":4,"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"ö":5,"€":1,"😀":3}',
    );
  });

  it('refuses what has no canonical form', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow();
    expect(() => canonicalJson('\ud800')).toThrow();
  });
});
