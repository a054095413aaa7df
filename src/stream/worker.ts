/**
 * The delivery worker: feeds every active destination from its durable cursor, in commit order,
 * at least once.
 *
 * Per destination, one loop: read the next page of the tenant's feed from `cursor_seq` (ledger index
 * order = commit order, src/query/feed.ts), keep the events the destination's filter selects,
 * format them, deliver the batch, and only once the receiver acknowledged it move the cursor past
 * the page (one UPDATE). A crash between delivery and that UPDATE re-delivers the same batch after
 * restart: duplicates are possible, only of the batch in flight; gaps and reordering are not.
 *
 * Several server processes may run workers on one database. A destination is delivered by one of
 * them at a time: a process claims it with a lease (`lease_owner`, `lease_until`, claimed with
 * FOR UPDATE SKIP LOCKED), renews it before every batch, and every state write is fenced by
 * `lease_owner = me`, so a process that lost its lease (paused by GC, partitioned) cannot move the
 * cursor. A delivery's timeout is at most half the lease (checked in config.ts), so a delivery never
 * outlives the lease it started under. A SIGKILLed process's destinations are taken over when its
 * leases expire; a stopped one releases them at once.
 *
 * Failures: retried with exponential backoff and full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter": sleep = random(0, min(cap, base · 2^attempt))); after `maxFailures`
 * consecutive failures the destination is paused with its error visible, a `stream.paused` audit
 * event is recorded in its tenant, and the alert webhook (TRAILPROOF_ALERT_WEBHOOK) is called.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MetaAudit } from '../audit/meta-audit.ts';
import type { Metrics } from '../metrics.ts';
import type { StreamsConfig } from '../config.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import type { GroupCommitter } from '../ingest/group-commit.ts';
import { readFeed } from '../query/feed.ts';
import { loadSavedFilter, savedSearchCondition } from '../query/saved-searches.ts';
import type { Sql } from '../store/db.ts';
import type { DeliveryBatch, Destination, RecordBatch } from './destination.ts';
import { DESTINATION_KINDS } from './destinations.ts';
import { httpSender } from './http-post.ts';
import { matcher } from './stream-filter.ts';
import { type StreamMetrics, streamMetrics } from './stream-metrics.ts';
import type { SecretBox } from './secret-box.ts';
import type { StreamRow } from './stream-store.ts';

export interface StreamWorkerOptions {
  sql: Sql;
  audit: MetaAudit;
  secrets: SecretBox;
  config: StreamsConfig;
  /** Wakes idle loops as soon as this process commits events of their tenant. */
  committer?: GroupCommitter;
  logger?: Logger;
  /** How often idle loops look for new events (other processes' commits) and new destinations; default 1000 ms. */
  pollMs?: number;
  /** Events read per batch; default 1000. */
  batchSize?: number;
  /** Backoff base; default 1000 ms. */
  retryBaseMs?: number;
  /**
   * Pages read ahead of delivery at once, over every destination of this process; default 8. Each
   * holds a database connection while it runs, so this bounds what streams can take from the pool
   * (the rest is ingest's and the API's); past it, a stream reads each page when it needs it.
   */
  readsAhead?: number;
  /** Where the streams' lag and deliveries are reported; none by default. */
  metrics?: Metrics;
}

/** A page of the feed as a destination's batch: undefined when the filter selected none of its events. */
interface FeedBatch {
  batch: DeliveryBatch | RecordBatch | undefined;
  /** Where the next page starts. */
  next: number;
}

export class StreamWorker {
  /** Identifies this process in `lease_owner`. */
  readonly owner = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly loops = new Map<string, DestinationLoop>();
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readingAhead = 0;
  readonly measured: StreamMetrics;

  constructor(readonly options: StreamWorkerOptions) {
    this.measured = streamMetrics(options.sql, options.metrics);
  }

  /** Takes one of the process's read-ahead slots if one is free; `readAheadDone` gives it back. */
  takeReadAhead(): boolean {
    if (this.readingAhead >= (this.options.readsAhead ?? 8)) return false;
    this.readingAhead += 1;
    return true;
  }

