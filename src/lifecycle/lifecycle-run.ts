/**
 * Lifecycle runs (docs/lifecycle.md "Runs"): the purge of every tenant (or one), on a schedule in
 * the service and on demand (`trailproof lifecycle run`, `POST /v1/lifecycle/run`). Runs of one
 * tenant never overlap, across processes too (the tenant's lifecycle lock), and any run finishes
 * what a run killed before it left unfinished.
 *
 * Every run is a row of `lifecycle_runs`: its progress while it works (which tenant, which phase,
 * how far through the range), and its result after. A run asked for through the API answers at once
 * and is followed there (`GET /v1/lifecycle/runs/{id}`), since a large expired period takes minutes.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { PeriodicJob } from '../periodic-job.ts';
import type { Sql } from '../store/db.ts';
import { purgeTenant, type PurgeOptions, type PurgeResult, type PurgeStep } from './purge.ts';

export type RunTrigger = 'schedule' | 'api' | 'cli';

/** Where a run is: the tenant it works on, the phase, and how far through the phase's range. */
export interface RunProgress extends PurgeStep {
  tenant: string;
  /** Tenants finished (purged or failed) of those the run covers. */
  tenants_done: number;
  tenants_total: number;
}

export interface LifecycleRunResult {
  started_at: string;
  finished_at: string;
  tenants: PurgeResult[];
  /** Tenants whose purge failed, with the reason (the others went on). */
  failed: { tenant: string; error: string }[];
}

/** A run as `lifecycle_runs` holds it: `interrupted` when its process died while it ran. */
export interface LifecycleRun {
  id: string;
  /** The one tenant it covers, or null for every tenant. */
  tenant: string | null;
  trigger: RunTrigger;
  requested_by: string | null;
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  started_at: string;
  finished_at: string | null;
  progress: RunProgress | null;
  tenants: PurgeResult[];
  failed: { tenant: string; error: string }[];
}

/** Between progress writes to `lifecycle_runs` by default (each also moves the heartbeat). */
const PROGRESS_EVERY_MS = 1_000;
/** A running run whose heartbeat is older than this reads as interrupted. */
const HEARTBEAT_STALE_SECONDS = 60;

/** Purges every tenant, or only `tenant`, as the run `id`, recording its progress and result. */
async function execute(
  options: PurgeOptions & { logger?: Logger; progressEveryMs?: number },
  id: string,
  only: string | undefined,
  signal: AbortSignal,
  onProgress?: (at: RunProgress) => void,
): Promise<LifecycleRunResult> {
  const { sql } = options;
  const startedAt = new Date().toISOString();
  const result: LifecycleRunResult = { started_at: startedAt, finished_at: startedAt, tenants: [], failed: [] };
  try {
    const tenants =
      only !== undefined ? [only] : (await sql<{ tenant_id: string }[]>`select tenant_id from ledger_heads order by tenant_id`).map((r) => r.tenant_id);
    // The first progress comes one interval into the run: a short run shows only its result.
    let written = Date.now();
    let writing: Promise<unknown> = Promise.resolve();
    for (const [done, tenant] of tenants.entries()) {
      const progress = (step: PurgeStep) => {
        // Progress comes between batches and transactions, where a run may stop and the next one go on.
        if (signal.aborted) throw new Error('the service stopped during the run; the next run finishes it');
        if (Date.now() - written < (options.progressEveryMs ?? PROGRESS_EVERY_MS)) return;
        written = Date.now();
        const at: RunProgress = { tenant, ...step, tenants_done: done, tenants_total: tenants.length };
        onProgress?.(at);
        // One write at a time; a failed one only delays what the run shows.
        writing = writing.then(() => sql`update lifecycle_runs set progress = ${sql.json(at as never)}, heartbeat_at = now() where id = ${id}`).catch(() => {});
      };
      try {
        const purged = await purgeTenant({ ...options, progress }, tenant);
        result.tenants.push(purged);
        if (purged.removed > 0) options.logger?.info({ tenant, removed: purged.removed, records: purged.records }, 'lifecycle: purged expired events');
      } catch (err) {
        options.logger?.error({ err, tenant }, 'lifecycle: purge failed');
        result.failed.push({ tenant, error: err instanceof Error ? err.message : String(err) });
      }
    }
    await writing;
  } catch (err) {
    result.failed.push({ tenant: only ?? '*', error: err instanceof Error ? err.message : String(err) });
  }
  result.finished_at = new Date().toISOString();
  await sql`
    update lifecycle_runs set status = ${result.failed.length === 0 ? 'succeeded' : 'failed'}, finished_at = ${result.finished_at},
      heartbeat_at = now(), progress = null, result = ${sql.json({ tenants: result.tenants, failed: result.failed } as never)}
    where id = ${id}`;
  return result;
}

