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
  return segmentTree(from, to, size, leafHashes, proof).node(0, size);
}

/**
 * PATH(index, D[size]) (RFC 9162 §2.1.3.1) of a leaf of the segment, from the segment alone: each
 * sibling on the path either lies wholly outside the segment (then it is a proof hash) or is
 * computed from the segment's leaves and proof hashes.
 */
export function inclusionFromSegment(from: number, to: number, size: number, leafHashes: readonly Buffer[], proof: readonly Buffer[], index: number): Buffer[] {
  if (!(Number.isSafeInteger(index) && from <= index && index < to))
    throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `leaf ${index} is not in the segment [${from}, ${to})`);
  const tree = segmentTree(from, to, size, leafHashes, proof);
  const path = (lo: number, hi: number): Buffer[] => {
    if (hi - lo === 1) return [];
    const k = largestPowerOfTwoBelow(hi - lo);
    return index < lo + k ? [...path(lo, lo + k), tree.node(lo + k, hi)] : [...path(lo + k, hi), tree.node(lo, lo + k)];
  };
  return path(0, size);
}

/** The hash of any node [lo, hi) of the tree of `size`, from the segment's leaves and proof; checks the proof's length first. */
function segmentTree(from: number, to: number, size: number, leafHashes: readonly Buffer[], proof: readonly Buffer[]) {
  check(from, to, size);
  if (leafHashes.length !== to - from) throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `the segment has ${leafHashes.length} leaves, not ${to - from}`);
  const ranges = segmentProofRanges(from, to, size);
  if (proof.length < ranges.length) throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', 'the segment proof is too short');
  if (proof.length > ranges.length) throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', 'the segment proof is too long');
  const outside = new Map(ranges.map(([lo, hi], i) => [`${lo}-${hi}`, proof[i]!]));
  const node = (lo: number, hi: number): Buffer => {
    const known = outside.get(`${lo}-${hi}`);
    if (known) return known;
    if (hi <= from || lo >= to) throw new TrailproofError('INTERNAL', `node [${lo}, ${hi}) lies outside the segment and is not a proof hash`);
    if (hi - lo === 1) return leafHashes[lo - from]!;
    const k = largestPowerOfTwoBelow(hi - lo);
    return nodeHash(node(lo, lo + k), node(lo + k, hi));
  };
  return { node };
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
