/**
 * Building an RFC 6962 Merkle tree incrementally (RFC 9162 §2.1.1) from its right-edge frontier:
 * the roots of the perfect subtrees that make up the tree, one per set bit of its size, largest
 * first (the "compact range" [0, size) of transparency-dev/merkle). The frontier is all a writer
 * keeps to append leaves and compute the new root.
 */
import { LedgerError } from './errors.ts';
import { isNatural } from './encoding.ts';
import { emptyRoot, isHash, nodeHash } from './hash.ts';

/** Roots of the perfect subtrees of the tree, largest (leftmost) first: one per set bit of size. */
export type Frontier = Buffer[];

/** The hash of a perfect subtree: the one covering leaves [index·2^level, (index+1)·2^level). */
export interface TreeNode {
  level: number;
  index: number;
  hash: Buffer;
}

export interface AppendResult {
  size: number;
  frontier: Frontier;
  root: Buffer;
  /**
   * Every perfect subtree (level ≥ 1) that the appended leaves completed, in completion order.
   * The store keeps those at levels that are multiples of 8: the hashes of C2SP tlog tiles.
   */
  nodes: TreeNode[];
}

/** Appends `leafHashes` to the tree of `size` leaves whose frontier is `frontier` (left untouched). */
export function appendLeaves(size: number, frontier: readonly Buffer[], leafHashes: readonly Buffer[]): AppendResult {
  checkFrontier(size, frontier);
  const next = [...frontier];
  const nodes: TreeNode[] = [];
  let newSize = size;
  for (const leaf of leafHashes) {
    if (!isHash(leaf)) throw new LedgerError('INVALID_ARGUMENT', 'leaf hashes must be 32 bytes');
    appendLeaf(next, newSize, leaf, (node) => nodes.push(node));
    newSize += 1;
  }
  return { size: newSize, frontier: next, root: foldRight(next) ?? emptyRoot(), nodes };
}

/** MTH of the tree of `size` leaves with that frontier: the frontier folded right to left. */
export function rootFromFrontier(size: number, frontier: readonly Buffer[]): Buffer {
  checkFrontier(size, frontier);
  return foldRight(frontier) ?? emptyRoot();
}

/** Streaming MTH of a sequence of leaf hashes, in memory proportional to log2(size). */
export class TreeBuilder {
  readonly #frontier: Buffer[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(leafHash: Buffer): void {
    if (!isHash(leafHash)) throw new LedgerError('INVALID_ARGUMENT', 'leaf hashes must be 32 bytes');
    appendLeaf(this.#frontier, this.#size, leafHash);
    this.#size += 1;
  }

  root(): Buffer {
    return foldRight(this.#frontier) ?? emptyRoot();
  }

  frontier(): Frontier {
    return [...this.#frontier];
  }
}

/** MTH over `leafHashes` (RFC 9162 §2.1.1). Equally, the hash of a perfect subtree from its children. */
export function rootFromLeaves(leafHashes: Iterable<Buffer>): Buffer {
  const builder = new TreeBuilder();
  for (const leaf of leafHashes) builder.push(leaf);
  return builder.root();
}

/**
 * MTH of a perfect subtree given its 2^k leaf-level hashes: pairwise, level by level (what
 * `rootFromLeaves` computes, without a frontier; proofs recompute hundreds of these per request).
 */
export function perfectRoot(hashes: readonly Buffer[]): Buffer {
  const n = hashes.length;
  if (n === 0 || (n & (n - 1)) !== 0) throw new LedgerError('INVALID_ARGUMENT', `a perfect subtree has 2^k hashes, not ${n}`);
  let level = hashes;
  while (level.length > 1) level = parentLevel(level);
  return level[0]!;
}

/** The hashes of the nodes one level up from `hashes` (pairs from the first; an odd last one has no parent here). */
export function parentLevel(hashes: readonly Buffer[]): Buffer[] {
  const next: Buffer[] = new Array(Math.floor(hashes.length / 2));
  for (let i = 0; i < next.length; i++) next[i] = nodeHash(hashes[2 * i]!, hashes[2 * i + 1]!);
  return next;
}

/**
 * MTH of a range from its decomposition into perfect subtrees, largest first: each is the left
 * child of the node joining it to everything on its right (RFC 9162 §2.1.1, k = largest power of
 * two below n). Undefined for no subtrees.
 */
export function foldRight(subtrees: readonly Buffer[]): Buffer | undefined {
  let acc = subtrees.at(-1);
  for (let i = subtrees.length - 2; i >= 0 && acc; i--) acc = nodeHash(subtrees[i] as Buffer, acc);
  return acc;
}

/** Number of set bits of a non-negative safe integer. */
export function popCount(n: number): number {
  let count = 0;
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/**
 * Appends one leaf at index `size`: every trailing 1 bit of `size` is a perfect subtree that the
 * leaf's subtree now completes into one twice as large.
 */
function appendLeaf(frontier: Buffer[], size: number, leaf: Buffer, onNode?: (node: TreeNode) => void): void {
  let hash = leaf;
  let level = 0;
  for (let rest = size; rest % 2 === 1; ) {
    const left = frontier.pop();
    if (!left) throw new LedgerError('INVALID_ARGUMENT', 'frontier is shorter than the tree size requires');
    hash = nodeHash(left, hash);
    level += 1;
    rest = (rest - 1) / 2;
    onNode?.({ level, index: rest, hash });
  }
  frontier.push(hash);
}

function checkFrontier(size: number, frontier: readonly Buffer[]): void {
  if (!isNatural(size)) throw new LedgerError('INVALID_ARGUMENT', 'tree size must be a non-negative safe integer');
  if (frontier.length !== popCount(size) || !frontier.every(isHash)) {
    throw new LedgerError('INVALID_ARGUMENT', `frontier must hold one 32-byte hash per set bit of the tree size ${size}`);
  }
}
