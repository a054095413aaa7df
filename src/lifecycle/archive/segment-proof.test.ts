import { describe, expect, it } from 'vitest';
import { leafHash } from '../../ledger/hash.ts';
import { rootFromLeaves } from '../../ledger/merkle.ts';
import { MemoryHashStore } from '../../ledger/memory-hash-store.ts';
import { inclusionProof, nodeHashes } from '../../ledger/proofs.ts';
import { inclusionFromSegment, rootFromSegment, segmentProofRanges } from './segment-proof.ts';

describe('segment proofs', () => {
  it('recompute the root of every tree from every segment of it, and no other root', async () => {
    for (const size of [1, 2, 3, 7, 8, 9, 33, 100]) {
      const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
      const store = new MemoryHashStore();
      store.append(leaves);
      const root = rootFromLeaves(leaves);
      for (let from = 0; from < size; from += Math.max(1, Math.floor(size / 7))) {
        for (let to = from + 1; to <= size; to += Math.max(1, Math.floor(size / 5))) {
          const proof = await nodeHashes(store, segmentProofRanges(from, to, size), size);
          expect(rootFromSegment(from, to, size, leaves.slice(from, to), proof)).toEqual(root);
          const changed = leaves.slice(from, to);
          changed[0] = leafHash(Buffer.from('other'));
          expect(rootFromSegment(from, to, size, changed, proof)).not.toEqual(root);
          if (proof.length > 0) expect(() => rootFromSegment(from, to, size, leaves.slice(from, to), proof.slice(1))).toThrow(/too short/);
          expect(() => rootFromSegment(from, to, size, leaves.slice(from, to), [...proof, root])).toThrow(/too long/);
        }
      }
    }
  });
});

describe('inclusion proofs from a segment', () => {
  it('are the tree’s own PATH for every leaf of every segment', async () => {
    for (const size of [1, 2, 5, 8, 13, 64, 100]) {
      const leaves = Array.from({ length: size }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
      const store = new MemoryHashStore();
      store.append(leaves);
      for (let from = 0; from < size; from += Math.max(1, Math.floor(size / 6))) {
        for (let to = from + 1; to <= size; to += Math.max(1, Math.floor(size / 4))) {
          const proof = await nodeHashes(store, segmentProofRanges(from, to, size), size);
          for (let index = from; index < to; index++) {
            expect(inclusionFromSegment(from, to, size, leaves.slice(from, to), proof, index)).toEqual(await inclusionProof(store, index, size));
          }
          expect(() => inclusionFromSegment(from, to, size, leaves.slice(from, to), proof, to)).toThrow(/not in the segment/);
        }
      }
    }
  });
});
