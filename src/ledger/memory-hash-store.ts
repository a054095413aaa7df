/**
 * An in-memory tree that keeps exactly what the database keeps: the leaf hashes and the
 * perfect-subtree hashes at tile levels (8, 16, …), nothing else. The reference HashReader for
 * tests, and for building proofs offline from an export bundle.
 */
import { LedgerError } from './errors.ts';
import { appendLeaves } from './merkle.ts';
import type { AppendResult, Frontier } from './merkle.ts';
import type { HashReader } from './proofs.ts';
import { TILE_HEIGHT } from './tiles.ts';

export class MemoryHashStore implements HashReader {
  /** levels[8k][i]: the hash of perfect subtree i at level 8k. */
  readonly #levels = new Map<number, Buffer[]>();
  #size = 0;
  #frontier: Frontier = [];

  get size(): number {
    return this.#size;
  }

  append(leafHashes: readonly Buffer[]): AppendResult {
    const result = appendLeaves(this.#size, this.#frontier, leafHashes);
    const leaves = this.#level(0);
    for (const leaf of leafHashes) leaves.push(leaf);
    for (const node of result.nodes) {
      if (node.level % TILE_HEIGHT === 0) this.#level(node.level)[node.index] = node.hash;
    }
    this.#size = result.size;
    this.#frontier = result.frontier;
    return result;
  }

  async read(level: number, start: number, end: number): Promise<Buffer[]> {
    const hashes = this.#levels.get(level) ?? [];
    if (level % TILE_HEIGHT !== 0 || start < 0 || start > end || end > hashes.length) {
      throw new LedgerError('INVALID_ARGUMENT', `no stored hashes at level ${level} [${start}, ${end})`);
    }
    return hashes.slice(start, end);
  }

  #level(level: number): Buffer[] {
    const hashes = this.#levels.get(level) ?? [];
    this.#levels.set(level, hashes);
    return hashes;
  }
}
