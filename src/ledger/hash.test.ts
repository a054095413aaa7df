import { describe, expect, it } from 'vitest';
import { emptyRoot, isHash, leafHash, nodeHash } from './hash.ts';

// Known answers from transparency-dev/merkle's RFC 6962 tests (leaves "" and 0x00).
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const LEAF_EMPTY = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d';
const ROOT_OF_TWO = 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125';

describe('RFC 6962 hashing', () => {
  it('hashes the empty tree, a leaf and a node with domain separation', () => {
    expect(emptyRoot().toString('hex')).toBe(EMPTY);
    expect(leafHash(Buffer.alloc(0)).toString('hex')).toBe(LEAF_EMPTY);
    expect(nodeHash(leafHash(Buffer.alloc(0)), leafHash(Buffer.from([0x00]))).toString('hex')).toBe(ROOT_OF_TWO);
  });

  it('never lets a leaf be read as a node', () => {
    const [a, b] = [leafHash(Buffer.from('a')), leafHash(Buffer.from('b'))];
    expect(leafHash(Buffer.concat([a, b])).equals(nodeHash(a, b))).toBe(false);
  });

  it('recognises hash-sized byte strings only', () => {
    expect(isHash(emptyRoot())).toBe(true);
    expect(isHash(Buffer.alloc(31))).toBe(false);
    expect(isHash('x'.repeat(32))).toBe(false);
  });
});
