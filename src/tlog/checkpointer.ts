/**
 * Issues the signed checkpoints of every tenant's tree (c2sp.org/tlog-checkpoint as a signed note)
 * into ledger_checkpoints, where they are kept forever:
 *
 * - while a tree grows, at most one checkpoint per second per tenant (docs/ledger.md);
 * - for an unchanged tree, again every `reissueMs` (default 5 minutes), so monitors see the log is
 *   alive. A checkpoint carries no timestamp, and Ed25519 is deterministic, so a re-issued note is
 *   byte-identical to the last one: the new row's `issued_at` is the liveness signal (and witnesses
 *   add fresh, timestamped cosignatures to it).
 *
 * Several server processes may share one database: each decision is taken in a transaction holding
 * a per-tenant advisory lock, reading the head and the newest checkpoint afresh, so processes never
 * issue twice for the same growth and never sign a size smaller than one already signed (a log "MUST
 * not sign any checkpoint which is inconsistent with any checkpoint it previously signed").
 */
import { LedgerError } from '../ledger/errors.ts';
import { type Metrics, rowsGauge } from '../metrics.ts';
import { SerialRuns } from '../serial-runs.ts';
import { formatCheckpoint } from '../ledger/checkpoint.ts';
import { rootFromFrontier } from '../ledger/merkle.ts';
import { signNote } from '../ledger/note.ts';
import type { Sql, TxSql } from '../store/db.ts';
import { type CheckpointLag, checkpointLags, type CheckpointRow } from './checkpoint-store.ts';
import type { LedgerKeys } from './keys.ts';

export interface CheckpointerOptions {
  /** Re-sign an unchanged tree after this many ms; 0 = never. Default 300,000. */
  reissueMs?: number;
  /** Least time between two checkpoints of one growing tree. Default 1,000. */
  minIntervalMs?: number;
  /** How often the background loop looks for trees to checkpoint. Default 1,000. */
  pollMs?: number;
  /** Errors of the background loop and of listeners (they never stop the loop). */
  onError?: (err: unknown) => void;
  /** Where the checkpoints' age per tenant is reported; none by default. */
  metrics?: Metrics;
}

export type CheckpointListener = (checkpoint: CheckpointRow) => void | Promise<void>;

/** Advisory lock class for checkpoint issuing (the second key is the tenant's hashtext). */
const LOCK_CLASS = 0x74706370; // "tpcp"

type Decision = { row: CheckpointRow; issued: boolean } | { waitMs: number } | undefined;

export class Checkpointer {
  readonly #sql: Sql;
  readonly #keys: LedgerKeys;
  readonly #reissueMs: number;
  readonly #minIntervalMs: number;
  readonly #pollMs: number;
  readonly #onError: (err: unknown) => void;
  readonly #listeners = new Set<CheckpointListener>();
  readonly #queues = new Map<string, SerialRuns<CheckpointRow>>();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  #stopped = false;
  readonly #notifying = new Set<Promise<unknown>>();

  constructor(sql: Sql, keys: LedgerKeys, options: CheckpointerOptions = {}) {
    this.#sql = sql;
    this.#keys = keys;
    this.#reissueMs = options.reissueMs ?? 300_000;
    this.#minIntervalMs = options.minIntervalMs ?? 1_000;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#onError = options.onError ?? (() => {});
    if (options.metrics) checkpointMetrics(sql, options.metrics);
  }

  /** Calls `listener` with every checkpoint this process issues, after it committed. Returns an unsubscribe. */
  onCheckpoint(listener: CheckpointListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts the background loop. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const schedule = () => {
      this.#timer = setTimeout(() => {
        this.#tick = this.tick()
          .catch(this.#onError)
          .finally(() => {
            this.#tick = undefined;
            if (!this.#stopped) schedule();
          });
      }, this.#pollMs);
      this.#timer.unref();
    };
    schedule();
  }

  /** Stops the loop and checkpoints every tree that grew since its last checkpoint (graceful shutdown). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick;
    const grown = await this.#sql<{ tenant_id: string }[]>`
      select h.tenant_id from ledger_heads h
      left join lateral (select size from ledger_checkpoints c where c.tenant_id = h.tenant_id order by size desc, id desc limit 1) c on true
      where c.size is null or h.size > c.size`;
    await Promise.all(grown.map(({ tenant_id }) => this.issue(tenant_id).catch(this.#onError)));
    await Promise.all([...this.#notifying]);
  }

  /**
   * A checkpoint of the tenant's tree as it was at (or after) this call: the stored one if the tree
   * has not grown since, else a new one, issued as soon as the one-per-second limit allows.
   * Concurrent calls for one tenant share their work.
   */
  issue(tenant: string): Promise<CheckpointRow> {
    let runs = this.#queues.get(tenant);
    if (!runs)
      this.#queues.set(
        tenant,
        (runs = new SerialRuns(
          () => this.#issueNow(tenant),
          () => this.#queues.delete(tenant),
        )),
      );
    // A run under way may have read the head before this call: SerialRuns runs once more after it.
    return runs.run();
  }

