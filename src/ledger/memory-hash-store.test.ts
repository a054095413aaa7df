import { testHashReader } from '../../test/contract/hash-reader-contract.ts';
import { MemoryHashStore } from './memory-hash-store.ts';
import { makeLeaves } from './testing/reference-tree.ts';

testHashReader('MemoryHashStore', async (n) => {
  const leaves = makeLeaves(n);
  const reader = new MemoryHashStore();
  reader.append(leaves);
  return { reader, leaves };
});
