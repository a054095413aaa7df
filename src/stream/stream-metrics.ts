/**
 * The streams' metrics (docs/metrics.md): each destination's lag and state, read from the database at
 * each scrape (so every process reports every destination, whichever process delivers it), and the
 * deliveries this process made.
 */
import { Counter } from 'prom-client';
import { type Metrics, registersOf, rowsGauge } from '../metrics.ts';
import type { Sql } from '../store/db.ts';
import { type StreamLag, streamLags } from './stream-store.ts';

export interface StreamMetrics {
  /** Batches delivered or failed, by destination kind. */
  deliveries: Counter<'kind' | 'result'>;
  /** Events in delivered batches, by destination kind. */
  events: Counter<'kind'>;
}

export function streamMetrics(sql: Sql, metrics: Metrics | undefined): StreamMetrics {
  if (metrics) {
    const rows = metrics.read(() => streamLags(sql, metrics.seriesLimit));
    const labels = (row: StreamLag) => ({ stream: row.id, tenant: row.tenant_id });
    const labelNames = ['stream', 'tenant'] as const;
    rowsGauge(metrics, {
      name: 'trailproof_stream_lag_events',
      help: 'Events committed to the tenant but not yet delivered to the stream (or skipped by its filter)',
      labelNames,
      rows,
      labels,
      value: (row) => row.lag_events,
    });
    rowsGauge(metrics, {
      name: 'trailproof_stream_lag_seconds',
      help: 'Age of the oldest event the stream has not delivered yet; 0 when none',
      labelNames,
      rows,
      labels,
      value: (row) => row.lag_seconds,
    });
    rowsGauge(metrics, {
      name: 'trailproof_stream_paused',
      help: 'Whether the stream is paused (1): by an operator, or after repeated delivery failures',
      labelNames,
      rows,
      labels,
      value: (row) => (row.status === 'paused' ? 1 : 0),
    });
  }
  const registers = registersOf(metrics);
  return {
    deliveries: new Counter({
      name: 'trailproof_stream_deliveries_total',
      help: 'Batches this process sent to stream destinations, by kind and result (delivered: acknowledged; failed: retried later)',
      labelNames: ['kind', 'result'] as const,
      registers,
    }),
    events: new Counter({
      name: 'trailproof_stream_delivered_events_total',
      help: 'Events in the batches stream destinations acknowledged, by kind',
      labelNames: ['kind'] as const,
      registers,
    }),
  };
}
