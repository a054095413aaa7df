/**
 * The client: `record()` puts an event in a bounded in-memory queue and returns at once; a sender
 * sends the queue in batches (by size or after a short wait) and retries what failed with backoff
 * until the server answers. Every event gets a client `id` before it is queued, so a retry of a
 * batch the server stored but could not acknowledge is stored once.
 */
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { completeEvent } from './complete.ts';
import { ClientError } from './errors.ts';
import { Transport, type TransportOptions } from './transport.ts';
import type { EventInput, RecordInput } from './types.ts';

export interface ClientOptions extends TransportOptions {
  /** Tenant of events that name none (needed with a key not bound to a tenant). */
  tenant?: string;
  /** Events per request, at most the server's 1,000; default `DEFAULT_BATCH_SIZE`. */
  batchSize?: number;
  /** Longest wait before a partial batch is sent; default `DEFAULT_FLUSH_INTERVAL_MS`. */
  flushIntervalMs?: number;
  /** Events held in memory at most (queued and in flight); default `DEFAULT_MAX_QUEUE`. */
  maxQueue?: number;
  /** Requests in flight at most; default `DEFAULT_CONCURRENCY`. */
  concurrency?: number;
  /** Waits between retries. */
  backoff?: BackoffOptions;
  /** Called with every failure: retried sends (`SEND_FAILED`), refused events, a full queue. Default: none. */
  onError?: (error: ClientError) => void;
}

/*
 * The defaults let one process keep the server's batch ingest busy without slowing a quiet app: a
 * batch is the server's largest (fewest requests per event); a partial batch waits at most the
 * flush interval; eight requests in flight keep the server's group commit fed (it commits up to
 * five requests' events in one transaction while it reads and checks the next ones); the queue
 * holds another round and a half of requests beyond those in flight.
 */
export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_FLUSH_INTERVAL_MS = 50;
export const DEFAULT_MAX_QUEUE = 20_000;
export const DEFAULT_CONCURRENCY = 8;

interface Waiter {
  seq: number;
  resolve: () => void;
}

export class TrailproofClient {
  readonly #transport: Transport;
  readonly #options: ClientOptions;
  readonly #batchSize: number;
  readonly #maxQueue: number;
  readonly #concurrency: number;
  /** Events not yet in a request, oldest first; the last has seq `#seq`. */
  readonly #queue: EventInput[] = [];
  /** Each batch in flight (including ones waiting to be retried) by its lowest seq. */
  readonly #inFlight = new Map<number, EventInput[]>();
  #inFlightEvents = 0;
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushWaiters: Waiter[] = [];
  #roomWaiters: (() => void)[] = [];
  /** Ends each retry wait in progress early (when `close()` gives up), so no timer holds the process. */
  #sleepers: (() => void)[] = [];
  #closed = false;
  /** Set when `close()` gave up waiting: batches stop retrying. */
  #abandoned = false;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#transport = new Transport(options);
    this.#batchSize = Math.min(1000, Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE));
    this.#maxQueue = Math.max(this.#batchSize, options.maxQueue ?? DEFAULT_MAX_QUEUE);
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  /** Events held: queued plus in flight. */
  get pending(): number {
    return this.#queue.length + this.#inFlightEvents;
  }

