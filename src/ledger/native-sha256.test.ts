/**
 * The native SHA-256 (native/sha256.c) and its node:crypto stand-in answer the same, both equal to
 * node:crypto itself; CI checks the native one was built, so its figures are the ones measured.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Many, sha256ManyPortable } from './crypto.ts';
import { nodeHash } from './hash.ts';
import { loadNativeSha256, nativeSha256 } from './native-sha256.ts';

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();

const implementations = [
  ['node:crypto', sha256ManyPortable],
  ...(nativeSha256 ? [['native', nativeSha256.sha256Many.bind(nativeSha256)] as const] : []),
] as const;

describe.each(implementations)('sha256Many (%s)', (_name, many) => {
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
        many(data, ranges, out);
        for (let i = 0; i < pairs.length; i++) expect(out.subarray(32 * i, 32 * i + 32)).toEqual(digest(data.subarray(ranges[2 * i], ranges[2 * i + 1])));
        expect(out.subarray(32 * pairs.length)).toEqual(Buffer.alloc(5, 7)); // nothing written past the digests
      }),
      { numRuns: 300 },
    );
  });

  it('refuses ranges outside the data and an out too short, before hashing anything', () => {
    const data = Buffer.from('0123456789');
    const out = Buffer.alloc(64);
    expect(() => many(data, new Uint32Array([0, 11]), out)).toThrow(RangeError);
    expect(() => many(data, new Uint32Array([0, 4, 5, 3]), out)).toThrow(RangeError);
    expect(() => many(data, new Uint32Array([0, 1, 1, 2, 2, 3]), out)).toThrow(RangeError);
    expect(() => many(data, new Uint32Array([0, 1, 2]), out)).toThrow(TypeError);
    expect(out).toEqual(Buffer.alloc(64));
  });
});

describe('loading the addon', () => {
  it("ignores a missing build, and a build of another version with a warning (an old checkout's)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-native-'));
    try {
      expect(loadNativeSha256(path.join(dir, 'missing.node'))).toBeUndefined();
      const stale = path.join(dir, 'stale.cjs');
      fs.writeFileSync(stale, 'module.exports = { version: 0, sha256Many() {}, nodeHash() {} };');
      const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
      expect(loadNativeSha256(stale)).toBeUndefined();
      expect((await warned).message).toMatch(/out of date \(version 0, expected 1\).*npm install/);
      if (nativeSha256) expect(loadNativeSha256()).toBe(nativeSha256);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the ledger's hashing", () => {
  it('uses the native SHA-256 in CI, where the install builds it', () => {
    if (!process.env.CI || process.env.TRAILPROOF_NATIVE === '0') return;
    expect(nativeSha256, 'scripts/build-native.mjs did not build native/ (see the npm ci output)').toBeDefined();
    expect(sha256Many).toBe(nativeSha256!.sha256Many);
  });

  it('computes interior nodes as SHA-256(0x01 || left || right), natively or not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (left, right) => {
        const expected = digest(Buffer.concat([Buffer.from([1]), left, right]));
        expect(nodeHash(left, right)).toEqual(expected);
        if (nativeSha256) {
          const out = Buffer.alloc(32);
          nativeSha256.nodeHash(left, right, out);
          expect(out).toEqual(expected);
        }
      }),
      { numRuns: 300 },
    );
    if (nativeSha256) expect(() => nativeSha256!.nodeHash(Buffer.alloc(31), Buffer.alloc(32), Buffer.alloc(32))).toThrow(TypeError);
  });
});
