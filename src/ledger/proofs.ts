/**
 * Generating inclusion and consistency proofs (RFC 9162 §2.1.3.1 PATH, §2.1.4.1 SUBPROOF) from a
 * store that keeps only the tile levels of the tree: leaf hashes (level 0) and the perfect-subtree
 * hashes at levels 8, 16, … (c2sp.org/tlog-tiles). A hash at any other level is recomputed from the
 * at most 128 stored hashes below it, which always lie in one tile; every proof therefore costs one
 * read per tile it touches (a handful even for trees of billions of leaves), issued together.
 */
import { LedgerError } from './errors.ts';
import { isNatural } from './encoding.ts';
import { emptyRoot, isHash } from './hash.ts';
import { foldRight, parentLevel, perfectRoot } from './merkle.ts';
import { TILE_HEIGHT, TILE_WIDTH } from './tiles.ts';

/** A run of perfect-subtree hashes at one tree level: indices [start, end). */
export interface HashRange {
  level: number;
  start: number;
  end: number;
}

/** Where proofs read the tree from. Trailproof only asks for levels that are multiples of 8. */
export interface HashReader {
  /**
   * The hashes of the perfect subtrees at `level` with indices [start, end), in order: at level 0 the
   * leaf hashes, at level l the hash of leaves [i·2^l, (i+1)·2^l). Every one asked for exists.
   */
  read(level: number, start: number, end: number): Promise<Buffer[]>;
  /** Optional: several ranges in one round trip. Default: `read` for each range, concurrently. */
  readMany?(ranges: readonly HashRange[]): Promise<Buffer[][]>;
  /**
   * Optional: remembers recomputed hashes. A perfect subtree never changes once complete, so a hash
   * computed once stays right for every later proof of the same tree.
   */
  cache?: NodeCache;
}

/** Hashes of perfect subtrees (level, index) of one tree, computed before. */
export interface NodeCache {
  get(level: number, index: number): Buffer | undefined;
  set(level: number, index: number, hash: Buffer): void;
}

/** PATH(index, D[size]): the inclusion proof of leaf `index` in the tree of `size` leaves. */
export async function inclusionProof(reader: HashReader, index: number, size: number): Promise<Buffer[]> {
  checkSize(size, 'tree size');
  checkSize(index, 'leaf index');
  if (index >= size) throw new LedgerError('OUT_OF_RANGE', `leaf index ${index} is not in a tree of size ${size}`);
  return rangeHashes(reader, inclusionRanges(index, size), size);
}

/** PROOF(size1, D[size2]): the consistency proof between trees of `size1` ≤ `size2` leaves. */
export async function consistencyProof(reader: HashReader, size1: number, size2: number): Promise<Buffer[]> {
  checkSize(size1, 'first tree size');
  checkSize(size2, 'second tree size');
  if (size1 > size2) throw new LedgerError('OUT_OF_RANGE', `tree size ${size1} is larger than ${size2}`);
  // Matches the verifier: nothing can be proven about the empty tree (transparency-dev/merkle).
  if (size1 === 0) throw new LedgerError('OUT_OF_RANGE', 'a consistency proof from the empty tree is meaningless');
  return rangeHashes(reader, consistencyRanges(size1, size2), size2);
}

/** MTH(D[size]): the root of the tree when it had `size` leaves. */
export async function rootAt(reader: HashReader, size: number): Promise<Buffer> {
  checkSize(size, 'tree size');
  if (size === 0) return emptyRoot();
  const [root] = await rangeHashes(reader, [[0, size]], size);
  return root as Buffer;
}

/** MTH(D[start:end]) of each leaf range, every range a node of the tree of `size` leaves (RFC 9162 §2.1.1 split). */
export async function nodeHashes(reader: HashReader, ranges: readonly LeafRange[], size: number): Promise<Buffer[]> {
  checkSize(size, 'tree size');
  return rangeHashes(reader, ranges, size);
}

/** A leaf range [start, end) whose MTH is one proof hash. */
type LeafRange = readonly [start: number, end: number];

/** RFC 9162 §2.1.3.1, unrolled: the ranges of the PATH hashes, from the leaf's sibling up. */
function inclusionRanges(index: number, size: number): LeafRange[] {
  const path: LeafRange[] = [];
  let [lo, hi] = [0, size];
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      path.push([lo + k, hi]);
      hi = lo + k;
    } else {
      path.push([lo, lo + k]);
      lo += k;
    }
  }
  return path.reverse();
}

/**
 * RFC 9162 §2.1.4.1, unrolled: SUBPROOF(m, D[lo:hi], b) recurses into one half per step until the
 * old tree fills the range (hi = m); that range's own hash is needed unless it is a whole subtree of
 * the old tree (b, i.e. the recursion never went right), which the verifier has as root1.
 */
function consistencyRanges(size1: number, size2: number): LeafRange[] {
  const proof: LeafRange[] = [];
  let [lo, hi] = [0, size2];
  let knownToVerifier = true;
  while (hi !== size1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (size1 - lo <= k) {
      proof.push([lo + k, hi]);
      hi = lo + k;
    } else {
      proof.push([lo, lo + k]);
      lo += k;
      knownToVerifier = false;
    }
  }
  if (!knownToVerifier) proof.push([lo, hi]);
  return proof.reverse();
}

