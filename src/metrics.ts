/**
 * Prometheus metrics (prom-client, docs/metrics.md): the registry a service reports from, at
 * `GET /metrics` and on `TRAILPROOF_METRICS_PORT` (src/http/metrics-routes.ts). Each metric is
 * declared beside the code it measures and registered here; this module holds only what they share.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /**
   * Most series one metric labelled by tenant or by stream reports (`TRAILPROOF_METRICS_SERIES_LIMIT`):
   * the tenants and streams that are furthest behind come first.
   */
  seriesLimit: number;
  /**
   * A database read for gauges, run at each scrape: shared by every gauge that asks while it runs,
   * and run one at a time with the scrape's other reads, so a scrape holds one pool connection and
   * the pool's own gauge (src/store/pool-metrics.ts) sees only the connections the service uses.
   */
  read<T>(load: () => Promise<T>): () => Promise<T>;
}

/** A registry with Node's own metrics (CPU, memory, event loop lag, GC), under their standard names. */
export function createMetrics(seriesLimit: number): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let turn: Promise<unknown> = Promise.resolve();
  const read = <T>(load: () => Promise<T>) => {
    let running: Promise<T> | undefined;
    return () => {
      if (running) return running;
      const run = turn.then(load, load).finally(() => {
        running = undefined;
      });
      turn = run.catch(() => {});
      running = run;
      return run;
    };
  };
  return { registry, seriesLimit, read };
}

/** Where a metric is registered: nowhere without a registry (a CLI command, a test of one part). */
export function registersOf(metrics: Metrics | undefined): Registry[] {
  return metrics ? [metrics.registry] : [];
}

export interface RowsGauge<R, L extends string> {
  name: string;
  help: string;
  /** None for a gauge of one series (one row). */
  labelNames?: readonly L[];
  /** The rows, read at each scrape. */
  rows: () => Promise<readonly R[]>;
  labels?: (row: R) => Record<L, string>;
  /** A row's value; null leaves the row out. */
  value: (row: R) => number | null;
}

/**
 * A gauge with one series per row that `rows` gives at each scrape, and no others; none while `rows`
 * fails (the database is unreachable), so the rest of the scrape is still answered.
 */
export function rowsGauge<R, L extends string>(metrics: Metrics, gauge: RowsGauge<R, L>): void {
  new Gauge({
    name: gauge.name,
    help: gauge.help,
    labelNames: gauge.labelNames ?? [],
    registers: [metrics.registry],
    async collect() {
      const rows = await gauge.rows().catch(() => []);
      this.reset();
      for (const row of rows) {
        const value = gauge.value(row);
        if (value !== null) this.set(gauge.labels?.(row) ?? {}, value);
      }
    },
  });
}
