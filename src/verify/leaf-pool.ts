/**
 * What precomputes the pure per-line work of verification (leaf-precompute.ts) for the engine: worker
 * threads ahead of it (LeafWorkerPool), or its own thread (InThreadPrecomputer), behind one interface.
 * Batches go to the workers in turn and come back as promises; the caller awaits them in order, so it
 * decides how many are in flight. A batch's bytes are copied once, moved to the worker and moved back
 * with the results: the engine then reads the very bytes the worker read, and the buffer is used
 * again for a later batch.
 */
import { Worker } from 'node:worker_threads';
import { BatchPrecomputer, type NotesContext, type PrecomputedBatch } from './leaf-precompute.ts';

export type { NotesContext };

/** A batch of complete lines, each ended by a newline. */
export interface BatchRequest {
  id: number;
  tenant: string;
  /** The trusted keys and the bundle's origin to check checkpoint signatures with, if they are to be checked. */
  notes?: NotesContext;
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * What runs the pure per-line work (leaf-precompute.ts) ahead of the engine: worker threads
 * (LeafWorkerPool) or this thread (InThreadPrecomputer). verify-stream.ts feeds the engine from
 * either the same way.
 */
export interface LeafPrecomputer {
  /** Worker threads (0: this thread). */
  readonly size: number;
  /**
   * Precomputes a batch of complete lines (each ended by a newline): `pieces` joined, up to `length`
   * bytes; with `notes`, the checkpoint lines' signatures are checked too.
   */
  precompute(tenant: string, pieces: readonly Buffer[], length: number, notes?: NotesContext): Promise<LinesBatch>;
  /** Gives a batch's buffer back once nothing reads it any more. */
  recycle(bytes: Buffer): void;
  close(): Promise<void>;
}

/**
 * Batches precomputed in this thread, when it is the only one (`--workers 0`, one core): the same
 * work, still a batch at a time so the hashing is one call per batch (sha256Many).
 */
export class InThreadPrecomputer implements LeafPrecomputer {
  readonly size = 0;
  readonly #batches = new BatchPrecomputer();

  precompute(tenant: string, pieces: readonly Buffer[], length: number, notes?: NotesContext): Promise<LinesBatch> {
    const bytes = pieces.length === 1 && pieces[0]!.length === length ? pieces[0]! : Buffer.concat(pieces, length);
    return Promise.resolve({ bytes, batch: this.#batches.run(bytes, tenant, notes) });
  }

  recycle(): void {}

  async close(): Promise<void> {}
}

/** The results, and the request's bytes given back. */
export interface BatchResponse {
  id: number;
  bytes: Uint8Array<ArrayBuffer>;
  batch: PrecomputedBatch;
}

/** A precomputed batch with its lines. */
export interface LinesBatch {
  bytes: Buffer;
  batch: PrecomputedBatch;
}

interface Job {
  resolve: (response: BatchResponse) => void;
  reject: (err: Error) => void;
}

/** Buffers kept for later batches. */
const SPARE_BUFFERS = 8;

export class LeafWorkerPool implements LeafPrecomputer {
  readonly #workers: Worker[];
  readonly #jobs = new Map<number, Job>();
  readonly #spare: ArrayBuffer[] = [];
  #nextId = 0;
  #failure: Error | undefined;

  /** Starts `size` (≥ 1) workers. */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a pool needs at least one worker, not ${size}`);
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_MODULE);
      worker.on('message', (response: BatchResponse) => {
        const job = this.#jobs.get(response.id);
        this.#jobs.delete(response.id);
        job?.resolve(response);
      });
      worker.on('error', (err) => this.#fail(err));
      worker.on('exit', (code) => this.#fail(new Error(`a verification worker exited (code ${code})`)));
      return worker;
    });
  }

  get size(): number {
    return this.#workers.length;
  }

  precompute(tenant: string, pieces: readonly Buffer[], length: number, notes?: NotesContext): Promise<LinesBatch> {
    const spare = this.#spare.findIndex((buffer) => buffer.byteLength >= length);
    const buffer = spare >= 0 ? this.#spare.splice(spare, 1)[0]! : new ArrayBuffer(length + (length >> 3));
    const bytes = new Uint8Array(buffer, 0, length);
    let at = 0;
    for (const piece of pieces) {
      const n = Math.min(piece.length, length - at);
      bytes.set(n === piece.length ? piece : piece.subarray(0, n), at);
      at += n;
    }
    const id = this.#nextId++;
    const request: BatchRequest = { id, tenant, ...(notes ? { notes } : {}), bytes };
    const batch = this.#failure
      ? Promise.reject(this.#failure)
      : new Promise<BatchResponse>((resolve, reject) => {
          this.#jobs.set(id, { resolve, reject });
          this.#workers[id % this.#workers.length]!.postMessage(request, [buffer]);
        }).then((response) => ({ bytes: Buffer.from(response.bytes.buffer, response.bytes.byteOffset, response.bytes.byteLength), batch: response.batch }));
    batch.catch(() => undefined); // awaited later, in order; a failure before then is not unhandled
    return batch;
  }

  recycle(bytes: Buffer): void {
    if (this.#spare.length < SPARE_BUFFERS && bytes.buffer instanceof ArrayBuffer) this.#spare.push(bytes.buffer);
  }

  async close(): Promise<void> {
    this.#failure ??= new Error('the verification worker pool is closed');
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const job of this.#jobs.values()) job.reject(this.#failure);
    this.#jobs.clear();
  }
}

/**
 * The workers' module: leaf-worker.js, compiled beside this file in dist/. Run from the TypeScript
 * sources (tests, benchmarks), this file is leaf-pool.ts and the workers start on
 * leaf-worker-source.js, which loads leaf-worker.ts through tsx, a dev dependency: a worker thread
 * does not inherit the loader of the thread that starts it.
 */
const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './leaf-worker-source.js' : './leaf-worker.js', import.meta.url);