  /**
   * Queues `event` and returns its `id` at once, or `undefined` when the queue is full or the
   * client closed (reported to `onError` with the event). Fills `id`, `tenant` and the request
   * context (see context.ts) when the event leaves them out.
   */
  record(event: RecordInput): string | undefined {
    const full = this.#prepare(event);
    if (this.#closed) return this.#refuse('CLOSED', 'the client is closed', full);
    if (this.pending >= this.#maxQueue) return this.#refuse('QUEUE_FULL', `the queue holds ${this.#maxQueue} events`, full);
    this.#enqueue(full);
    return full.id;
  }

  /** Like `record()`, but waits for room in a full queue instead of refusing (backpressure). */
  async recordAsync(event: RecordInput): Promise<string> {
    const full = this.#prepare(event);
    while (this.pending >= this.#maxQueue && !this.#closed) await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    if (this.#closed) {
      this.#refuse('CLOSED', 'the client is closed', full);
      throw new ClientError('CLOSED', 'the client is closed');
    }
    this.#enqueue(full);
    return full.id!;
  }

  /** Resolves when every event recorded before the call is stored or refused for good. */
  flush(): Promise<void> {
    const seq = this.#seq;
    if (this.#settledThrough() >= seq) return Promise.resolve();
    this.#dispatch(true);
    return new Promise((resolve) => this.#flushWaiters.push({ seq, resolve }));
  }

  /**
   * Refuses new events and flushes the rest. With `timeoutMs`, stops waiting and retrying after
   * that long and resolves with the events not known to be stored (the caller may keep them; a
   * later send of them is safe, since they keep their ids).
   */
  async close(options: { timeoutMs?: number } = {}): Promise<EventInput[]> {
    this.#closed = true;
    for (const wake of this.#roomWaiters.splice(0)) wake();
    const flushed = this.flush();
    if (options.timeoutMs === undefined) {
      await flushed;
      return [];
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([flushed, new Promise((resolve) => (timer = setTimeout(resolve, options.timeoutMs)))]);
    clearTimeout(timer);
    this.#abandoned = true;
    for (const wake of this.#sleepers.splice(0)) wake();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    return [...[...this.#inFlight.values()].flat(), ...this.#queue];
  }

  #prepare(event: RecordInput): EventInput {
    // An event without an actor is queued as it is; the server refuses it with a field error.
    return completeEvent(event, this.#options.tenant);
  }

  #refuse(code: 'CLOSED' | 'QUEUE_FULL', message: string, event: EventInput): undefined {
    this.#options.onError?.(new ClientError(code, message, { rejections: [{ event, status: 0, code, errors: [] }] }));
    return undefined;
  }

  #enqueue(event: EventInput): void {
    this.#queue.push(event);
    this.#seq++;
    this.#dispatch(false);
  }

  /** Starts batches while there is capacity: full ones always, a partial one when `partial` or the timer fired. */
  #dispatch(partial: boolean): void {
    if (this.#abandoned) return;
    while (this.#queue.length > 0 && this.#inFlight.size < this.#concurrency) {
      if (!partial && this.#queue.length < this.#batchSize) break;
      const first = this.#seq - this.#queue.length + 1;
      void this.#deliver(first, this.#queue.splice(0, this.#batchSize));
    }
    if (this.#queue.length > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#dispatch(true);
      }, this.#options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
    }
  }

  async #deliver(first: number, events: EventInput[]): Promise<void> {
    this.#inFlight.set(first, events);
    this.#inFlightEvents += events.length;
    for (let attempt = 0; !this.#abandoned; attempt++) {
      const result = await this.#transport.send(events);
      if (result.kind === 'done') {
        if (result.rejected.length > 0) {
          const message = `the server refused ${result.rejected.length} events: ${result.rejected[0]!.code}`;
          this.#options.onError?.(new ClientError('EVENT_REJECTED', message, { rejections: result.rejected, status: result.rejected[0]!.status }));
        }
        break;
      }
      this.#options.onError?.(result.error);
      await this.#sleep(Math.max(result.retryAfterMs ?? 0, backoffDelay(attempt, this.#options.backoff)));
    }
    this.#inFlight.delete(first);
    this.#inFlightEvents -= events.length;
    this.#settle();
    this.#dispatch(this.#closed || this.#flushWaiters.length > 0);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers = this.#sleepers.filter((w) => w !== wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.push(wake);
    });
  }

  /** The highest seq such that it and every lower one is settled. */
  #settledThrough(): number {
    let low = this.#seq - this.#queue.length + 1;
    for (const seq of this.#inFlight.keys()) low = Math.min(low, seq);
    return low - 1;
  }

  #settle(): void {
    const through = this.#settledThrough();
    const done = this.#flushWaiters.filter((w) => w.seq <= through);
    this.#flushWaiters = this.#flushWaiters.filter((w) => w.seq > through);
    for (const waiter of done) waiter.resolve();
    while (this.#roomWaiters.length > 0 && this.pending < this.#maxQueue) this.#roomWaiters.shift()!();
  }
}
