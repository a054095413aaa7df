/**
 * The proof that a segment's leaves [from, to) are exactly those leaves of a tree of `size`: the
 * hashes of the tree's nodes that lie wholly outside the segment, in the order the RFC 9162 §2.1.1
 * recursion (MTH splits at the largest power of two below the width) meets them. With them and the
 * segment's leaf hashes a verifier recomputes the root and compares it with a signed checkpoint's:
 * O(log size) hashes, however long the segment.
 */
import { TrailproofError } from '../../errors.ts';
import { nodeHash } from '../../ledger/hash.ts';

export type LeafRange = readonly [start: number, end: number];

/** The ranges of the proof's hashes, in order. */
export function segmentProofRanges(from: number, to: number, size: number): LeafRange[] {
  check(from, to, size);
  const out: LeafRange[] = [];
  const visit = (lo: number, hi: number): void => {
    if (hi <= from || lo >= to) out.push([lo, hi]);
    else if (lo >= from && hi <= to) return;
    else {
      const k = largestPowerOfTwoBelow(hi - lo);
      visit(lo, lo + k);
      visit(lo + k, hi);
    }
  };
  visit(0, size);
  return out;
}

/** The root of the tree of `size` from the segment's leaf hashes (leaves [from, to)) and its proof. Throws if the proof has the wrong length. */
export function rootFromSegment(from: number, to: number, size: number, leafHashes: readonly Buffer[], proof: readonly Buffer[]): Buffer {
  check(from, to, size);
  if (leafHashes.length !== to - from) throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `the segment has ${leafHashes.length} leaves, not ${to - from}`);
  let next = 0;
  const root = (lo: number, hi: number): Buffer => {
    if (hi <= from || lo >= to) {
      const hash = proof[next++];
      if (!hash) throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', 'the segment proof is too short');
      return hash;
    }
    if (hi - lo === 1) return leafHashes[lo - from]!;
    const k = largestPowerOfTwoBelow(hi - lo);
    return nodeHash(root(lo, lo + k), root(lo + k, hi));
  };
  const result = root(0, size);
  if (next !== proof.length) throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', 'the segment proof is too long');
  return result;
}

function check(from: number, to: number, size: number): void {
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && Number.isSafeInteger(size) && 0 <= from && from < to && to <= size)) {
    throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `a segment covers 0 <= from < to <= size, not [${from}, ${to}) of ${size}`);
  }
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
