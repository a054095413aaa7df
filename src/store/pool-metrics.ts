/**
 * The database pool's use (docs/metrics.md). postgres.js does not expose its pool's state, so the
 * pool's connections are counted by PostgreSQL: those with this pool's application_name, busy when
 * they hold their virtual transaction id's lock (a statement or a transaction is running, idle in
 * transaction included). pg_locks and those columns of pg_stat_activity are readable by any role.
 * The service's application_name names its process (src/server.ts), so each process counts its own.
 */
import { Gauge } from 'prom-client';
import { type Metrics, rowsGauge } from '../metrics.ts';
import type { Sql } from './db.ts';

interface PoolState {
  state: 'busy' | 'idle';
  connections: number;
}

export function poolMetrics(sql: Sql, metrics: Metrics, max: number): void {
  new Gauge({ name: 'trailproof_db_pool_max', help: 'Database connections the pool may open (TRAILPROOF_DB_POOL)', registers: [metrics.registry] }).set(max);
  rowsGauge(metrics, {
    name: 'trailproof_db_pool_connections',
    help: "Connections of this process's database pool, by state: busy (running a statement or in a transaction) or idle",
    labelNames: ['state'],
    // The connection running this query is counted idle: it is busy only with the scrape.
    rows: metrics.read(
      async () => sql<PoolState[]>`
      with mine as (
        select a.pid, exists (
          select 1 from pg_locks l
          where l.pid = a.pid and l.locktype = 'virtualxid' and l.mode = 'ExclusiveLock' and l.granted and a.pid <> pg_backend_pid()
        ) as busy
        from pg_stat_activity a
        where a.datname = current_database() and a.application_name = current_setting('application_name')
      )
      select state, (select count(*) from mine where busy = (state = 'busy'))::int as connections
      from unnest(array['busy', 'idle']) as state`,
    ),
    labels: (row: PoolState) => ({ state: row.state }),
    value: (row) => row.connections,
  });
}