  /** One pass of the loop: every tenant whose tree grew (and may be checkpointed) or is due a re-issue. */
  async tick(): Promise<void> {
    const due = await this.#sql<{ tenant_id: string }[]>`
      select h.tenant_id from ledger_heads h
      left join lateral (
        select size, issued_at from ledger_checkpoints c where c.tenant_id = h.tenant_id order by size desc, id desc limit 1
      ) c on true
      where c.size is null
         or (h.size > c.size and c.issued_at <= now() - make_interval(secs => ${this.#minIntervalMs / 1000}))
         or (${this.#reissueMs > 0} and c.issued_at <= now() - make_interval(secs => ${this.#reissueMs / 1000}))`;
    for (const { tenant_id } of due) {
      if (this.#stopped) return;
      try {
        await this.#decide(tenant_id, 'loop');
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  async #issueNow(tenant: string): Promise<CheckpointRow> {
    for (;;) {
      const decision = await this.#decide(tenant, 'request');
      if (decision && 'row' in decision) return decision.row;
      if (!decision) throw new LedgerError('TENANT_NOT_FOUND', `tenant "${tenant}" does not exist`);
      await new Promise((resolve) => setTimeout(resolve, decision.waitMs));
    }
  }

  /**
   * Under the tenant's lock: issue a checkpoint if one is due. `request` (someone needs a checkpoint
   * of the current head) returns the stored one when the tree has not grown, or how long to wait.
   * `loop` issues only what is due and never waits (another process may hold the lock: skip).
   */
  async #decide(tenant: string, mode: 'request' | 'loop'): Promise<Decision> {
    const decision = await this.#sql.begin(async (tx): Promise<Decision> => {
      if (mode === 'loop') {
        const [lock] = await tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock(${LOCK_CLASS}, hashtext(${tenant})) as ok`;
        if (!lock?.ok) return undefined;
      } else {
        await tx`select pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${tenant}))`;
      }
      const [head] = await tx<{ size: number; root: Buffer; frontier: Buffer[] }[]>`
        select size, root, frontier from ledger_heads where tenant_id = ${tenant}`;
      if (!head) return undefined;
      const [last] = await tx<(CheckpointRow & { age_ms: number })[]>`
        select id, tenant_id as tenant, size, root, note, key_name, key_id, issued_at,
               (extract(epoch from (now() - issued_at)) * 1000)::float8 as age_ms
        from ledger_checkpoints where tenant_id = ${tenant} order by size desc, id desc limit 1`;
      if (last && head.size < last.size) {
        throw new LedgerError('INCONSISTENT', `tenant ${tenant}: tree size ${head.size} is below checkpoint size ${last.size}; refusing to sign`);
      }
      if (last && head.size === last.size) {
        const reissue = this.#reissueMs > 0 && last.age_ms >= this.#reissueMs;
        if (!reissue) return mode === 'request' ? { row: withoutAge(last), issued: false } : undefined;
      } else if (last && last.age_ms < this.#minIntervalMs) {
        return mode === 'request' ? { waitMs: Math.ceil(this.#minIntervalMs - last.age_ms) } : undefined;
      }
      return { row: await this.#insert(tx, tenant, head), issued: true };
    });
    if (decision && 'row' in decision && decision.issued) this.#notify(decision.row);
    return decision;
  }

  async #insert(tx: TxSql, tenant: string, head: { size: number; root: Buffer; frontier: Buffer[] }): Promise<CheckpointRow> {
    // Sign only a root that the head's own frontier reproduces: a corrupted head row must not be signed.
    if (!rootFromFrontier(head.size, head.frontier).equals(head.root)) {
      throw new LedgerError('INCONSISTENT', `tenant ${tenant}: the stored root does not match the stored frontier; refusing to sign`);
    }
    const signer = this.#keys.signerFor(tenant);
    const note = signNote(formatCheckpoint({ origin: this.#keys.origin(tenant), size: head.size, root: head.root }), [signer]);
    const [row] = await tx<CheckpointRow[]>`
      insert into ledger_checkpoints (tenant_id, size, root, note, key_name, key_id)
      values (${tenant}, ${head.size}, ${head.root}, ${note}, ${signer.name}, ${signer.keyId.toString(16).padStart(8, '0')})
      returning id, tenant_id as tenant, size, root, note, key_name, key_id, issued_at`;
    return row!;
  }

  /** Listeners run in the background (a slow witness must not hold up a proof); stop() waits for them. */
  #notify(row: CheckpointRow): void {
    for (const listener of this.#listeners) {
      const run = (async () => listener(row))()
        .catch(this.#onError)
        .finally(() => this.#notifying.delete(run));
      this.#notifying.add(run);
    }
  }
}

function withoutAge(row: CheckpointRow & { age_ms: number }): CheckpointRow {
  const { age_ms: _age, ...rest } = row;
  return rest;
}

/**
 * How far each tenant's newest checkpoint is behind, read from the database at each scrape, so every
 * process reports the checkpoints of all: the `seriesLimit` tenants furthest behind.
 */
function checkpointMetrics(sql: Sql, metrics: Metrics): void {
  const rows = metrics.read(() => checkpointLags(sql, metrics.seriesLimit));
  const labels = (row: CheckpointLag) => ({ tenant: row.tenant });
  rowsGauge(metrics, {
    name: 'trailproof_checkpoint_age_seconds',
    help: "Seconds since the tenant's newest signed checkpoint was issued (re-issued every TRAILPROOF_CHECKPOINT_REISSUE_SECONDS)",
    labelNames: ['tenant'],
    rows,
    labels,
    value: (row) => row.age,
  });
  rowsGauge(metrics, {
    name: 'trailproof_checkpoint_unsigned_leaves',
    help: "Leaves of the tenant's tree that no signed checkpoint covers yet",
    labelNames: ['tenant'],
    rows,
    labels,
    value: (row) => row.unsigned,
  });
}
