import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TreeBuilder, type TreeNode } from '../ledger/merkle.ts';
import { VerifyingTree } from './tree.ts';

const leaf = (i: number) => createHash('sha256').update(`leaf ${i}`).digest();

describe('VerifyingTree', () => {
  it("has the ledger library's root and frontier at every size, reporting nodes or not", () => {
    const reference = new TreeBuilder();
    const reporting = new VerifyingTree(() => {});
    const quiet = new VerifyingTree();
    for (let i = 0; i < 700; i++) {
      for (const tree of [reporting, quiet]) tree.push(leaf(i));
      reference.push(leaf(i));
      for (const tree of [reporting, quiet]) {
        expect(tree.size).toBe(reference.size);
        expect(tree.root()).toEqual(reference.root());
      }
      expect(quiet.frontier()).toEqual(reporting.frontier());
    }
  });

  it('continues from a frontier, and reports each completed subtree once', () => {
    const nodes: TreeNode[] = [];
    const whole = new VerifyingTree();
    for (let i = 0; i < 300; i++) whole.push(leaf(i));
    const first = new VerifyingTree();
    for (let i = 0; i < 131; i++) first.push(leaf(i));
    const rest = VerifyingTree.from(first.size, first.frontier(), (node) => nodes.push(node));
    for (let i = 131; i < 300; i++) rest.push(leaf(i));
    expect(rest.root()).toEqual(whole.root());
    // Leaves 131..299 complete the subtrees ending at 132, 134, ..., 300 at each level: 168 nodes.
    expect(nodes).toHaveLength(168);
    expect(nodes.find((n) => n.level === 8)).toMatchObject({ index: 0 });
  });
});
