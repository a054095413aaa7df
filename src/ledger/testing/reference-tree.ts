/**
 * Test-only: RFC 9162 §2.1 taken literally (recursive MTH, PATH, SUBPROOF over the full leaf list),
 * as an independent oracle for the incremental and tile-based code under test.
 */
import { randomBytes } from 'node:crypto';
import { emptyRoot, leafHash, nodeHash } from '../hash.ts';
import type { HashReader } from '../proofs.ts';

/** Deterministic distinct leaf hashes 0..n-1. */
export function makeLeaves(n: number, tag = 'leaf'): Buffer[] {
  return Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${tag} ${i}`)));
}

/** n random 32-byte values standing in for leaf hashes (cheap, for big trees). */
export function randomLeaves(n: number): Buffer[] {
  const bytes = randomBytes(32 * n);
  return Array.from({ length: n }, (_, i) => bytes.subarray(32 * i, 32 * (i + 1)));
}

/** MTH(D[lo:hi]) over leaf hashes (RFC 9162 §2.1.1). */
export function mth(leaves: readonly Buffer[], lo = 0, hi = leaves.length): Buffer {
  if (hi - lo === 0) return emptyRoot();
  if (hi - lo === 1) return leaves[lo] as Buffer;
  const k = splitPoint(hi - lo);
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

/** hashes[level][index]: every perfect subtree of the tree, level by level (bottom-up pairing). */
export function perfectSubtrees(leaves: readonly Buffer[]): Buffer[][] {
  const levels = [[...leaves]];
  for (let below = levels[0] as Buffer[]; below.length >= 2; ) {
    const level = Array.from({ length: Math.floor(below.length / 2) }, (_, i) => nodeHash(below[2 * i] as Buffer, below[2 * i + 1] as Buffer));
    levels.push(level);
    below = level;
  }
  return levels;
}

/** PATH(m, D[lo:hi]) (RFC 9162 §2.1.3.1). */
export function path(m: number, leaves: readonly Buffer[], lo = 0, hi = leaves.length): Buffer[] {
  if (hi - lo <= 1) return [];
  const k = splitPoint(hi - lo);
  return m < k ? [...path(m, leaves, lo, lo + k), mth(leaves, lo + k, hi)] : [...path(m - k, leaves, lo + k, hi), mth(leaves, lo, lo + k)];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1). */
export function consistency(m: number, leaves: readonly Buffer[]): Buffer[] {
  return subproof(m, leaves, 0, leaves.length, true);
}

function subproof(m: number, leaves: readonly Buffer[], lo: number, hi: number, b: boolean): Buffer[] {
  if (m === hi - lo) return b ? [] : [mth(leaves, lo, hi)];
  const k = splitPoint(hi - lo);
  return m <= k ? [...subproof(m, leaves, lo, lo + k, b), mth(leaves, lo + k, hi)] : [...subproof(m - k, leaves, lo + k, hi, false), mth(leaves, lo, lo + k)];
}

/** The largest power of two smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Wraps a reader to check the proof code's discipline: it may only read tile levels (multiples of
 * 8) and only hashes that already existed when the tree had `size` leaves. Counts reads.
 */
export function strictReader(inner: HashReader, size: number): HashReader & { reads: number } {
  const reader = {
    reads: 0,
    async read(level: number, start: number, end: number): Promise<Buffer[]> {
      reader.reads += 1;
      if (level % 8 !== 0) throw new Error(`read of non-tile level ${level}`);
      if (start >= end || end * 2 ** level > size) throw new Error(`read of level ${level} [${start}, ${end}) beyond tree size ${size}`);
      return inner.read(level, start, end);
    },
  };
  return reader;
}
