/** sha256Many and nodeHash against node:crypto's createHash. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Many } from './crypto.ts';
import { nodeHash } from './hash.ts';

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();

describe('sha256Many', () => {
  it('hashes each range of the data, empty ones and overlapping ones too', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 40 }), (data, pairs) => {
        const ranges = new Uint32Array(
          pairs.flatMap(([a, b]) => {
            const [x, y] = [a % (data.length + 1), b % (data.length + 1)];
            return [Math.min(x, y), Math.max(x, y)];
          }),
        );
        const out = Buffer.alloc(32 * pairs.length + 5, 7);
        sha256Many(data, ranges, out);
        for (let i = 0; i < pairs.length; i++) expect(out.subarray(32 * i, 32 * i + 32)).toEqual(digest(data.subarray(ranges[2 * i], ranges[2 * i + 1])));
        expect(out.subarray(32 * pairs.length)).toEqual(Buffer.alloc(5, 7)); // nothing written past the digests
      }),
      { numRuns: 300 },
    );
  });

  it('refuses ranges outside the data and an out too short, before hashing anything', () => {
    const data = Buffer.from('0123456789');
    const out = Buffer.alloc(64);
    expect(() => sha256Many(data, new Uint32Array([0, 11]), out)).toThrow(RangeError);
    expect(() => sha256Many(data, new Uint32Array([0, 4, 5, 3]), out)).toThrow(RangeError);
    expect(() => sha256Many(data, new Uint32Array([0, 1, 1, 2, 2, 3]), out)).toThrow(RangeError);
    expect(() => sha256Many(data, new Uint32Array([0, 1, 2]), out)).toThrow(TypeError);
    expect(out).toEqual(Buffer.alloc(64));
  });
});

describe('nodeHash', () => {
  it('is SHA-256(0x01 || left || right)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (left, right) => {
        expect(nodeHash(left, right)).toEqual(digest(Buffer.concat([Buffer.from([1]), left, right])));
      }),
      { numRuns: 300 },
    );
  });
});
