import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyRoot, leafHash } from './hash.ts';
import { appendLeaves, popCount, rootFromFrontier, rootFromLeaves, TreeBuilder } from './merkle.ts';
import type { TreeNode } from './merkle.ts';
import { expectCode } from './testing/expect-code.ts';
import { makeLeaves, mth, perfectSubtrees } from './testing/reference-tree.ts';

// Leaves and roots of the RFC 6962 reference tree in transparency-dev/merkle's proof tests.
const LEAF_DATA = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const REFERENCE_LEAVES = LEAF_DATA.map((hex) => leafHash(Buffer.from(hex, 'hex')));

/** Splits n leaves into consecutive batches at the given cut points. */
function batches<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  return [0, ...points].map((from, i) => items.slice(from, points[i] ?? items.length));
}

describe('tree building', () => {
  it('matches the RFC 6962 reference roots for every prefix', () => {
    ROOTS.forEach((root, i) => expect(rootFromLeaves(REFERENCE_LEAVES.slice(0, i + 1)).toString('hex')).toBe(root));
    expect(rootFromLeaves([]).equals(emptyRoot())).toBe(true);
  });

  it('computes the same root as the recursive MTH for any size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), (n) => {
        const leaves = makeLeaves(n);
        const builder = new TreeBuilder();
        leaves.forEach((leaf) => builder.push(leaf));
        expect(builder.size).toBe(n);
        expect(builder.root().equals(mth(leaves))).toBe(true);
        expect(rootFromFrontier(n, builder.frontier()).equals(mth(leaves))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('appends in arbitrary batches: roots, frontiers and completed subtrees are exact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.array(fc.nat(), { maxLength: 6 }), (n, cuts) => {
        const leaves = makeLeaves(n);
        let [size, frontier] = [0, [] as Buffer[]];
        const nodes: TreeNode[] = [];
        for (const batch of batches(leaves, cuts)) {
          const result = appendLeaves(size, frontier, batch);
          [size, frontier] = [result.size, result.frontier];
          nodes.push(...result.nodes);
          expect(result.root.equals(mth(leaves, 0, size))).toBe(true);
          expect(frontier).toHaveLength(popCount(size));
        }
        expect(size).toBe(n);
        // Every perfect subtree of level ≥ 1 completed exactly once, with its true hash.
        const truth = perfectSubtrees(leaves);
        expect(nodes).toHaveLength(n - popCount(n));
        const seen = new Set<string>();
        for (const { level, index, hash } of nodes) {
          expect(level).toBeGreaterThanOrEqual(1);
          expect(truth[level]?.[index]?.equals(hash)).toBe(true);
          seen.add(`${level}/${index}`);
        }
        expect(seen.size).toBe(nodes.length);
      }),
      { numRuns: 60 },
    );
  });

  it('does not modify the frontier it is given', () => {
    const first = appendLeaves(0, [], makeLeaves(3));
    const copy = [...first.frontier];
    appendLeaves(first.size, first.frontier, makeLeaves(5, 'more'));
    expect(first.frontier).toEqual(copy);
  });

  it('rejects a frontier that does not match the tree size', () => {
    const { frontier } = appendLeaves(0, [], makeLeaves(5));
    expectCode('INVALID_ARGUMENT', () => rootFromFrontier(7, frontier));
    expectCode('INVALID_ARGUMENT', () => appendLeaves(4, frontier, []));
    expectCode('INVALID_ARGUMENT', () => appendLeaves(5, [Buffer.alloc(32), Buffer.alloc(31)], []));
    expectCode('INVALID_ARGUMENT', () => appendLeaves(0, [], [Buffer.alloc(20)]));
    expectCode('INVALID_ARGUMENT', () => rootFromFrontier(-1, []));
  });
});
