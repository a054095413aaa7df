/**
 * Group commit: concurrent ingest requests share transactions, so throughput grows with load instead
 * of being capped by one fsync per request. Requests queue while a transaction is in flight; the next
 * transaction takes everything queued (up to `maxBatchEvents`). Each request's promise settles only
 * after the transaction holding its events committed (DESIGN.md principle 3).
 *
 * If a shared transaction fails, its requests are retried one per transaction, so one request whose
 * events the database refuses cannot fail the others that happened to share its transaction.
 */
import { TrailproofError } from '../errors.ts';
import type { Sql } from '../store/db.ts';
import { appendBatch, type AppendItem, type AppendResult } from './append-batch.ts';
import { PartitionManager } from './partitions.ts';

export interface GroupCommitOptions {
  /** Upper bound of events in one transaction; default 5000. */
  maxBatchEvents?: number;
  /** Transactions in flight at once per process; default 2 (one commits while the next fills). */
  maxInFlight?: number;
  onError?: (err: unknown) => void;
}

interface Pending {
  items: AppendItem[];
  resolve: (results: AppendResult[]) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private closed = false;
  private idle: (() => void)[] = [];
  private readonly partitions: PartitionManager;
  private readonly maxBatchEvents: number;
  private readonly maxInFlight: number;

  constructor(private readonly sql: Sql, private readonly options: GroupCommitOptions = {}) {
    this.partitions = new PartitionManager(sql);
    this.maxBatchEvents = options.maxBatchEvents ?? 5000;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  /** Appends the items; resolves with one result per item, in order, after commit. */
  append(items: AppendItem[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new TrailproofError('UNAVAILABLE', 'the service is shutting down'));
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.pump();
    });
  }

  /** Stops taking new work and waits until every queued and in-flight request has settled. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group: Pending[] = [];
      let events = 0;
      while (this.queue.length > 0 && (group.length === 0 || events + this.queue[0]!.items.length <= this.maxBatchEvents)) {
        const next = this.queue.shift()!;
        group.push(next);
        events += next.items.length;
      }
      this.inFlight++;
      void this.commit(group).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.pump();
        else if (this.inFlight === 0) this.idle.splice(0).forEach((f) => f());
      });
    }
  }

  private async commit(group: Pending[]): Promise<void> {
    try {
      const results = await this.run(group.flatMap((p) => p.items));
      let offset = 0;
      for (const p of group) {
        p.resolve(results.slice(offset, offset + p.items.length));
        offset += p.items.length;
      }
    } catch (err) {
      if (group.length === 1) {
        this.options.onError?.(err);
        group[0]!.reject(toUnavailable(err));
        return;
      }
      // Isolate the request the database refused: every other one gets its own transaction.
      await Promise.all(group.map((p) => this.commit([p])));
    }
  }

  private async run(items: AppendItem[]): Promise<AppendResult[]> {
    await this.partitions.ensure(items.map((i) => i.body.occurred_at));
    return appendBatch(this.sql, items);
  }
}

function toUnavailable(err: unknown): unknown {
  if (err instanceof TrailproofError) return err;
  return new TrailproofError('UNAVAILABLE', 'the events could not be stored; retry with the same ids', { cause: err });
}