async function begin(sql: Sql, tenant: string | undefined, trigger: RunTrigger, requestedBy: string | undefined): Promise<string> {
  const id = randomUUID();
  await sql`
    insert into lifecycle_runs (id, tenant_id, trigger, requested_by, status)
    values (${id}, ${tenant ?? null}, ${trigger}, ${requestedBy ?? null}, 'running')`;
  return id;
}

interface RunRow {
  id: string;
  tenant_id: string | null;
  trigger: RunTrigger;
  requested_by: string | null;
  status: 'running' | 'succeeded' | 'failed';
  stale: boolean;
  started_at: Date;
  finished_at: Date | null;
  progress: RunProgress | null;
  result: { tenants: PurgeResult[]; failed: LifecycleRun['failed'] } | null;
}

function runOf(row: RunRow): LifecycleRun {
  return {
    id: row.id,
    tenant: row.tenant_id,
    trigger: row.trigger,
    requested_by: row.requested_by,
    status: row.status === 'running' && row.stale ? 'interrupted' : row.status,
    started_at: row.started_at.toISOString(),
    finished_at: row.finished_at?.toISOString() ?? null,
    progress: row.progress,
    tenants: row.result?.tenants ?? [],
    failed: row.result?.failed ?? [],
  };
}

const runColumns = (sql: Sql) => sql`
  id, tenant_id, trigger, requested_by, status, started_at, finished_at, progress, result,
  heartbeat_at < now() - make_interval(secs => ${HEARTBEAT_STALE_SECONDS}) as stale`;

/** One run; with `tenant`, only if it covers that tenant alone (a tenant's key sees its own runs). */
export async function getRun(sql: Sql, id: string, tenant: string | null): Promise<LifecycleRun | undefined> {
  const [row] = await sql<RunRow[]>`
    select ${runColumns(sql)} from lifecycle_runs
    where id = ${id} ${tenant === null ? sql`` : sql`and tenant_id = ${tenant}`}`;
  return row ? runOf(row) : undefined;
}

/** The latest runs, newest first: of one tenant, or (null) all of them. */
export async function listRuns(sql: Sql, tenant: string | null, limit: number): Promise<LifecycleRun[]> {
  const rows = await sql<RunRow[]>`
    select ${runColumns(sql)} from lifecycle_runs
    ${tenant === null ? sql`` : sql`where tenant_id = ${tenant}`}
    order by started_at desc, id limit ${limit}`;
  return rows.map(runOf);
}

export interface LifecycleOptions extends PurgeOptions {
  /** Between scheduled runs; 0 disables the schedule. */
  intervalMs: number;
  /** Before the first scheduled run after start. */
  initialDelayMs: number;
  /** Between progress reports of a run (default a second). */
  progressEveryMs?: number;
  logger?: Logger;
}

/** The lifecycle of one service: runs on demand, and on a schedule once started (by `serve`). */
export class Lifecycle {
  readonly #options: LifecycleOptions;
  readonly #job: PeriodicJob;
  /** Runs started by `begin` and still working: `stop` waits for them. */
  readonly #background = new Set<Promise<unknown>>();
  readonly #stopping = new AbortController();

  constructor(options: LifecycleOptions) {
    this.#options = options;
    this.#job = new PeriodicJob(() => this.run(undefined, 'schedule'), {
      intervalMs: options.intervalMs,
      initialDelayMs: options.initialDelayMs,
      onError: (err) => options.logger?.error({ err }, 'lifecycle run failed'),
    });
  }

  /** The service's default retention in days (TRAILPROOF_DEFAULT_RETENTION_DAYS). */
  get defaultDays(): number {
    return this.#options.defaultDays;
  }

  /** One run now, of every tenant or only `tenant`, to its end; `onProgress` hears where it is about once a second. */
  async run(tenant?: string, trigger: RunTrigger = 'cli', onProgress?: (at: RunProgress) => void): Promise<LifecycleRunResult & { id: string }> {
    const id = await begin(this.#options.sql, tenant, trigger, undefined);
    return { id, ...(await execute(this.#options, id, tenant, this.#stopping.signal, onProgress)) };
  }

  /** Starts a run of every tenant or only `tenant` and answers with it at once; it goes on in the background. */
  async begin(tenant: string | undefined, requestedBy: string): Promise<LifecycleRun> {
    const id = await begin(this.#options.sql, tenant, 'api', requestedBy);
    const work = execute(this.#options, id, tenant, this.#stopping.signal)
      .catch((err: unknown) => this.#options.logger?.error({ err, run: id }, 'lifecycle run failed'))
      .finally(() => this.#background.delete(work));
    this.#background.add(work);
    return (await getRun(this.#options.sql, id, null))!;
  }

  start(): void {
    this.#job.start();
  }

  /** Stops scheduling, and the runs under way at their next batch or transaction, and waits for them. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#job.stop();
    await Promise.all(this.#background);
  }
}
