/**
 * Group commit: concurrent ingest requests share transactions, so throughput grows with load instead
 * of being capped by one fsync per request. A request's events are prepared (prepareAppend) as it
 * arrives, then queue while a transaction is in flight; the next transaction takes everything queued
 * (up to `maxBatchEvents`). Each request's promise settles only after the transaction holding its
 * events committed: an acknowledged event is never lost.
 *
 * A tenant's appends serialise on its head row lock, so two transactions for one tenant in flight
 * only make each smaller and then wait for each other. So at most one transaction per
 * tenant is in flight; transactions for disjoint tenants run in parallel, up to `maxInFlight`, when
 * each is big enough to be worth its own round trips and flush (`minParallelEvents`) or its oldest
 * request has waited `maxParallelWaitMs`. Requests of one tenant are committed in arrival order.
 *
 * If the database refuses a shared transaction, its requests are retried one per transaction, so one
 * request whose events the database refuses cannot fail the others that happened to share its
 * transaction. After a lost connection nothing is retried (see `refusedByDatabase`).
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import { TrailproofError } from '../errors.ts';
import { LedgerError } from '../ledger/errors.ts';
import { type Metrics, registersOf } from '../metrics.ts';
import { unlessDatabaseLost } from '../store/database-loss.ts';
import { refusedByDatabase, type Sql } from '../store/db.ts';
import { appendPrepared, prepareAppend, type AppendItem, type AppendResult, type PreparedItem } from './append-batch.ts';
import { PartitionManager } from './partitions.ts';

export interface GroupCommitOptions {
  /** Upper bound of events in one transaction; default 5000. */
  maxBatchEvents?: number;
  /** Transactions in flight at once per process (for disjoint sets of tenants); default 4. */
  maxInFlight?: number;
  /** Events a transaction needs to start while another is in flight; default 256. */
  minParallelEvents?: number;
  /** ...unless its oldest request has waited this long; default 20 ms. */
  maxParallelWaitMs?: number;
  onError?: (err: unknown) => void;
  /** Where its metrics are reported; none by default. */
  metrics?: Metrics;
}

interface Pending {
  items: PreparedItem[];
  queuedAt: number;
  tenants: Set<string>;
  resolve: (results: AppendResult[]) => void;
  reject: (err: unknown) => void;
}