  readAheadDone(): void {
    this.readingAhead -= 1;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.options.committer?.onCommitted((tenants) => {
      for (const loop of this.loops.values()) if (tenants.has(loop.tenant)) loop.wake();
    });
    const tick = () => {
      this.claiming = this.claim().catch((err: unknown) => this.options.logger?.error({ err }, 'stream worker: claiming destinations failed'));
      void this.claiming.finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs ?? 1000);
      });
    };
    tick();
  }

  /** Looks for destinations to deliver now (after a create or resume) instead of at the next poll. */
  poke(): void {
    if (this.stopped) return;
    void this.claim().catch(() => {});
  }

  /** Finishes in-flight deliveries (each within its timeout), releases every lease, stops. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    await this.claiming;
    await Promise.all([...this.loops.values()].map((loop) => loop.stop()));
  }

  /** Claims active destinations no live process holds, and starts a loop for each. */
  private async claim(): Promise<void> {
    const { sql, config } = this.options;
    const running = [...this.loops.keys()];
    const claimed = await sql<StreamRow[]>`
      update stream_destinations set lease_owner = ${this.owner}, lease_until = now() + ${config.leaseMs} * interval '1 millisecond'
      where id in (
        select id from stream_destinations
        where status = 'active' and (lease_until is null or lease_until < now() or lease_owner = ${this.owner})
          and not (id = any(${running}::text[]))
        for update skip locked)
      returning *`;
    for (const row of claimed) {
      // A claim running concurrently (poke) may have started this one's loop already.
      if (this.loops.has(row.id)) continue;
      if (this.stopped) {
        // Claimed while stopping: hand it back at once rather than when the lease runs out.
        await sql`update stream_destinations set lease_owner = null, lease_until = null where id = ${row.id} and lease_owner = ${this.owner}`;
        continue;
      }
      const loop = new DestinationLoop(this, row);
      this.loops.set(row.id, loop);
      void loop.run().finally(() => this.loops.delete(row.id));
    }
  }
}

/**
 * Pages read ahead of delivery. Reading a page takes about as long as delivering one, so with
 * one page ahead the loop still waits for reads; two keep one ready.
 */
const READ_AHEAD = 2;

