/**
 * RFC 6962 tree building for verification: the TreeBuilder of src/ledger/merkle.ts (frontier of
 * perfect subtrees, RFC 9162 §2.1.1), reporting every completed subtree so the self-audit can
 * compare stored tile hashes.
 */
import { emptyRoot, nodeHash } from '../ledger/hash.ts';
import { foldRight, type TreeNode } from '../ledger/merkle.ts';

export class VerifyingTree {
  readonly #frontier: Buffer[] = [];
  readonly #onNode: ((node: TreeNode) => void) | undefined;
  #size = 0;

  constructor(onNode?: (node: TreeNode) => void) {
    this.#onNode = onNode;
  }

  /** A tree continuing from `size` leaves with that frontier (largest subtree first). */
  static from(size: number, frontier: readonly Buffer[], onNode?: (node: TreeNode) => void): VerifyingTree {
    const tree = new VerifyingTree(onNode);
    tree.#frontier.push(...frontier);
    tree.#size = size;
    return tree;
  }

  get size(): number {
    return this.#size;
  }

  push(leafHash: Buffer): void {
    let hash = leafHash;
    let level = 0;
    for (let rest = this.#size; rest % 2 === 1; rest = (rest - 1) / 2) {
      hash = nodeHash(this.#frontier.pop()!, hash);
      level += 1;
      this.#onNode?.({ level, index: (rest - 1) / 2, hash });
    }
    this.#frontier.push(hash);
    this.#size += 1;
  }

  /** MTH of the leaves so far: the frontier folded right to left. */
  root(): Buffer {
    return foldRight(this.#frontier) ?? emptyRoot();
  }

  frontier(): Buffer[] {
    return [...this.#frontier];
  }
}
