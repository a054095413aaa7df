/**
 * RFC 6962 tree building for verification: the TreeBuilder of src/ledger/merkle.ts (frontier of
 * perfect subtrees, RFC 9162 §2.1.1), hashing interior nodes in one reusable 65-byte buffer, and
 * reporting every completed subtree so the self-audit can compare stored tile hashes.
 */
import { sha256 } from '../ledger/crypto.ts';
import { emptyRoot } from '../ledger/hash.ts';
import type { TreeNode } from '../ledger/merkle.ts';

export class VerifyingTree {
  readonly #frontier: Buffer[] = [];
  readonly #node = Buffer.allocUnsafe(65);
  readonly #onNode: ((node: TreeNode) => void) | undefined;
  #size = 0;

  constructor(onNode?: (node: TreeNode) => void) {
    this.#onNode = onNode;
    this.#node[0] = 0x01;
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
      hash = this.#nodeHash(this.#frontier.pop()!, hash);
      level += 1;
      this.#onNode?.({ level, index: (rest - 1) / 2, hash });
    }
    this.#frontier.push(hash);
    this.#size += 1;
  }

  /** MTH of the leaves so far: the frontier folded right to left. */
  root(): Buffer {
    let acc = this.#frontier.at(-1);
    if (!acc) return emptyRoot();
    for (let i = this.#frontier.length - 2; i >= 0; i--) acc = this.#nodeHash(this.#frontier[i]!, acc);
    return acc;
  }

  frontier(): Buffer[] {
    return [...this.#frontier];
  }

  #nodeHash(left: Buffer, right: Buffer): Buffer {
    left.copy(this.#node, 1);
    right.copy(this.#node, 33);
    return sha256(this.#node);
  }
}