/** The MTH of each range of the tree of `size` leaves, from the perfect subtrees that cover it (all reads issued at once). */
async function rangeHashes(reader: HashReader, ranges: readonly LeafRange[], size: number): Promise<Buffer[]> {
  const cover = ranges.map(([start, end]) => perfectSubtrees(start, end));
  const hashes = await readNodes(reader, cover.flat(), size);
  let next = 0;
  return cover.map((nodes) => foldRight(hashes.slice(next, (next += nodes.length))) as Buffer);
}

interface NodeId {
  level: number;
  index: number;
}

/** [start, end) as maximal aligned perfect subtrees, left to right (a compact range). */
function perfectSubtrees(start: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  for (let at = start; at < end; ) {
    let [level, width] = [0, 1];
    while (at % (width * 2) === 0 && at + width * 2 <= end) [level, width] = [level + 1, width * 2];
    nodes.push({ level, index: at / width });
    at += width;
  }
  return nodes;
}

/**
 * The hash of each node, recomputed from the stored level below it: node (l, i) is the perfect
 * subtree over hashes [i·2^(l-b), (i+1)·2^(l-b)) of stored level b = l - l mod 8. One read per tile,
 * none for a node the reader's cache holds.
 *
 * With a cache, some tiles are read whole (as far as the tree of `size` leaves has them) and all
 * their nodes cached, since later proofs will want them too: every tile above the leaves (a tenant
 * of a million leaves has 16 of them, and every proof passes through one) and the newest tile of
 * leaves, which every proof's right edge needs until the next checkpoint. Other leaves are not
 * cached: there are too many, and a proof gets its own tile with the leaf (ledger-repository.ts).
 */
async function readNodes(reader: HashReader, nodes: readonly NodeId[], size: number): Promise<Buffer[]> {
  const { cache } = reader;
  const newestLeafTile = size - (size % TILE_WIDTH);
  const cachedWhole = (base: number, start: number) => cache !== undefined && (base > 0 || start >= newestLeafTile);
  const hashes: (Buffer | undefined)[] = nodes.map(({ level, index }) => (level > 0 || index >= newestLeafTile ? cache?.get(level, index) : undefined));
  const spans = new Map<number, HashRange>();
  nodes.forEach(({ level, index }, n) => {
    if (hashes[n]) return;
    const base = level - (level % TILE_HEIGHT);
    const width = 2 ** (level - base);
    const start = index * width;
    if (cachedWhole(base, start)) {
      // The whole tile, up to the stored hashes of perfect subtrees within the tree.
      const tileStart = start - (start % TILE_WIDTH);
      spans.set(n, { level: base, start: tileStart, end: Math.min(tileStart + TILE_WIDTH, Math.floor(size / 2 ** base)) });
    } else {
      spans.set(n, { level: base, start, end: start + width });
    }
  });
  const tiles = new Map<string, HashRange>();
  for (const span of spans.values()) {
    const key = tileKey(span);
    const tile = tiles.get(key);
    tiles.set(key, tile ? { ...tile, start: Math.min(tile.start, span.start), end: Math.max(tile.end, span.end) } : span);
  }
  const reads = [...tiles.values()];
  const results = await readRanges(reader, reads);
  reads.forEach((read, i) => {
    if (cachedWhole(read.level, read.start)) cacheTile(cache!, read, results[i]!);
  });
  const byTile = new Map(reads.map((read, i) => [tileKey(read), { read, hashes: results[i] as Buffer[] }]));
  for (const [n, span] of spans) {
    const { level, index } = nodes[n]!;
    const { read, hashes: stored } = byTile.get(tileKey(span)) as { read: HashRange; hashes: Buffer[] };
    const cached = cachedWhole(read.level, read.start) ? cache!.get(level, index) : undefined;
    const width = 2 ** (level - read.level);
    const hash = cached ?? perfectRoot(stored.slice(index * width - read.start, (index + 1) * width - read.start));
    if (level !== 0 && !cached) cache?.set(level, index, hash);
    hashes[n] = hash;
  }
  return hashes as Buffer[];
}

/**
 * Caches the stored hashes `hashes` of `read` (a tile-aligned run at a stored level) and every
 * perfect subtree within them, up to the tile's root.
 */
function cacheTile(cache: NodeCache, read: HashRange, hashes: readonly Buffer[]): void {
  let row = hashes;
  let first = read.start;
  for (let level = read.level; level <= read.level + TILE_HEIGHT && row.length > 0; level++) {
    row.forEach((hash, i) => cache.set(level, first + i, hash));
    row = parentLevel(row);
    first /= 2;
  }
}

async function readRanges(reader: HashReader, ranges: readonly HashRange[]): Promise<Buffer[][]> {
  const results = reader.readMany ? await reader.readMany(ranges) : await Promise.all(ranges.map(({ level, start, end }) => reader.read(level, start, end)));
  ranges.forEach(({ level, start, end }, i) => {
    const hashes = results[i];
    if (!hashes || hashes.length !== end - start || !hashes.every(isHash)) {
      throw new LedgerError('INVALID_ARGUMENT', `hash reader returned a malformed answer for level ${level} [${start}, ${end})`);
    }
  });
  return results;
}

function tileKey({ level, start }: HashRange): string {
  return `${level}/${Math.floor(start / TILE_WIDTH)}`;
}

/** k such that k < n ≤ 2k, for n ≥ 2 (RFC 9162 §2.1.1). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(value: number, what: string): void {
  if (!isNatural(value)) throw new LedgerError('OUT_OF_RANGE', `${what} must be a non-negative integer`);
}
