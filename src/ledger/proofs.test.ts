import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash } from './hash.ts';
import { MemoryHashStore } from './memory-hash-store.ts';
import { consistencyProof, inclusionProof, rootAt } from './proofs.ts';
import type { HashRange, HashReader } from './proofs.ts';
import { expectCode, expectCodeAsync } from './testing/expect-code.ts';
import { consistency, makeLeaves, mth, path, randomLeaves, strictReader } from './testing/reference-tree.ts';
import { verifyConsistency, verifyInclusion } from './verify-proof.ts';
import { LruNodeCache } from '../tlog/node-cache.ts';

const hex = (hashes: Buffer[]): string[] => hashes.map((h) => h.toString('hex'));

function storeOf(leaves: Buffer[]): MemoryHashStore {
  const store = new MemoryHashStore();
  store.append(leaves);
  return store;
}

/** A copy of `proof` with one bit flipped. */
function flipBit(proof: Buffer[], element: number, bit: number): Buffer[] {
  return proof.map((hash, i) => {
    if (i !== element) return hash;
    const copy = Buffer.from(hash);
    copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
    return copy;
  });
}

// Known answers from transparency-dev/merkle's proof tests (leaves and roots as in merkle.test.ts).
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => leafHash(Buffer.from(h, 'hex')));
const KNOWN_INCLUSION: [index: number, size: number, proof: string[]][] = [
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [0, 1, []],
];
const KNOWN_CONSISTENCY: [size1: number, size2: number, proof: string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

describe('proof generation', () => {
  it('produces the RFC 6962 reference proofs', async () => {
    const store = storeOf(LEAVES);
    for (const [index, size, proof] of KNOWN_INCLUSION) {
      expect(hex(await inclusionProof(strictReader(store, size), index, size))).toEqual(proof);
    }
    for (const [size1, size2, proof] of KNOWN_CONSISTENCY) {
      expect(hex(await consistencyProof(strictReader(store, size2), size1, size2))).toEqual(proof);
    }
  });

  it('generates inclusion proofs that match RFC 9162 PATH and verify, and only those', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2000 }).chain((size) =>
          fc.record({
            size: fc.constant(size),
            index: fc.nat(size - 1),
            other: fc.nat(size - 1),
            bit: fc.nat(),
            wrongSize: fc.integer({ min: 1, max: 2001 }),
          }),
        ),
        async ({ size, index, other, bit, wrongSize }) => {
          const leaves = makeLeaves(size);
          const store = storeOf(leaves);
          const reader = strictReader(store, size);
          const root = mth(leaves);
          const proof = await inclusionProof(reader, index, size);
          expect(hex(proof)).toEqual(hex(path(index, leaves)));
          expect((await rootAt(reader, size)).equals(root)).toBe(true);
          verifyInclusion(leaves[index] as Buffer, index, size, proof, root);

          if (proof.length > 0) {
            const flipped = flipBit(proof, bit % proof.length, bit % 256);
            expectCode('PROOF_INVALID', () => verifyInclusion(leaves[index] as Buffer, index, size, flipped, root));
          }
          if (other !== index) expectCode('PROOF_INVALID', () => verifyInclusion(leaves[index] as Buffer, other, size, proof, root));
          if (wrongSize !== size && index < wrongSize) {
            const wrongRoot = mth(makeLeaves(wrongSize));
            expectCode('PROOF_INVALID', () => verifyInclusion(leaves[index] as Buffer, index, wrongSize, proof, wrongRoot));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('generates consistency proofs that match RFC 9162 SUBPROOF and verify, and only those', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 2000 })
          .chain((size2) =>
            fc.record({ size2: fc.constant(size2), size1: fc.integer({ min: 1, max: size2 }), other: fc.integer({ min: 1, max: size2 }), bit: fc.nat() }),
          ),
        async ({ size1, size2, other, bit }) => {
          const leaves = makeLeaves(size2);
          const store = storeOf(leaves);
          const [root1, root2] = [mth(leaves, 0, size1), mth(leaves)];
          const proof = await consistencyProof(strictReader(store, size2), size1, size2);
          expect(hex(proof)).toEqual(hex(consistency(size1, leaves)));
          expect((await rootAt(strictReader(store, size1), size1)).equals(root1)).toBe(true);
          verifyConsistency(size1, size2, proof, root1, root2);

          if (proof.length > 0) {
            const flipped = flipBit(proof, bit % proof.length, bit % 256);
            expectCode('PROOF_INVALID', () => verifyConsistency(size1, size2, flipped, root1, root2));
          }
          if (other !== size1) {
            expectCode('PROOF_INVALID', () => verifyConsistency(other, size2, proof, mth(leaves, 0, other), root2));
          }
          if (size2 < 2000) {
            const grown = mth(makeLeaves(size2 + 1));
            expectCode('PROOF_INVALID', () => verifyConsistency(size1, size2 + 1, proof, root1, grown));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('needs only a handful of reads in a tree of a million leaves', async () => {
    const size = 1_000_003;
    const store = new MemoryHashStore();
    for (let from = 0; from < size; from += 50_000) store.append(randomLeaves(Math.min(50_000, size - from)));
    const root = await rootAt(store, size);
    for (const index of [0, 123_456, 999_999, size - 1]) {
      const reader = strictReader(store, size);
      const proof = await inclusionProof(reader, index, size);
      const [leaf] = await store.read(0, index, index + 1);
      verifyInclusion(leaf as Buffer, index, size, proof, root);
      expect(reader.reads).toBeLessThanOrEqual(6);
    }
    const reader = strictReader(store, size);
    const proof = await consistencyProof(reader, 654_321, size);
    verifyConsistency(654_321, size, proof, await rootAt(store, 654_321), root);
    expect(reader.reads).toBeLessThanOrEqual(6);
  }, 60_000);

  it('asks a reader with readMany for everything in one call', async () => {
    const store = storeOf(makeLeaves(3000));
    const calls: HashRange[][] = [];
    const reader: HashReader = {
      read: () => Promise.reject(new Error('read should not be called')),
      readMany: (ranges) => {
        calls.push([...ranges]);
        return Promise.all(ranges.map(({ level, start, end }) => store.read(level, start, end)));
      },
    };
    const proof = await inclusionProof(reader, 1234, 3000);
    verifyInclusion((await store.read(0, 1234, 1235))[0] as Buffer, 1234, 3000, proof, await rootAt(store, 3000));
    expect(calls).toHaveLength(1);
  });

  it('with a node cache, gives the same proofs and reads less the second time', async () => {
    const size = 70_001;
    const store = storeOf(randomLeaves(size));
    const root = await rootAt(store, size);
    const cache = new LruNodeCache(100_000).forTenant('t');
    const hashesRead = { n: 0 };
    const reader: HashReader = {
      read: async (level, start, end) => {
        hashesRead.n += end - start;
        return store.read(level, start, end);
      },
      cache,
    };
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: size - 1 }), fc.integer({ min: 1, max: size }), async (index, small) => {
        const plain = await inclusionProof(store, index, size);
        expect(hex(await inclusionProof(reader, index, size))).toEqual(hex(plain));
        expect(hex(await consistencyProof(reader, small, size))).toEqual(hex(await consistencyProof(store, small, size)));
      }),
      { numRuns: 60 },
    );
    // The same proof again: every recomputed hash comes from the cache, only the leaf's own
    // stored level-0 and level-8 siblings are read.
    await inclusionProof(reader, 12_345, size);
    hashesRead.n = 0;
    const again = await inclusionProof(reader, 12_345, size);
    verifyInclusion((await store.read(0, 12_345, 12_346))[0] as Buffer, 12_345, size, again, root);
    expect(hashesRead.n).toBeLessThanOrEqual(4);
  });

  it("with a warm node cache, reads only the leaf's own tile, as the tree grows too", async () => {
    const leaves = randomLeaves(140_000);
    const store = storeOf(leaves);
    const cache = new LruNodeCache(100_000).forTenant('t');
    const reads: HashRange[] = [];
    const reader: HashReader = {
      read: async (level, start, end) => {
        reads.push({ level, start, end });
        return store.read(level, start, end);
      },
      cache,
    };
    await inclusionProof(reader, 0, 70_001); // warms the tiles above the leaves and the newest leaves
    // Checkpoints of a growing tree, proofs of leaves all over it: the same proofs as without the
    // cache, and after the first proof at each size nothing is read but the leaf's own tile.
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 2, maxLength: 8 }),
        async (steps, spots) => {
          let size = 70_001;
          for (const step of steps) {
            size += step;
            await inclusionProof(reader, 0, size);
            reads.length = 0;
            for (const spot of spots) {
              const index = Math.floor(spot * size);
              expect(hex(await inclusionProof(reader, index, size))).toEqual(hex(await inclusionProof(store, index, size)));
              const tile = index - (index % 256);
              expect(
                reads.every((r) => r.level === 0 && r.start >= tile && r.end <= tile + 256),
                JSON.stringify(reads),
              ).toBe(true);
              reads.length = 0;
            }
            expect(hex(await consistencyProof(reader, size - step, size))).toEqual(hex(await consistencyProof(store, size - step, size)));
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  it('keeps the least recently used hashes within its bound', () => {
    const lru = new LruNodeCache(3);
    const cache = lru.forTenant('a');
    const other = lru.forTenant('b');
    const h = (n: number) => Buffer.alloc(32, n);
    cache.set(1, 0, h(1));
    cache.set(1, 1, h(2));
    expect(other.get(1, 0)).toBeUndefined();
    expect(cache.get(1, 0)).toEqual(h(1)); // now the most recent
    cache.set(1, 2, h(3));
    cache.set(1, 3, h(4)); // evicts (1, 1), the least recently used
    expect(cache.get(1, 1)).toBeUndefined();
    expect([cache.get(1, 0), cache.get(1, 2), cache.get(1, 3)]).toEqual([h(1), h(3), h(4)]);
    expect(lru.size).toBe(3);
  });

  it('rejects out-of-range requests and malformed reader answers', async () => {
    const store = storeOf(makeLeaves(10));
    await expectCodeAsync('OUT_OF_RANGE', () => inclusionProof(store, 10, 10));
    await expectCodeAsync('OUT_OF_RANGE', () => inclusionProof(store, -1, 10));
    await expectCodeAsync('OUT_OF_RANGE', () => consistencyProof(store, 0, 10));
    await expectCodeAsync('OUT_OF_RANGE', () => consistencyProof(store, 5, 4));
    await expectCodeAsync('OUT_OF_RANGE', () => rootAt(store, 1.5));
    const short: HashReader = { read: async (level, start, end) => (await store.read(level, start, end)).slice(1) };
    await expectCodeAsync('INVALID_ARGUMENT', () => inclusionProof(short, 3, 10));
    expectCode('INVALID_ARGUMENT', () => store.append([Buffer.alloc(3)]));
  });
});
