/**
 * Verifying inclusion and consistency proofs exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 describe,
 * with the edge cases of transparency-dev/merkle's verifier (whose test vectors we run): every proof
 * hash must be 32 bytes, a proof must have exactly the expected length, equal sizes need an empty
 * proof and equal roots, and nothing is consistent with the empty tree.
 *
 * All inputs are attacker-controlled. Failures throw LedgerError PROOF_INVALID.
 */
import { LedgerError } from './errors.ts';
import { constantTimeEqual } from './crypto.ts';
import { isNatural } from './encoding.ts';
import { isHash, nodeHash } from './hash.ts';

/** Proves that `leafHash` is leaf `index` of the tree of `size` leaves whose root is `root`. */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  checkSize(index, 'leaf index');
  checkSize(size, 'tree size');
  checkHashes(leafHash, root, ...proof);
  if (index >= size) fail(`leaf index ${index} is not in a tree of size ${size}`);
  let r: Buffer = Buffer.from(leafHash);
  walkPath(index, size - 1, proof, 'inclusion', (p, isLeft) => {
    r = isLeft ? nodeHash(p, r) : nodeHash(r, p);
  });
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
  // Steps 2–5: the path starts at the old tree's last full subtree, which is root1 itself when
  // size1 is a power of two; fr rebuilds root1 from the left siblings only, sr rebuilds root2.
  const [seed, ...path] = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let [fn, sn] = [size1 - 1, size2 - 1];
  while (fn % 2 === 1) [fn, sn] = [half(fn), half(sn)];
  let fr: Buffer = Buffer.from(seed as Uint8Array);
  let sr = fr;
  walkPath(fn, sn, path, 'consistency', (c, isLeft) => {
    if (isLeft) [fr, sr] = [nodeHash(c, fr), nodeHash(c, sr)];
    else sr = nodeHash(sr, c);
  });
  if (!constantTimeEqual(fr, root1)) fail('consistency proof does not lead to the first root');
  if (!constantTimeEqual(sr, root2)) fail('consistency proof does not lead to the second root');
}

/**
 * The loop shared by both verifications: for each proof hash, whether it is a left sibling (LSB(fn)
 * set, or fn = sn on the right border, after which fn and sn shift to the next set bit of fn),
 * then one level up. The proof must end exactly at the root (sn = 0).
 */
function walkPath(fn: number, sn: number, proof: readonly Uint8Array[], kind: string, step: (hash: Uint8Array, isLeft: boolean) => void): void {
  for (const hash of proof) {
    if (sn === 0) fail(`${kind} proof is too long`);
    const isLeft = fn % 2 === 1 || fn === sn;
    step(hash, isLeft);
    if (isLeft) while (fn % 2 === 0 && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    [fn, sn] = [half(fn), half(sn)];
  }
  if (sn !== 0) fail(`${kind} proof is too short`);
}

// Tree sizes go up to 2^53 - 1, beyond JavaScript's 32-bit bitwise operators: bits by arithmetic.

function half(n: number): number {
  return Math.floor(n / 2);
}

function isPowerOfTwo(n: number): boolean {
  let rest = n;
  while (rest > 1 && rest % 2 === 0) rest /= 2;
  return rest === 1;
}

function checkSize(value: number, what: string): void {
  if (!isNatural(value)) fail(`${what} must be a non-negative integer`);
}

function checkHashes(...hashes: Uint8Array[]): void {
  if (!hashes.every(isHash)) fail('every hash must be 32 bytes');
}

function fail(message: string): never {
  throw new LedgerError('PROOF_INVALID', message);
}