class DestinationLoop {
  readonly tenant: string;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  /** Commits of the tenant seen so far (to tell whether one arrived while reading). */
  private wakes = 0;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly worker: StreamWorker,
    private row: StreamRow,
  ) {
    this.tenant = row.tenant_id;
  }

  wake(): void {
    this.wakes++;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.done;
  }

  run(): Promise<void> {
    this.done = this.loop();
    return this.done;
  }

  private async loop(): Promise<void> {
    const { sql, logger } = this.worker.options;
    const batchSize = this.worker.options.batchSize ?? 1000;
    let destination: Destination<RecordBatch | DeliveryBatch> | undefined;
    let version = -1;
    let read: ((from: number) => Promise<FeedBatch>) | undefined;
    // The next pages, read while the current one is being delivered, each on its own connection
    // (valid only if the cursor is where one was read from, and the configuration the one it was
    // read for).
    let ahead: { from: number; version: number; page: Promise<FeedBatch> }[] = [];
    // The row as the last cursor advance returned it (that UPDATE renewed the lease too).
    let advanced: StreamRow | undefined;
    try {
      while (!this.stopping) {
        const row = advanced ?? (await this.renew());
        advanced = undefined;
        if (!row) return; // paused, deleted, or another process took over
        this.row = row;
        if (row.updated_at.getTime() !== version) {
          await destination?.close();
          destination = undefined;
          version = row.updated_at.getTime();
          try {
            destination = this.build(row);
            read = feedReader(sql, row, batchSize);
          } catch (err) {
            version = -1; // build again next time
            if (await this.failed(err)) return;
            continue;
          }
        }
        const from = row.cursor_seq;
        const wakes = this.wakes;
        const early = ahead[0]?.from === from && ahead[0].version === version ? ahead.shift()! : undefined;
        if (!early) ahead = [];
        let page = early ? await early.page : await read!(from);
        // Read ahead before the newest events were: read again.
        if (early && page.next === from) page = await read!(from);
        if (page.next === from) {
          // Nothing new; unless a commit arrived while reading, wait for one (or the poll interval).
          if (this.wakes === wakes) await this.sleep(this.worker.options.pollMs ?? 1000);
          continue;
        }
        if (page.next - from >= batchSize) {
          // A full page: more are likely waiting. Leaf positions have no gaps, so each following
          // page starts `batchSize` after the one before.
          for (
            let at = ahead.length > 0 ? ahead.at(-1)!.from + batchSize : page.next;
            ahead.length < READ_AHEAD && this.worker.takeReadAhead();
            at += batchSize
          ) {
            const next = read!(at);
            // A failed read ahead is read again, and fails there.
            next.catch(() => {}).finally(() => this.worker.readAheadDone());
            ahead.push({ from: at, version, page: next });
          }
        }
        if (page.batch) {
          const { deliveries, events } = this.worker.measured;
          try {
            await destination!.deliver(page.batch, AbortSignal.timeout(this.worker.options.config.timeoutMs));
          } catch (err) {
            deliveries.inc({ kind: row.kind, result: 'failed' });
            if (await this.failed(err)) return;
            continue;
          }
          deliveries.inc({ kind: row.kind, result: 'delivered' });
          events.inc({ kind: row.kind }, page.batch.records.length);
        }
        advanced = await this.advance(from, page.next, page.batch !== undefined);
      }
    } catch (err) {
      logger?.error({ err, stream: this.row.id }, 'stream worker: destination loop failed; retried at the next claim');
    } finally {
      await destination?.close().catch(() => {});
      await this.release().catch(() => {});
    }
  }

  private build(row: StreamRow): Destination<RecordBatch | DeliveryBatch> {
    const kind = DESTINATION_KINDS.get(row.kind)!;
    const format = EVENT_FORMATS.get(row.format)!;
    const secret = row.secret ? this.worker.options.secrets.open(row.secret, row.id) : undefined;
    return kind.create({ id: row.id, tenant: row.tenant_id, name: row.name, config: kind.parseConfig(row.config), secret, format });
  }

  /** Extends the lease; the destination's current row, or undefined when it is no longer ours to deliver. */
  private async renew(): Promise<StreamRow | undefined> {
    const { sql, config } = this.worker.options;
    const [row] = await sql<StreamRow[]>`
      update stream_destinations set lease_until = now() + ${config.leaseMs} * interval '1 millisecond'
      where id = ${this.row.id} and lease_owner = ${this.worker.owner} and status = 'active'
      returning *`;
    return row;
  }

  /**
   * Moves the cursor past a delivered page and renews the lease, unless a replay moved the cursor
   * meanwhile, the destination was paused, or the lease is gone; the row when it did.
   */
  private async advance(from: number, next: number, delivered: boolean): Promise<StreamRow | undefined> {
    const { sql, config } = this.worker.options;
    const [row] = await sql<StreamRow[]>`
      update stream_destinations
      set cursor_seq = ${next}, attempts = 0, lease_until = now() + ${config.leaseMs} * interval '1 millisecond',
          last_success_at = case when ${delivered} then now() else last_success_at end
      where id = ${this.row.id} and lease_owner = ${this.worker.owner} and cursor_seq = ${from} and status = 'active'
      returning *`;
    return row;
  }

  /** Records a failed delivery; pauses the destination after too many. True when it was paused. */
  private async failed(err: unknown): Promise<boolean> {
    const { sql, config, logger } = this.worker.options;
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
    const [row] = await sql<{ attempts: number }[]>`
      update stream_destinations set attempts = attempts + 1, last_error = ${message}, last_error_at = now()
      where id = ${this.row.id} and lease_owner = ${this.worker.owner}
      returning attempts`;
    if (!row) return true; // no longer ours
    logger?.warn({ stream: this.row.id, tenant: this.tenant, attempts: row.attempts, error: message }, 'stream delivery failed');
    if (row.attempts >= config.maxFailures) {
      await this.pause(message, row.attempts);
      return true;
    }
    const base = this.worker.options.retryBaseMs ?? 1000;
    await this.sleep(Math.random() * Math.min(config.retryMaxMs, base * 2 ** (row.attempts - 1)), { wakeable: false });
    return false;
  }

  private async pause(error: string, attempts: number): Promise<void> {
    const { sql, audit, config, logger } = this.worker.options;
    const reason = `${attempts} consecutive failed deliveries; last: ${error}`;
    const [paused] = await sql<StreamRow[]>`
      update stream_destinations set status = 'paused', paused_reason = ${reason}, lease_owner = null, lease_until = null
      where id = ${this.row.id} and lease_owner = ${this.worker.owner} and status = 'active'
      returning *`;
    if (!paused) return;
    logger?.error({ stream: paused.id, tenant: paused.tenant_id, error }, 'stream paused after repeated delivery failures');
    await audit
      .record({
        tenant: paused.tenant_id,
        principal: { actor: { type: 'system', id: 'trailproof-stream-worker', name: 'Trailproof stream worker' } },
        action: 'stream.paused',
        targets: [{ type: 'stream', id: paused.id, name: paused.name }],
        metadata: { kind: paused.kind, reason, cursor: paused.cursor_seq },
      })
      .catch((err: unknown) => logger?.error({ err, stream: paused.id }, 'recording stream.paused failed'));
    if (config.alertWebhook)
      await sendAlert(config.alertWebhook, paused, reason).catch((err: unknown) => logger?.error({ err, stream: paused.id }, 'alert webhook failed'));
  }

  private async release(): Promise<void> {
    await this.worker.options.sql`
      update stream_destinations set lease_owner = null, lease_until = null
      where id = ${this.row.id} and lease_owner = ${this.worker.owner}`;
  }

  /** Waits `ms`, or less when woken (new commit, stop); backoff sleeps only end early on stop. */
  private sleep(ms: number, options: { wakeable?: boolean } = {}): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wakeable = options.wakeable !== false;
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        if (wakeable || this.stopping) done();
      };
    });
  }
}

