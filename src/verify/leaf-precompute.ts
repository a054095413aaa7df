/**
 * The pure per-line work of verification, done ahead of the engine (in worker threads, leaf-pool.ts):
 * for each line of a batch that takes the engine's fast path — parseLeafLine reads it and
 * commitmentMatches holds — its index, its key and its leaf hash at that index. All are functions of
 * the line's bytes and the tenant only, computed with the engine's own functions, so the engine's
 * decisions are the same with or without them (bundle-verifier.ts `PrecomputedLeaf`; the tests hold
 * the reports equal). Lines that fail either step are marked and left to the engine.
 */
import type { PrecomputedLeaf } from './bundle-verifier.ts';
import type { LeafHasher } from './leaf-hasher.ts';
import { newLeafOffsets, parseLeafLine, type LeafOffsets } from './leaf-line.ts';
import { SHA256_SIZE } from '../ledger/crypto.ts';

/** Numbers kept per line: where its newline is, its index (−1: not on the fast path), where its hash and key end in `data`. */
const STRIDE = 3;

/** The results for one batch: a buffer of complete lines, each ended by a newline. */
export interface PrecomputedBatch {
  lines: number;
  /** STRIDE numbers per line, see above. */
  offsets: Float64Array<ArrayBuffer>;
  /** For each line on the fast path in turn: its 32-byte leaf hash, then its key. */
  data: Uint8Array<ArrayBuffer>;
}

/** Runs the fast path's pure steps over every line of `bytes` (complete lines only). */
export function precomputeBatch(bytes: Buffer, hasher: LeafHasher): PrecomputedBatch {
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) lines += 1;
  const offsets = new Float64Array(lines * STRIDE);
  // A key is shorter than its line unless the tenant id is long; the buffer grows if need be.
  let data: Buffer = scratch.length >= bytes.length + lines * SHA256_SIZE ? scratch : Buffer.allocUnsafe(bytes.length + lines * SHA256_SIZE);
  let at = 0;
  const f: LeafOffsets = newLeafOffsets();
  let start = 0;
  for (let line = 0; line < lines; line++) {
    const end = bytes.indexOf(0x0a, start);
    const o = line * STRIDE;
    offsets[o] = end;
    offsets[o + 1] = -1;
    if (parseLeafLine(bytes, start, end, f) && hasher.commitmentMatches(bytes, f)) {
      // The envelope is written there first: the key and its index digits.
      const needed = at + SHA256_SIZE + hasher.keyLength(f) + (f.indexEnd - f.indexStart);
      if (needed > data.length) data = grow(data, at, needed);
      const keyEnd = hasher.writeLeaf(bytes, f, data, at);
      offsets[o + 1] = f.index;
      at = keyEnd;
    }
    offsets[o + 2] = at;
    start = end + 1;
  }
  scratch = data;
  // A copy of what was written: the results travel to another thread, and the scratch buffer stays.
  return { lines, offsets, data: new Uint8Array(data.subarray(0, at)) };
}

/** Where the hashes and keys are written, reused from batch to batch. */
let scratch: Buffer = Buffer.alloc(0);

function grow(data: Buffer, used: number, needed: number): Buffer {
  const larger = Buffer.allocUnsafe(Math.max(needed, 2 * data.length));
  data.copy(larger, 0, 0, used);
  return larger;
}

/**
 * Reads a batch's results back line by line, for the engine. `leaf(i, end)` answers the precomputed
 * leaf of line i if it has one; it throws if line i does not end at `end` (the results would be of
 * other bytes).
 */
export class BatchReader {
  readonly #batch: PrecomputedBatch;
  readonly #data: Buffer;
  readonly #leaf: PrecomputedLeaf;

  constructor(batch: PrecomputedBatch, tenant: string) {
    this.#batch = batch;
    this.#data = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
    this.#leaf = { tenant, index: 0, key: this.#data, leafHash: this.#data };
  }

  get lines(): number {
    return this.#batch.lines;
  }

  /** Where line `line` ends: the offset of its newline. */
  end(line: number): number {
    return this.#batch.offsets[line * STRIDE]!;
  }

  /** The precomputed leaf of line `line` (ending at `end`), or undefined; the object is reused from call to call. */
  leaf(line: number, end: number): PrecomputedLeaf | undefined {
    const offsets = this.#batch.offsets;
    const o = line * STRIDE;
    if (line >= this.#batch.lines || offsets[o] !== end) throw new Error(`precomputed results out of step with the lines, at line ${line} of a batch`);
    const index = offsets[o + 1]!;
    if (index < 0) return undefined;
    const from = o === 0 ? 0 : offsets[o - 1]!;
    const leaf = this.#leaf;
    leaf.index = index;
    leaf.leafHash = this.#data.subarray(from, from + SHA256_SIZE);
    leaf.key = this.#data.subarray(from + SHA256_SIZE, offsets[o + 2]!);
    return leaf;
  }
}
