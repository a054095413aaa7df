/**
 * Worker threads that precompute the pure per-line work of verification (leaf-precompute.ts) ahead
 * of the engine. Batches go to the workers in turn and come back as promises; the caller awaits them
 * in order, so it decides how many are in flight.
 */
import { Worker } from 'node:worker_threads';
import type { PrecomputedBatch } from './leaf-precompute.ts';

/** A batch of complete lines, each ended by a newline. */
export interface BatchRequest {
  id: number;
  tenant: string;
  lines: Uint8Array<ArrayBuffer>;
}

export interface BatchResponse extends PrecomputedBatch {
  id: number;
}

interface Job {
  resolve: (batch: PrecomputedBatch) => void;
  reject: (err: Error) => void;
}

export class LeafWorkerPool {
  readonly #workers: Worker[];
  readonly #jobs = new Map<number, Job>();
  #nextId = 0;
  #failure: Error | undefined;

  /** Starts `size` (≥ 1) workers. */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a pool needs at least one worker, not ${size}`);
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL('./leaf-worker.js', import.meta.url));
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

  /**
   * Precomputes a batch of complete lines (each ended by a newline). They are copied first: `bytes` is
   * the copy to verify, which nothing else writes to, and the worker gets a clone of it.
   */
  precompute(tenant: string, lines: Buffer): { bytes: Buffer; batch: Promise<PrecomputedBatch> } {
    const bytes = Buffer.from(lines);
    const id = this.#nextId++;
    const request: BatchRequest = { id, tenant, lines: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    const batch = this.#failure
      ? Promise.reject(this.#failure)
      : new Promise<PrecomputedBatch>((resolve, reject) => {
        this.#jobs.set(id, { resolve, reject });
        this.#workers[id % this.#workers.length]!.postMessage(request);
      });
    batch.catch(() => undefined); // awaited later, in order; a failure before then is not unhandled
    return { bytes, batch };
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
