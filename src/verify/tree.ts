/**
 * RFC 6962 tree building for verification: the TreeBuilder of src/ledger/merkle.ts (frontier of
 * perfect subtrees, RFC 9162 §2.1.1), reporting every completed subtree so the self-audit can
 * compare stored tile hashes. The frontier lives in one buffer, a 32-byte slot per subtree, so a
 * push allocates nothing.
 */
import { emptyRoot, HASH_SIZE, nodeHash } from '../ledger/hash.ts';
import { foldRight, type TreeNode } from '../ledger/merkle.ts';

/** Slots for every subtree of a tree of up to 2^64 leaves, and one being merged. */
const SLOTS = 65;

export class VerifyingTree {
  readonly #slots = Buffer.alloc(SLOTS * HASH_SIZE);
  readonly #onNode: ((node: TreeNode) => void) | undefined;
  #size = 0;
  /** Slots in use: popcount(size). */
  #used = 0;

  constructor(onNode?: (node: TreeNode) => void) {
    this.#onNode = onNode;
  }

  /** A tree continuing from `size` leaves with that frontier (largest subtree first). */
  static from(size: number, frontier: readonly Buffer[], onNode?: (node: TreeNode) => void): VerifyingTree {
    const tree = new VerifyingTree(onNode);
    frontier.forEach((hash, i) => hash.copy(tree.#slots, i * HASH_SIZE));
    tree.#size = size;
    tree.#used = frontier.length;
    return tree;
  }

  get size(): number {
    return this.#size;
  }

  push(leafHash: Uint8Array): void {
    const size = this.#size;
    let slot = this.#used;
    let hash: Uint8Array = leafHash;
    let level = 0;
    for (let rest = size; rest % 2 === 1; rest = (rest - 1) / 2) {
      slot -= 1;
      const merged = nodeHash(this.#slot(slot), hash);
      level += 1;
      this.#onNode?.({ level, index: (rest - 1) / 2, hash: merged });
      hash = merged;
    }
    this.#slots.set(hash, slot * HASH_SIZE);
    this.#used = slot + 1;
    this.#size = size + 1;
  }

  /** MTH of the leaves so far: the frontier folded right to left. */
  root(): Buffer {
    return foldRight(this.frontier()) ?? emptyRoot();
  }

  /** The frontier's hashes, largest subtree first (copies). */
  frontier(): Buffer[] {
    return Array.from({ length: this.#used }, (_, i) => Buffer.from(this.#slot(i)));
  }

  #slot(i: number): Buffer {
    return this.#slots.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }
}