export class GroupCommitter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  /** Tenants with a transaction in flight. */
  private readonly busy = new Set<string>();
  private closed = false;
  private idle: (() => void)[] = [];
  private readonly committedListeners = new Set<(tenants: ReadonlySet<string>) => void>();
  private readonly partitions: PartitionManager;
  private readonly maxBatchEvents: number;
  private readonly maxInFlight: number;
  private readonly minParallelEvents: number;
  private readonly maxParallelWaitMs: number;
  private wakeTimer: NodeJS.Timeout | undefined;
  private readonly measured: CommitMetrics;

  constructor(
    private readonly sql: Sql,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.partitions = new PartitionManager(sql);
    this.maxBatchEvents = options.maxBatchEvents ?? 5000;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.minParallelEvents = options.minParallelEvents ?? 256;
    this.maxParallelWaitMs = options.maxParallelWaitMs ?? 20;
    this.measured = commitMetrics(options.metrics, () => ({ queued: this.queue.length, inFlight: this.inFlight }));
  }

  /** Appends the items; resolves with one result per item, in order, after commit. */
  append(items: AppendItem[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new TrailproofError('UNAVAILABLE', 'the service is shutting down'));
    if (items.length === 0) return Promise.resolve([]);
    // Prepared now, on arrival: this overlaps with the transaction PostgreSQL is running.
    let prepared: PreparedItem[];
    try {
      prepared = prepareAppend(items);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ items: prepared, queuedAt: performance.now(), tenants: new Set(items.map((i) => i.tenant)), resolve, reject });
      this.pump();
    });
  }

  /**
   * Calls `listener` after each commit with the tenants that got new events, so readers tailing a
   * trail (the feed) wake at once instead of polling. Returns the unsubscribe function. Other
   * processes' commits are not seen here: tailers also poll, slowly.
   */
  onCommitted(listener: (tenants: ReadonlySet<string>) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /** Stops taking new work and waits until every queued and in-flight request has settled. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      // Beside a transaction in flight, another starts only with enough events to be worth its own
      // round trips and flush, or once its oldest request has waited maxParallelWaitMs (so a big
      // batch of one tenant delays another's single events by that much at most); smaller ones
      // wait and join the next: many small transactions in parallel each pay their own round trips
      // and flush, which costs more throughput than the wait.
      const { group, heldSince } = this.takeGroup(this.inFlight === 0 ? 1 : this.minParallelEvents);
      if (group.length === 0) {
        if (heldSince !== undefined) this.wakeAt(heldSince + this.maxParallelWaitMs);
        return;
      }
      const tenants = new Set(group.flatMap((p) => [...p.tenants]));
      for (const t of tenants) this.busy.add(t);
      this.inFlight++;
      void this.commit(group).finally(() => {
        for (const t of tenants) this.busy.delete(t);
        this.inFlight--;
        if (this.queue.length > 0) this.pump();
        else if (this.inFlight === 0) this.idle.splice(0).forEach((f) => f());
      });
    }
  }

  /** Pumps again at `due` (performance.now() time), unless a wake-up is already set. */
  private wakeAt(due: number): void {
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(due - performance.now())),
    );
    this.wakeTimer.unref();
  }

  /**
   * The queued requests the next transaction takes, in order, skipping any that touches a tenant
   * with a transaction in flight; once a request is skipped, its tenants are skipped for the rest
   * of the scan too, so no later request of a tenant overtakes an earlier one. A group of fewer than
   * `minEvents` whose oldest request has waited less than maxParallelWaitMs stays queued (`heldSince`).
   */
  private takeGroup(minEvents: number): { group: Pending[]; heldSince?: number } {
    const taken: number[] = [];
    const blocked = new Set(this.busy);
    let events = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const next = this.queue[i]!;
      const free = ![...next.tenants].some((t) => blocked.has(t));
      if (free && (taken.length === 0 || events + next.items.length <= this.maxBatchEvents)) {
        taken.push(i);
        events += next.items.length;
        continue;
      }
      for (const t of next.tenants) blocked.add(t);
      if (events >= this.maxBatchEvents) break;
    }
    if (taken.length === 0) return { group: [] };
    const oldest = this.queue[taken[0]!]!.queuedAt;
    // Too small to start beside another transaction, and not waiting long enough yet: held.
    if (events < minEvents && performance.now() - oldest < this.maxParallelWaitMs) return { group: [], heldSince: oldest };
    const group = taken.map((i) => this.queue[i]!);
    for (let k = taken.length - 1; k >= 0; k--) this.queue.splice(taken[k]!, 1);
    return { group };
  }

  private async commit(group: Pending[]): Promise<void> {
    try {
      const items = group.flatMap((p) => p.items);
      // A transaction on a backend orphaned by a killed postmaster may never answer: its requests
      // fail as soon as the database refuses new connections (their clients retry with their ids).
      const results = await unlessDatabaseLost(this.sql, this.run(items));
      const grown = new Set(items.filter((_, i) => results[i]?.status === 'created').map((i) => i.tenant));
      if (grown.size > 0) for (const listener of this.committedListeners) listener(grown);
      for (const result of results) this.measured.events.inc({ result: result.status });
      const now = performance.now();
      let offset = 0;
      for (const p of group) {
        this.measured.latency.observe((now - p.queuedAt) / 1000);
        p.resolve(results.slice(offset, offset + p.items.length));
        offset += p.items.length;
      }
    } catch (err) {
      this.measured.failures.inc();
      // After a lost connection the transaction may have committed unanswered: doing it again could
      // store events twice, so every request fails and its client retries with its ids (idempotent).
      if (group.length === 1 || !refusedByDatabase(err)) {
        this.options.onError?.(err);
        for (const p of group) p.reject(toUnavailable(err));
        return;
      }
      // Isolate the request the database refused: every other one gets its own transaction.
      await Promise.all(group.map((p) => this.commit([p])));
    }
  }

  private async run(items: PreparedItem[]): Promise<AppendResult[]> {
    const started = performance.now();
    await this.partitions.ensure(items.map((i) => i.body.occurred_at));
    const results = await appendPrepared(this.sql, items);
    this.measured.transaction.observe((performance.now() - started) / 1000);
    this.measured.batch.observe(items.length);
    return results;
  }
}

/** Histogram buckets of commit times, from a millisecond to ten seconds. */
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface CommitMetrics {
  events: Counter<'result'>;
  latency: Histogram;
  transaction: Histogram;
  batch: Histogram;
  failures: Counter;
}

/** The committer's metrics (docs/metrics.md); `state` is read at each scrape. */
function commitMetrics(metrics: Metrics | undefined, state: () => { queued: number; inFlight: number }): CommitMetrics {
  const registers = registersOf(metrics);
  new Gauge({
    name: 'trailproof_group_commit_queue_requests',
    help: 'Requests waiting for a group-commit transaction',
    registers,
    collect() {
      this.set(state().queued);
    },
  });
  new Gauge({
    name: 'trailproof_group_commit_in_flight',
    help: 'Group-commit transactions running',
    registers,
    collect() {
      this.set(state().inFlight);
    },
  });
  return {
    events: new Counter({
      name: 'trailproof_events_ingested_total',
      help: 'Events committed, by result: created (appended to its tenant ledger), duplicate or conflict (an id seen before), tenant_not_found',
      labelNames: ['result'] as const,
      registers,
    }),
    latency: new Histogram({
      name: 'trailproof_group_commit_seconds',
      help: "Time from a request's events joining the group-commit queue to their commit: what an acknowledgement waits for",
      buckets: SECONDS,
      registers,
    }),
    transaction: new Histogram({
      name: 'trailproof_group_commit_transaction_seconds',
      help: 'Duration of one group-commit transaction, commit included',
      buckets: SECONDS,
      registers,
    }),
    batch: new Histogram({
      name: 'trailproof_group_commit_batch_events',
      help: 'Events in one group-commit transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192],
      registers,
    }),
    failures: new Counter({
      name: 'trailproof_group_commit_failures_total',
      help: 'Group-commit transactions that failed (their requests are retried one per transaction, or answered 503)',
      registers,
    }),
  };
}

function toUnavailable(err: unknown): unknown {
  if (err instanceof TrailproofError || err instanceof LedgerError) return err;
  return new TrailproofError('UNAVAILABLE', 'the events could not be stored; retry with the same ids', { cause: err });
}
