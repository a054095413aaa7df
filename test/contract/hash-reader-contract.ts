/**
 * The contract every HashReader keeps (src/ledger/proofs.ts), run against each implementation: the
 * in-memory reference store and the database reader. A backend's test file calls `testHashReader`
 * with a factory that builds a tree of `n` leaves and returns the leaf hashes it expects, computed
 * independently of the reader.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { rootFromLeaves } from '../../src/ledger/merkle.ts';
import { consistencyProof, inclusionProof, rootAt } from '../../src/ledger/proofs.ts';
import type { HashReader } from '../../src/ledger/proofs.ts';
import { verifyConsistency, verifyInclusion } from '../../src/ledger/verify-proof.ts';

export interface HashReaderFixture {
  reader: HashReader;
  /** The tree's leaf hashes 0..n-1, as the test computed them (not read through `reader`). */
  leaves: Buffer[];
}

/** 2 full tiles and a partial one: level 0 and level 8 both hold hashes. */
const SIZE = 600;

export function testHashReader(name: string, build: (n: number) => Promise<HashReaderFixture>): void {
  describe(`HashReader contract: ${name}`, () => {
    let reader: HashReader;
    let leaves: Buffer[];
    beforeAll(async () => {
      ({ reader, leaves } = await build(SIZE));
    }, 120_000);

    const hex = (hashes: Buffer[]) => hashes.map((h) => h.toString('hex'));

    it('reads leaf hashes at level 0, in order', async () => {
      expect(hex(await reader.read(0, 0, SIZE))).toEqual(hex(leaves));
      expect(hex(await reader.read(0, 255, 258))).toEqual(hex(leaves.slice(255, 258)));
      expect(await reader.read(0, 7, 7)).toEqual([]);
    });

    it('reads the perfect subtrees at level 8: the root of each complete 256-leaf tile', async () => {
      const expected = [0, 1].map((i) => rootFromLeaves(leaves.slice(i * 256, (i + 1) * 256)));
      expect(hex(await reader.read(8, 0, 2))).toEqual(hex(expected));
    });

    it('answers several ranges at once, each in order', async () => {
      const ranges = [
        { level: 8, start: 1, end: 2 },
        { level: 0, start: 599, end: 600 },
        { level: 0, start: 0, end: 3 },
      ];
      const many = reader.readMany ? await reader.readMany(ranges) : await Promise.all(ranges.map((r) => reader.read(r.level, r.start, r.end)));
      expect(many.map(hex)).toEqual([hex([rootFromLeaves(leaves.slice(256, 512))]), hex([leaves[599]!]), hex(leaves.slice(0, 3))]);
    });

    it('refuses ranges that are not stored', async () => {
      // A bad level is the caller's bug; a range past what is stored may also be missing data.
      const refused = { code: expect.stringMatching(/^(INVALID_ARGUMENT|INCONSISTENT)$/) };
      await expect(reader.read(0, SIZE - 1, SIZE + 1)).rejects.toMatchObject(refused);
      await expect(reader.read(8, 0, 3)).rejects.toMatchObject(refused);
      await expect(reader.read(16, 0, 1)).rejects.toMatchObject(refused);
      await expect(reader.read(3, 0, 1)).rejects.toMatchObject(refused);
    });

    it('serves proofs that verify against the roots of the expected leaves', async () => {
      for (const size of [1, 2, 255, 256, 257, 511, 512, 513, SIZE]) {
        const root = rootFromLeaves(leaves.slice(0, size));
        expect((await rootAt(reader, size)).toString('hex'), `root at ${size}`).toBe(root.toString('hex'));
        for (const index of new Set([0, size >> 1, size - 1])) {
          verifyInclusion(leaves[index]!, index, size, await inclusionProof(reader, index, size), root);
        }
        for (const older of new Set([1, size >> 1 || 1, size])) {
          const proof = await consistencyProof(reader, older, size);
          verifyConsistency(older, size, proof, rootFromLeaves(leaves.slice(0, older)), root);
        }
      }
    });
  });
}
