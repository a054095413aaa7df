/**
 * A follower of committed events: reads each tenant's events in ledger index order (= commit order,
 * feed.ts) from a durable cursor and hands each range to a handler inside the transaction that
 * moves the cursor past it. What the handler writes and the cursor commit together, so every event
 * is applied exactly once: a crash before the commit applies the range again from the old cursor,
 * never twice. The cursor row is locked (FOR UPDATE SKIP LOCKED) for the transaction, so processes
 * sharing a database never apply one tenant's range at the same time.
 *
 * Followers run beside ingest, not in its transaction: what they derive (rollups, alert state)
 * costs ingest nothing, and trails the commit by one wake-up. A commit wakes the follower at once
 * when its last pass started `minIntervalMs` ago or more, else when that much time has passed: under
 * load, commits (a read's record among them) come faster than passes, and a pass per commit, with
 * its own round trips and transaction, would take the database's time from ingest and reads.
 */
import type { Logger } from 'pino';
import type { GroupCommitter } from '../ingest/group-commit.ts';
import type { Sql, TxSql } from '../store/db.ts';

/** What a follower derives from committed events. */
export interface FollowerHandler {
  /** The follower's name: its cursor's key in `follower_cursors`. */
  readonly name: string;
  /**
   * Applies the tenant's events with ledger index in [from, to), every one committed, inside the
   * transaction that moves the cursor to `to`.
   */
  apply(tx: TxSql, tenant: string, from: number, to: number): Promise<void>;
}

export interface FollowerOptions {
  sql: Sql;
  handler: FollowerHandler;
  /** Wakes the follower as soon as this process commits events; other processes' are polled. */
  committer?: GroupCommitter;
  logger?: Logger;
  /** How often the follower looks for events committed elsewhere; default 1000 ms. */
  pollMs?: number;
  /** Events applied per transaction at most; default 5000. */
  batchSize?: number;
  /** Least time between the starts of two passes; default DEFAULT_MIN_INTERVAL_MS. */
  minIntervalMs?: number;
}

/** The default least time between the starts of two passes. */
export const DEFAULT_MIN_INTERVAL_MS = 500;

export class CommittedFollower {
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private again = false;
  /** When the last pass started (performance.now()). */
  private lastStart = -Infinity;
  /** Whether `timer` is a wake-up held back by minIntervalMs (not the poll). */
  private held = false;
  private unsubscribe: (() => void) | undefined;

  constructor(readonly options: FollowerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.options.committer?.onCommitted(() => this.wake());
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // The timer cleared may have been a held-back wake-up: a later start() must not wait for it.
    this.held = false;
    this.unsubscribe?.();
    await this.running;
  }

  /** Runs a pass now (or right after the one running). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const wait = this.lastStart + (this.options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS) - performance.now();
    if (wait > 0) {
      if (this.held) return;
      clearTimeout(this.timer);
      this.held = true;
      this.timer = setTimeout(() => {
        this.held = false;
        this.wake();
      }, wait);
      return;
    }
    clearTimeout(this.timer);
    this.held = false;
    this.lastStart = performance.now();
    this.running = this.pass()
      .catch((err: unknown) => this.options.logger?.error({ err, follower: this.options.handler.name }, 'follower pass failed; retried at the next poll'))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else this.timer = setTimeout(() => this.wake(), this.options.pollMs ?? 1000);
      });
  }

  /** Applies every committed event of every tenant up to the heads seen now; resolves when caught up. */
  async catchUp(): Promise<void> {
    while (await this.pass());
  }

  /**
   * Applies each tenant's events up to its head seen now, and again while a range was cut at
   * `batchSize` (a backlog); whether it applied any. A tenant behind whose cursor another process
   * holds is left to that process.
   */
  private async pass(): Promise<boolean> {
    const batch = this.options.batchSize ?? 5000;
    let applied = false;
    for (;;) {
      let backlog = false;
      for (const tenant of await this.tenantsBehind()) {
        if (this.stopped && this.running) return false;
        const events = await this.step(tenant, batch);
        if (events > 0) applied = true;
        if (events === batch) backlog = true;
      }
      if (!backlog) return applied;
    }
  }

  private async tenantsBehind(): Promise<string[]> {
    const { sql, handler } = this.options;
    const rows = await sql<{ tenant_id: string }[]>`
      select h.tenant_id from ledger_heads h
      left join follower_cursors c on c.follower = ${handler.name} and c.tenant_id = h.tenant_id
      where h.size > coalesce(c.next_seq, 0)
      order by h.tenant_id`;
    return rows.map((r) => r.tenant_id);
  }

  /** Applies the tenant's next range; how many events (0 when another process holds its cursor or none is new). */
  private async step(tenant: string, batch: number): Promise<number> {
    const { sql, handler } = this.options;
    await sql`insert into follower_cursors (follower, tenant_id) values (${handler.name}, ${tenant}) on conflict do nothing`;
    return sql.begin(async (tx) => {
      const [cursor] = await tx<{ next_seq: number; size: number }[]>`
        select c.next_seq, h.size from follower_cursors c join ledger_heads h on h.tenant_id = c.tenant_id
        where c.follower = ${handler.name} and c.tenant_id = ${tenant}
        for update of c skip locked`;
      if (!cursor || cursor.size <= cursor.next_seq) return 0;
      const from = cursor.next_seq;
      const to = Math.min(cursor.size, from + batch);
      await handler.apply(tx, tenant, from, to);
      await tx`update follower_cursors set next_seq = ${to}, updated_at = now() where follower = ${handler.name} and tenant_id = ${tenant}`;
      return to - from;
    });
  }
}
