/**
 * Records of reads of one event (`audit_log.viewed` for GET /v1/events/{uid} and its proof), on
 * their way into the tenant's ledger (docs/api.md#reads-are-audited).
 *
 * A read is answered only once its record committed. Appending to a ledger is the costly part of
 * that: the tenant's head lock (which its ingest holds too), the tree, four tables and their
 * indexes. So the record first commits to `read_records`, a plain table, as durable as any commit,
 * and joins the ledger a moment later (`delayMs`), many records per append.
 *
 * Moving is exactly-once in effect. A pass locks the rows it takes (other processes skip them),
 * appends them under the idempotency id `read-record:<row id>` and deletes them in the transaction
 * that holds the locks. If that transaction is lost after the append committed, a later pass
 * appends them again and the ledger answers duplicate. Records a stopped process left behind are
 * moved by the sweep of any process (`start`) within `sweepMs`.
 */
import type { EventBody } from '../event/types.ts';
import type { GroupCommitter } from '../ingest/group-commit.ts';
import { withReservedConnection, type ReservedSql, type Sql } from '../store/db.ts';
import { SerialRuns } from '../serial-runs.ts';
import type { AccessRecord, MetaAudit } from './meta-audit.ts';

export interface ReadRecordsOptions {
  /** How long a new record waits for others to join its pass; default 50 ms. */
  delayMs?: number;
  /** How often a started instance moves whatever it finds, whoever stored it; default 5 s. */
  sweepMs?: number;
  onError?: (err: unknown) => void;
}

/** Records moved in one transaction at most. */
const PASS_SIZE = 1000;

export class ReadRecords {
  readonly #delayMs: number;
  readonly #sweepMs: number;
  readonly #onError: (err: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #sweep: NodeJS.Timeout | undefined;
  /** The passes: one at a time, and a call during a pass gets one more after it (the pass may have missed its record). */
  readonly #passes = new SerialRuns(() => this.#moveAll());
  #stopped = false;

  constructor(
    private readonly sql: Sql,
    private readonly committer: GroupCommitter,
    private readonly audit: MetaAudit,
    options: ReadRecordsOptions = {},
  ) {
    this.#delayMs = options.delayMs ?? 50;
    this.#sweepMs = options.sweepMs ?? 5_000;
    this.#onError = options.onError ?? (() => {});
  }

  /**
   * Commits the record. With `ifEvent` (a uid), only if the tenant's ledger holds that event:
   * resolves false, storing nothing, when it does not.
   */
  async add(entry: AccessRecord, ifEvent?: string): Promise<boolean> {
    const body = JSON.stringify(this.audit.body(entry));
    const insert = (q: Sql | ReservedSql) =>
      ifEvent === undefined
        ? q`insert into read_records (tenant_id, body) values (${entry.tenant}, ${body}::text::jsonb) returning id`
        : q`insert into read_records (tenant_id, body) select ${entry.tenant}, ${body}::text::jsonb
          where exists (select 1 from ledger_leaves where uid = ${ifEvent}::uuid and tenant_id = ${entry.tenant}) returning id`;
    const rows = this.audit.commitOf(entry.action) === 'async' ? await withoutFlushWait(this.sql, insert) : await insert(this.sql);
    if (rows.length === 0) return false;
    this.#schedule();
    return true;
  }

  /** How many of the tenant's records are committed but not yet in its ledger. */
  async pending(tenant: string): Promise<number> {
    const [row] = await this.sql<{ n: number }[]>`select count(*)::int as n from read_records where tenant_id = ${tenant}`;
    return row!.n;
  }

  /** Moves every record committed so far into its ledger. */
  flush(): Promise<void> {
    return this.#passes.run();
  }

  /** Moves what earlier processes left, then sweeps every `sweepMs`. */
  start(): void {
    if (this.#sweep || this.#stopped) return;
    void this.#passes.run().catch(this.#onError);
    this.#sweep = setInterval(() => void this.#passes.run().catch(this.#onError), this.#sweepMs);
    this.#sweep.unref();
  }

  /**
   * Stops the timers and moves what is left (graceful shutdown: before the committer closes). A
   * failure is reported, not thrown: the records stay stored, for the next start to move.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#sweep);
    await this.#passes.run().catch(this.#onError);
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#passes.run().catch(this.#onError);
    }, this.#delayMs);
    this.#timer.unref();
  }

  async #moveAll(): Promise<void> {
    while ((await this.#moveSome()) === PASS_SIZE);
  }

  #moveSome(): Promise<number> {
    return withReservedConnection(this.sql, async (tx) => {
      await tx`begin`;
      const rows = await tx<{ id: number; tenant_id: string; body: EventBody }[]>`
        select id, tenant_id, body from read_records order by id limit ${PASS_SIZE} for update skip locked`;
      if (rows.length > 0) {
        const commit = this.audit.commitOf('audit_log.viewed');
        await this.committer.append(rows.map((r) => ({ tenant: r.tenant_id, body: { ...r.body, id: `read-record:${r.id}` }, commit })));
        await tx`delete from read_records where id = any(${rows.map((r) => r.id)}::int8[])`;
      }
      await tx`commit`;
      return rows.length;
    });
  }
}

/** Runs `statement` in a transaction that commits without waiting for the WAL flush, in one round trip. */
function withoutFlushWait<T>(sql: Sql, statement: (q: ReservedSql) => Promise<T>): Promise<T> {
  return withReservedConnection(sql, async (tx) => {
    const [, , result] = await Promise.all([tx`begin`, tx`set local synchronous_commit = off`, statement(tx), tx`commit`]);
    return result;
  });
}