/** How a destination's pages are read: the stored events, filtered and written by the format's `record`. */
function feedReader(sql: Sql, row: StreamRow, batchSize: number): (from: number) => Promise<FeedBatch> {
  const format = EVENT_FORMATS.get(row.format)!;
  // A saved search is read at every page, so a change to it applies from the next page on.
  const saved = row.filter.saved_search;
  // (A fragment is a thenable query: it travels wrapped, never awaited.)
  const where = async () => (saved === undefined ? {} : { sql: savedSearchCondition(sql, await loadSavedFilter(sql, row.tenant_id, saved)) });
  const selected = matcher(row.filter);
  return async (from) => {
    const page = await readFeed(sql, row.tenant_id, from, batchSize, (await where()).sql);
    const events = page.events.filter(selected);
    return { next: page.next, batch: events.length > 0 ? { records: events.map((e) => format.record(e)), events } : undefined };
  };
}

/** TRAILPROOF_ALERT_WEBHOOK: a JSON POST naming the paused destination (never its config or secret). */
async function sendAlert(url: string, row: StreamRow, reason: string): Promise<void> {
  const sender = httpSender();
  try {
    const body = JSON.stringify({
      type: 'stream.paused',
      tenant: row.tenant_id,
      stream: { id: row.id, name: row.name, kind: row.kind },
      reason,
      cursor: row.cursor_seq,
      at: new Date().toISOString(),
    });
    await sender.post(url, { 'content-type': 'application/json', 'user-agent': 'trailproof-alert/1' }, body, AbortSignal.timeout(10_000));
  } finally {
    sender.close();
  }
}
