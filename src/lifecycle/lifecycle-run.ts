/**
 * Lifecycle runs (docs/lifecycle.md "Runs"): the purge of every tenant (or one), on a schedule in
 * the service and on demand (`trailproof lifecycle run`, `POST /v1/lifecycle/run`). Runs of one
 * tenant never overlap, across processes too (the tenant's lifecycle lock), and any run finishes
 * what a run killed before it left unfinished.
 */
import type { Logger } from 'pino';
import { PeriodicJob } from '../periodic-job.ts';
import { purgeTenant, type PurgeOptions, type PurgeResult } from './purge.ts';

export interface LifecycleRunResult {
  started_at: string;
  finished_at: string;
  tenants: PurgeResult[];
  /** Tenants whose purge failed, with the reason (the others went on). */
  failed: { tenant: string; error: string }[];
}

/** Purges every tenant, or only `tenant`. The operator trail (`_system`) follows the default policy like any other. */
export async function runLifecycle(options: PurgeOptions & { logger?: Logger }, only?: string): Promise<LifecycleRunResult> {
  const startedAt = new Date().toISOString();
  const tenants =
    only !== undefined ? [only] : (await options.sql<{ tenant_id: string }[]>`select tenant_id from ledger_heads order by tenant_id`).map((r) => r.tenant_id);
  const result: LifecycleRunResult = { started_at: startedAt, finished_at: startedAt, tenants: [], failed: [] };
  for (const tenant of tenants) {
    try {
      const purged = await purgeTenant(options, tenant);
      result.tenants.push(purged);
      if (purged.removed > 0) options.logger?.info({ tenant, removed: purged.removed, records: purged.records }, 'lifecycle: purged expired events');
    } catch (err) {
      options.logger?.error({ err, tenant }, 'lifecycle: purge failed');
      result.failed.push({ tenant, error: err instanceof Error ? err.message : String(err) });
    }
  }
  result.finished_at = new Date().toISOString();
  return result;
}

export interface LifecycleOptions extends PurgeOptions {
  /** Between scheduled runs; 0 disables the schedule. */
  intervalMs: number;
  /** Before the first scheduled run after start. */
  initialDelayMs: number;
  logger?: Logger;
}

/** The lifecycle of one service: runs on demand, and on a schedule once started (by `serve`). */
export class Lifecycle {
  readonly #options: LifecycleOptions;
  readonly #job: PeriodicJob;

  constructor(options: LifecycleOptions) {
    this.#options = options;
    this.#job = new PeriodicJob(() => this.run(), {
      intervalMs: options.intervalMs,
      initialDelayMs: options.initialDelayMs,
      onError: (err) => options.logger?.error({ err }, 'lifecycle run failed'),
    });
  }

  /** The service's default retention in days (TRAILPROOF_DEFAULT_RETENTION_DAYS). */
  get defaultDays(): number {
    return this.#options.defaultDays;
  }

  /** One run now, of every tenant or only `tenant`. */
  run(tenant?: string): Promise<LifecycleRunResult> {
    return runLifecycle(this.#options, tenant);
  }

  start(): void {
    this.#job.start();
  }

  /** Stops scheduling and waits for a scheduled run under way (its removals are short transactions). */
  stop(): Promise<void> {
    return this.#job.stop();
  }
}
