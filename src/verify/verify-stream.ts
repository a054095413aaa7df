/** Runs the verification engine over a byte stream (a bundle file, standard input, an HTTP body). */
import { BundleVerifier, type VerifierOptions } from './bundle-verifier.ts';
import { InThreadPrecomputer, LeafWorkerPool, type LeafPrecomputer, type LinesBatch } from './leaf-pool.ts';
import { BatchReader } from './leaf-precompute.ts';
import type { VerifyReport } from './report.ts';

export interface StreamOptions {
  /**
   * Worker threads that hash leaf lines ahead of the engine (leaf-precompute.ts); 0 (the default):
   * everything in this thread, still a batch of lines at a time. Ignored when `pool` is given.
   */
  workers?: number;
  /** Workers (or this thread) to use, and leave open, instead of starting them. */
  pool?: LeafPrecomputer;
  /** Batches in flight per worker before reading waits; default 8 (enough to ride out a thread waiting for a core); 1 in this thread. */
  batchesPerWorker?: number;
  /** Bytes read before a batch goes out; default 256 KiB (standard input comes in 64 KiB chunks, files in 1 MiB). */
  batchBytes?: number;
}

/** Splits `input` into lines and feeds them, in order, to a new verifier. */
export async function verifyStream(input: AsyncIterable<Buffer | string>, options: VerifierOptions, stream: StreamOptions = {}): Promise<VerifyReport> {
  const verifier = new BundleVerifier(options);
  const workers = stream.pool ? stream.pool.size : (stream.workers ?? 0);
  const pool = stream.pool ?? (workers === 0 ? new InThreadPrecomputer() : new LeafWorkerPool(workers));
  const inFlight = workers === 0 ? 1 : workers * (stream.batchesPerWorker ?? 8);
  try {
    await feedPrecomputed(input, verifier, options.keys, pool, inFlight, stream.batchBytes ?? 256 * 1024);
  } finally {
    if (!stream.pool) await pool.close();
  }
  return verifier.finish();
}

/**
 * The header line goes to the engine first (the precomputer needs its tenant); then the complete
 * lines of every `batchBytes` read are one batch, precomputed by the pool (in worker threads, while
 * later ones are read) and fed to the engine in order with their results. At most `inFlight` batches
 * are held.
 */
async function feedPrecomputed(
  input: AsyncIterable<Buffer | string>,
  verifier: BundleVerifier,
  keys: readonly string[],
  pool: LeafPrecomputer,
  inFlight: number,
  batchBytes: number,
): Promise<void> {
  const queue: Promise<LinesBatch>[] = [];
  const feedNext = async () => {
    const { bytes, batch } = await queue.shift()!;
    const reader = new BatchReader(batch, verifier.tenant!);
    // The workers checked the batch's checkpoint signatures with the verifier's own keys and origin.
    verifier.notesChecked(reader.checkedNotes, keys, verifier.origin!);
    feedBatch(verifier, bytes, reader);
    verifier.notesChecked([], keys, verifier.origin!);
    pool.recycle(bytes);
  };
  let header = true;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** Sends out the complete lines read so far; keeps the incomplete last one. */
  const flush = () => {
    if (header || verifier.tenant === undefined) {
      // The header line first, on its own (the workers need its tenant); after a header that is no
      // use, the engine reads nothing more, so nothing is worth precomputing.
      const buffer = Buffer.concat(pending, pendingBytes);
      let start = 0;
      for (let newline = buffer.indexOf(0x0a); newline >= 0 && (header || verifier.tenant === undefined); newline = buffer.indexOf(0x0a, start)) {
        verifier.lineBytes(buffer, start, newline);
        start = newline + 1;
        header = false;
      }
      pending = start < buffer.length ? [buffer.subarray(start)] : [];
      pendingBytes = buffer.length - start;
      if (header || verifier.tenant === undefined) return;
    }
    // The last newline, and the complete lines up to it, across the pieces read.
    let at = pendingBytes;
    for (let i = pending.length - 1; i >= 0; i--) {
      const piece = pending[i]!;
      at -= piece.length;
      const newline = piece.lastIndexOf(0x0a);
      if (newline < 0) continue;
      queue.push(pool.precompute(verifier.tenant, pending.slice(0, i + 1), at + newline + 1, { keys, origin: verifier.origin! }));
      pending = [piece.subarray(newline + 1), ...pending.slice(i + 1)].filter((p) => p.length > 0);
      pendingBytes -= at + newline + 1;
      return;
    }
  };
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes < batchBytes) continue;
    flush();
    while (queue.length > inFlight) await feedNext();
  }
  if (pendingBytes > 0) flush();
  while (queue.length > 0) await feedNext();
  // The last line, without a newline.
  if (pendingBytes > 0) verifier.lineBytes(pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes), 0, pendingBytes);
}

/**
 * Feeds a batch's lines, each with its precomputed leaf if it has one. The line ends are the ones the
 * worker found in these very bytes (they came back with the results), so the lines are not searched
 * for again; that each end is a newline, in order, is still checked.
 */
function feedBatch(verifier: BundleVerifier, bytes: Buffer, reader: BatchReader): void {
  let start = 0;
  for (let line = 0; line < reader.lines; line++) {
    const newline = reader.end(line);
    if (newline < start || bytes[newline] !== 0x0a) throw new Error(`precomputed results out of step with the lines, at line ${line} of a batch`);
    verifier.lineBytes(bytes, start, newline, reader.leaf(line, newline));
    start = newline + 1;
  }
  if (start !== bytes.length) throw new Error('precomputed results out of step with the lines of a batch');
}

/** Calls `onLine` with the byte range of every line of `input`, without the newline; a last line without one counts. */
export async function feedLineBytes(input: AsyncIterable<Buffer | string>, onLine: (bytes: Buffer, start: number, end: number) => void): Promise<void> {
  let rest: Buffer | undefined;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const buffer = rest ? Buffer.concat([rest, bytes]) : bytes;
    let start = 0;
    for (let newline = buffer.indexOf(0x0a); newline >= 0; newline = buffer.indexOf(0x0a, start)) {
      onLine(buffer, start, newline);
      start = newline + 1;
    }
    rest = start < buffer.length ? buffer.subarray(start) : undefined;
  }
  if (rest) onLine(rest, 0, rest.length);
}
