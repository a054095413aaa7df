/**
 * The pure per-line work of verification, done ahead of the engine (in worker threads, leaf-pool.ts):
 * for each line of a batch that takes the engine's fast path — parseLeafLine reads it and its
 * commitment holds (as LeafHasher.commitmentMatches checks) — its index, its key and its leaf hash at that index. All are functions of
 * the line's bytes and the tenant only, computed with the engine's own functions, so the engine's
 * decisions are the same with or without them (bundle-verifier.ts `PrecomputedLeaf`; the tests hold
 * the reports equal). Lines that fail either step are marked and left to the engine.
 */
import type { PrecomputedLeaf } from './bundle-verifier.ts';
import { LeafHasher } from './leaf-hasher.ts';
import { newLeafOffsets, parseLeafLine, type LeafOffsets } from './leaf-line.ts';
import { sha256Many, SHA256_SIZE } from '../ledger/crypto.ts';
import { openNote, type NoteVerifier } from '../ledger/note.ts';
import { trustedVerifiers } from './trusted-keys.ts';

/**
 * Numbers kept per line: where its newline is, its index (−1: not on the fast path), and where its
 * hash starts and its key ends in `data`.
 */
const STRIDE = 4;

/** The results for one batch: a buffer of complete lines, each ended by a newline. */
export interface PrecomputedBatch {
  lines: number;
  /** STRIDE numbers per line, see above. */
  offsets: Float64Array<ArrayBuffer>;
  /** For each line on the fast path in turn: its 32-byte leaf hash, then its key. */
  data: Uint8Array<ArrayBuffer>;
  /** The notes of the batch's checkpoint lines that `checkNote` opened (see BundleVerifier.notesChecked). */
  checkedNotes: string[];
}

/** Whether a checkpoint note opens (openNote) with the trusted verifiers: signatures checked. */
export type NoteCheck = (note: string) => boolean;

/** What checkpoint signatures are checked against: trustedVerifiers(keys, origin). */
export interface NotesContext {
  keys: readonly string[];
  origin: string;
}

/**
 * A NoteCheck opening notes as the engine does, with trustedVerifiers(keys, origin); undefined for
 * malformed keys (the engine refuses those itself).
 */
export function noteCheck({ keys, origin }: NotesContext): NoteCheck | undefined {
  let verifiers: NoteVerifier[];
  try {
    verifiers = trustedVerifiers(keys, origin);
  } catch {
    return undefined;
  }
  return (note) => {
    try {
      openNote(note, verifiers);
      return true;
    } catch {
      return false; // the engine opens it again and reports why
    }
  };
}

/**
 * precomputeBatch for one thread, batch after batch (a worker's, or the engine's own): the tenant's
 * LeafHasher and the note check of the keys and origin are made again only when those change.
 */
export class BatchPrecomputer {
  #hasher: { tenant: string; hasher: LeafHasher } | undefined;
  #notes: { context: string; check: NoteCheck | undefined } | undefined;

