/**
 * Verifying inclusion and consistency proofs exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 describe,
 * with the edge cases of transparency-dev/merkle's verifier (whose test vectors we run): every hash
 * must be 32 bytes, a proof must have exactly the expected length, equal sizes need an empty proof
 * and equal roots, and nothing is consistent with the empty tree.
 *
 * All inputs are attacker-controlled. Failures throw TrailproofError LEDGER_PROOF_INVALID.
 */
import { TrailproofError } from '../errors.ts';
import { constantTimeEqual } from './crypto.ts';
import { isHash, nodeHash } from './hash.ts';

/** Proves that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`. */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  checkSize(index, 'leaf index');
  checkSize(size, 'tree size');
  checkHashes(leafHash, root, ...proof);
  if (index >= size) fail(`leaf index ${index} is not in a tree of size ${size}`);
  let [fn, sn] = [index, size - 1];
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) fail('inclusion proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      [fn, sn] = shiftToOddOrZero(fn, sn);
    } else {
      r = nodeHash(r, p);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) fail('inclusion proof is too short');
  if (!constantTimeEqual(r, root)) fail('inclusion proof does not lead to the root');
}

/** Proves that the tree of `size1` leaves with `root1` is a prefix of the tree of `size2` with `root2`. */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  checkSize(size1, 'first tree size');
  checkSize(size2, 'second tree size');
  checkHashes(...proof);
  if (size1 > size2) fail(`tree size ${size1} is larger than ${size2}`);
  if (size1 === 0) fail('a consistency proof from the empty tree is meaningless');
  if (size1 === size2) {
    // Roots are only compared here, whatever their length (transparency-dev/merkle vector
    // "sizes are equal (one) and proof is empty" uses 12-byte roots and must verify).
    if (proof.length > 0) fail('trees of equal size need an empty consistency proof');
    if (!constantTimeEqual(root1, root2)) fail('trees of equal size have different roots');
    return;
  }
  checkHashes(root1, root2);
  if (proof.length === 0) fail('consistency proof is empty');
  const [seed, ...rest] = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let [fn, sn] = shiftToEven(size1 - 1, size2 - 1);
  let fr: Buffer = Buffer.from(seed as Uint8Array);
  let sr = fr;
  for (const c of rest) {
    if (sn === 0) fail('consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      [fn, sn] = shiftToOddOrZero(fn, sn);
    } else {
      sr = nodeHash(sr, c);
    }
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) fail('consistency proof is too short');
  if (!constantTimeEqual(fr, root1)) fail('consistency proof does not lead to the first root');
  if (!constantTimeEqual(sr, root2)) fail('consistency proof does not lead to the second root');
}

// Tree sizes go up to 2^53 - 1, beyond JavaScript's 32-bit bitwise operators: bits by arithmetic.

/** Right-shifts both until LSB(fn) is set or fn is 0 (a no-op when LSB(fn) is already set). */
function shiftToOddOrZero(fn: number, sn: number): [number, number] {
  while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
  return [fn, sn];
}

/** Right-shifts both until LSB(fn) is not set. */
function shiftToEven(fn: number, sn: number): [number, number] {
  while (fn % 2 === 1) [fn, sn] = [half(fn), half(sn)];
  return [fn, sn];
}

function half(n: number): number {
  return Math.floor(n / 2);
}

function isPowerOfTwo(n: number): boolean {
  let rest = n;
  while (rest > 1 && rest % 2 === 0) rest /= 2;
  return rest === 1;
}

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) fail(`${what} must be a non-negative integer`);
}

function checkHashes(...hashes: Uint8Array[]): void {
  if (!hashes.every(isHash)) fail('every hash must be 32 bytes');
}

function fail(message: string): never {
  throw new TrailproofError('LEDGER_PROOF_INVALID', message);
}