  run(bytes: Buffer, tenant: string, notes: NotesContext | undefined): PrecomputedBatch {
    if (this.#hasher?.tenant !== tenant) this.#hasher = { tenant, hasher: new LeafHasher(tenant) };
    let check: NoteCheck | undefined;
    if (notes) {
      const context = JSON.stringify(notes);
      if (this.#notes?.context !== context) this.#notes = { context, check: noteCheck(notes) };
      check = this.#notes.check;
    }
    return precomputeBatch(bytes, this.#hasher.hasher, check);
  }
}

const CHECKPOINT_LINE = Buffer.from('{"type":"checkpoint"');

/**
 * Runs the fast path's pure steps over every line of `bytes` (complete lines only). The hashing is
 * done a batch at a time (sha256Many: one call for all the lines' commitments, one for all
 * their leaf hashes), so the lines are gone over three times: parse and write what each commitment
 * hashes; check the commitments and write each leaf's envelope; put each leaf's hash and key in place.
 */
export function precomputeBatch(bytes: Buffer, hasher: LeafHasher, checkNote?: NoteCheck): PrecomputedBatch {
  let lines = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) lines += 1;
  const offsets = new Float64Array(lines * STRIDE);
  const s = scratchFor(lines);

  // 1. Parse: the lines in the writer's spelling are the candidates.
  // The checkpoints' signatures are checked here too, off the engine's thread.
  let candidates = 0;
  let committedLength = 0;
  const checkedNotes: string[] = [];
  for (let line = 0, start = 0; line < lines; line++) {
    const end = bytes.indexOf(0x0a, start);
    offsets[line * STRIDE] = end;
    offsets[line * STRIDE + 1] = -1;
    const f = s.parsed[candidates]!;
    if (parseLeafLine(bytes, start, end, f)) {
      s.lineOf[candidates++] = line;
      committedLength += hasher.committedLength(f);
    } else if (checkNote && bytes.subarray(start, start + CHECKPOINT_LINE.length).equals(CHECKPOINT_LINE)) {
      const note = noteOf(bytes.toString('utf8', start, end));
      if (note !== undefined && checkNote(note)) checkedNotes.push(note);
    }
    start = end + 1;
  }
  const committed = (s.committed = room(s.committed, committedLength));
  for (let c = 0, at = 0; c < candidates; c++) {
    s.ranges[2 * c] = at;
    at = hasher.writeCommitted(bytes, s.parsed[c]!, committed, at);
    s.ranges[2 * c + 1] = at;
  }
  sha256Many(committed, s.ranges.subarray(0, 2 * candidates), s.digests);

  // 2. The candidates whose commitment holds are the fast path's: write their leaf messages.
  let leaves = 0;
  let dataLength = 0;
  for (let c = 0; c < candidates; c++) {
    const f = s.parsed[c]!;
    if (!hasher.isCommitment(bytes, f, s.digests, c * SHA256_SIZE)) continue;
    s.leafOf[leaves++] = c;
    dataLength += hasher.leafSlotLength(f);
  }
  const data = (s.data = room(s.data, dataLength));
  for (let l = 0, at = 0; l < leaves; l++) {
    const f = s.parsed[s.leafOf[l]!]!;
    s.slots[l] = at;
    [s.ranges[2 * l], s.ranges[2 * l + 1]] = hasher.leafMessage(bytes, f, data, at);
    at += hasher.leafSlotLength(f);
  }
  sha256Many(data, s.ranges.subarray(0, 2 * leaves), s.digests);

  // 3. Each leaf's hash and key in its slot.
  for (let l = 0; l < leaves; l++) {
    const c = s.leafOf[l]!;
    const f = s.parsed[c]!;
    const o = s.lineOf[c]! * STRIDE;
    offsets[o + 1] = f.index;
    offsets[o + 2] = s.slots[l]!;
    offsets[o + 3] = hasher.leafFromMessage(f, data, s.slots[l]!, s.ranges[2 * l + 1]!, s.digests, l * SHA256_SIZE);
  }
  // A copy of what was written: the results travel to another thread, and the scratch stays.
  return { lines, offsets, data: new Uint8Array(data.subarray(0, dataLength)), checkedNotes };
}

/** A checkpoint line's note, if the line is JSON with a string note; anything else is the engine's to report. */
function noteOf(line: string): string | undefined {
  try {
    const value = JSON.parse(line) as { note?: unknown } | null;
    return typeof value?.note === 'string' ? value.note : undefined;
  } catch {
    return undefined;
  }
}

/** Working space reused from batch to batch (per thread), grown to the largest batch's needs. */
interface Scratch {
  parsed: LeafOffsets[];
  /** Per candidate: its line. Per fast-path leaf: its candidate, and where its slot starts in `data`. */
  lineOf: Int32Array;
  leafOf: Int32Array;
  slots: Int32Array;
  /** Start, end pairs of the messages being hashed, and their digests. */
  ranges: Uint32Array;
  digests: Buffer;
  committed: Buffer;
  data: Buffer;
}

let scratch: Scratch | undefined;

function scratchFor(lines: number): Scratch {
  if (!scratch || scratch.lineOf.length < lines) {
    const n = Math.max(lines, 2 * (scratch?.lineOf.length ?? 0), 1024);
    scratch = {
      parsed: Array.from({ length: n }, () => newLeafOffsets()),
      lineOf: new Int32Array(n),
      leafOf: new Int32Array(n),
      slots: new Int32Array(n),
      ranges: new Uint32Array(2 * n),
      digests: Buffer.allocUnsafe(n * SHA256_SIZE),
      committed: scratch?.committed ?? Buffer.alloc(0),
      data: scratch?.data ?? Buffer.alloc(0),
    };
  }
  return scratch;
}

/** `buffer`, or a bigger one if it holds fewer than `length` bytes (its contents are not kept). */
function room(buffer: Buffer, length: number): Buffer {
  return buffer.length >= length ? buffer : Buffer.allocUnsafe(Math.max(length, 2 * buffer.length));
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

  /** The batch's checkpoint notes whose signatures were checked (PrecomputedBatch). */
  get checkedNotes(): readonly string[] {
    return this.#batch.checkedNotes;
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
    const from = offsets[o + 2]!;
    const leaf = this.#leaf;
    leaf.index = index;
    leaf.leafHash = this.#data.subarray(from, from + SHA256_SIZE);
    leaf.key = this.#data.subarray(from + SHA256_SIZE, offsets[o + 3]!);
    return leaf;
  }
}
