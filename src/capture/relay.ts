/**
 * The capture relay (docs/capture.md#relay): moves the changes an application's database recorded in
 * its outbox into the tenants' trails, and removes them from the outbox once they committed there.
 *
 * One batch is one transaction of the application's database: take the relay lock (a transaction
 * advisory lock, so one relay works on a database at a time and a killed one's lock goes with its
 * connection), read the oldest changes in outbox order, append their events (committed in Trailproof
 * when `append` resolves), delete them, commit. A crash or a lost connection after the append and
 * before that commit leaves the changes in the outbox; the next batch appends them again, and as
 * their client ids and bodies are the same (change-event.ts) Trailproof answers duplicate: each
 * change is in the trail once. Outbox order is the commit order of each row's changes
 * (capture-schema.ts), and a batch appends in that order, so a row's events keep it.
 *
 * A change whose tenant does not exist in Trailproof (or that cannot make an event) is parked: kept
 * in the outbox with the reason, out of the way, and retried every `retryParkedMs`; later changes of
 * the same row are parked behind it, so they never overtake it.
 */
import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { AppendItem, AppendResult } from '../ingest/append-batch.ts';
import { type Metrics, registersOf, rowsGauge } from '../metrics.ts';
import type { Sql, TxSql } from '../store/db.ts';
import { CAPTURE_SCHEMA } from './capture-schema.ts';
import { changeEvent, type OutboxRow } from './change-event.ts';
import { type CaptureStatus, captureStatus, isInstalled } from './install.ts';
import { RelayProgress, type TenantProgress } from './relay-progress.ts';

export interface CaptureRelayOptions {
  /** The application's database (connected as the role that installed capture). */
  app: Sql;
  /** Appends events to Trailproof; resolves after they committed (GroupCommitter.append). */
  append: (items: AppendItem[]) => Promise<AppendResult[]>;
  /** Names the application's database in logs and metrics (its host and name, never a password). */
  source: string;
  logger?: Logger;
  metrics?: Metrics;
  /** Changes per batch; default 500. */
  batchSize?: number;
  /** Wait between looks at an empty outbox; default 200 ms. */
  pollMs?: number;
  /** How often parked changes are retried; default 60 s. */
  retryParkedMs?: number;
}

/** One relay as the console and `GET /v1/capture/status` see it, for one tenant. */
export interface RelaySourceStatus {
  source: string;
  /** Whether this process runs the relay. */
  running: boolean;
  /** Whether the application's database answered; when not, the outbox figures are zeros. */
  reachable: boolean;
  installed: boolean;
  /** The tenant's changes waiting in the outbox (parked ones excluded). */
  backlog: number;
  parked: number;
  /** When the oldest waiting change was made, and its age in seconds (0 when none waits). */
  oldestWaitingAt: string | null;
  lagSeconds: number;
  /** Changes this process relayed since it started, when it last did, and in the last minute. */
  relayed: number;
  lastRelayedAt: string | null;
  relayedLastMinute: number;
}

export interface BatchResult {
  /** Changes now in the trail and gone from the outbox. */
  relayed: number;
  parked: number;
  /** Whether another relay holds the lock (nothing was done). */
  busy: boolean;
}

const columns = 'id, txid::text as txid, captured_at, schema_name, table_name, op, tenant, row_key, before, after, context, db_role';

export class CaptureRelay {
  private stopped = true;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private installationId: string | undefined;
  private lastRetry = 0;
  private readonly relayed: Counter<'source'>;
  private readonly progress = new RelayProgress();
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly retryParkedMs: number;

  constructor(private readonly options: CaptureRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 200;
    this.retryParkedMs = options.retryParkedMs ?? 60_000;
    this.relayed = captureMetrics(options.metrics, options.app, options.source);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops after the batch in flight (which completes or rolls back). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Relays batches until the outbox is empty (or only parked changes remain); returns the number relayed. */
  async drain(): Promise<number> {
    await this.retryParked();
    let total = 0;
    for (;;) {
      const result = await this.relayBatch();
      total += result.relayed;
      if (result.busy || result.relayed + result.parked === 0) return total;
    }
  }

  /** The relay's outbox and progress for `tenant` (the outbox read from the application's database). */
  async status(tenant: string): Promise<RelaySourceStatus> {
    const outbox = await captureStatus(this.options.app, tenant).catch(() => undefined);
    const progress = this.progress.of(tenant);
    if (!outbox) {
      const unknown = { installed: false, backlog: 0, parked: 0, oldestWaitingAt: null, lagSeconds: 0 };
      return { source: this.options.source, running: !this.stopped, reachable: false, ...unknown, ...this.progressOf(progress) };
    }
    return {
      source: this.options.source,
      running: !this.stopped,
      reachable: true,
      installed: outbox.installed,
      backlog: outbox.backlog,
      parked: outbox.parked,
      oldestWaitingAt: outbox.oldestAt,
      lagSeconds: outbox.oldestAt ? Math.max(0, (Date.now() - Date.parse(outbox.oldestAt)) / 1000) : 0,
      ...this.progressOf(progress),
    };
  }

  private progressOf(progress: TenantProgress): Pick<RelaySourceStatus, 'relayed' | 'lastRelayedAt' | 'relayedLastMinute'> {
    return { relayed: progress.relayed, lastRelayedAt: progress.lastRelayedAt, relayedLastMinute: progress.lastMinute };
  }

  /** Relays one batch, in one transaction of the application's database. */
  async relayBatch(): Promise<BatchResult> {
    const committed = new Map<string, number>();
    const batch = await this.options.app.begin(async (tx) => {
      const [lock] = await tx`select pg_try_advisory_xact_lock(hashtext('trailproof_capture.relay')) as ok`;
      if (!lock?.ok) return { relayed: 0, parked: 0, busy: true };
      this.installationId ??= await installationOf(tx);
      const rows = (await tx.unsafe(`select ${columns} from ${CAPTURE_SCHEMA}.outbox where parked_at is null order by id limit $1`, [
        this.batchSize,
      ])) as unknown as OutboxRow[];
      if (rows.length === 0) return { relayed: 0, parked: 0, busy: false };
      const parkedRows = await parkedRowKeys(tx, rows);
      const parks = new Map<number, string>();
      const items: AppendItem[] = [];
      const itemRows: OutboxRow[] = [];
      for (const row of rows) {
        const key = rowIdentity(row);
        if (parkedRows.has(key)) {
          parks.set(row.id, 'an earlier change of this row is parked');
          continue;
        }
        const event = changeEvent(row, this.installationId);
        if ('park' in event) {
          parks.set(row.id, event.park);
          parkedRows.add(key);
          continue;
        }
        items.push({ tenant: event.tenant, body: event.body });
        itemRows.push(row);
      }
      const results = items.length > 0 ? await this.options.append(items) : [];
      const done: number[] = [];
      results.forEach((result, i) => {
        const row = itemRows[i]!;
        if (result.status === 'created' || result.status === 'duplicate') {
          done.push(row.id);
          committed.set(items[i]!.tenant, (committed.get(items[i]!.tenant) ?? 0) + 1);
        } else if (result.status === 'tenant_not_found') parks.set(row.id, `tenant ${JSON.stringify(row.tenant)} does not exist in Trailproof`);
        else parks.set(row.id, `event id already used by event ${result.uid} with different content`);
      });
      if (done.length > 0) await tx.unsafe(`delete from ${CAPTURE_SCHEMA}.outbox where id = any($1::bigint[])`, [done]);
      if (parks.size > 0) {
        const [ids, reasons] = [[...parks.keys()], [...parks.values()]];
        await tx.unsafe(
          `update ${CAPTURE_SCHEMA}.outbox o set parked_at = now(), park_reason = p.reason
           from unnest($1::bigint[], $2::text[]) as p(id, reason) where o.id = p.id`,
          [ids, reasons],
        );
        this.options.logger?.warn({ source: this.options.source, parked: parks.size, reason: reasons[0] }, 'capture relay parked changes');
      }
      this.relayed.inc({ source: this.options.source }, done.length);
      return { relayed: done.length, parked: parks.size, busy: false };
    });
    // Counted once the outbox's transaction committed: before, the changes could come round again.
    this.progress.record(committed);
    return batch;
  }

  /** Puts parked changes back in line (their tenant may exist now). */
  async retryParked(): Promise<void> {
    await this.options.app.unsafe(`update ${CAPTURE_SCHEMA}.outbox set parked_at = null, park_reason = null where parked_at is not null`);
    this.lastRetry = Date.now();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let idle = false;
      try {
        if (!(await isInstalled(this.options.app))) idle = true;
        else {
          if (Date.now() - this.lastRetry >= this.retryParkedMs) await this.retryParked();
          const result = await this.relayBatch();
          idle = result.busy || result.relayed + result.parked === 0;
        }
        failures = 0;
      } catch (err) {
        failures++;
        this.installationId = undefined;
        this.options.logger?.warn({ err, source: this.options.source }, 'capture relay failed; retrying');
      }
      if (this.stopped) break;
      if (idle || failures > 0) await this.sleep(failures > 0 ? Math.min(30_000, 500 * 2 ** Math.min(failures, 6)) : this.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Names a database by its host, port and name: for logs and metric labels, never with credentials. */
export function sourceName(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
}

async function installationOf(tx: TxSql): Promise<string> {
  const [row] = (await tx.unsafe(`select id from ${CAPTURE_SCHEMA}.installation`)) as unknown as [{ id: string }?];
  if (!row) throw new Error('trailproof_capture.installation is empty: run `trailproof capture install` again');
  return row.id;
}

function rowIdentity(row: Pick<OutboxRow, 'schema_name' | 'table_name' | 'row_key'>): string {
  return JSON.stringify([row.schema_name, row.table_name, row.row_key]);
}

/** The rows of this batch that have a parked change (which their later changes must not overtake). */
async function parkedRowKeys(tx: TxSql, rows: OutboxRow[]): Promise<Set<string>> {
  const parked = (await tx.unsafe(
    `select distinct schema_name, table_name, row_key from ${CAPTURE_SCHEMA}.outbox o
     where parked_at is not null and exists (select 1 from unnest($1::text[], $2::text[], $3::jsonb[]) b(s, t, k)
       where b.s = o.schema_name and b.t = o.table_name and b.k = o.row_key)`,
    [rows.map((r) => r.schema_name), rows.map((r) => r.table_name), rows.map((r) => JSON.stringify(r.row_key))],
  )) as unknown as OutboxRow[];
  return new Set(parked.map(rowIdentity));
}

interface RelayMetrics {
  relayed: Counter<'source'>;
  /** Each relay's outbox, read at each scrape. */
  sources: Map<string, Sql>;
}

const registered = new WeakMap<Metrics, RelayMetrics>();

/**
 * The relays' metrics: changes relayed by this process, and each outbox's backlog and lag, read from
 * the application's database at each scrape. Registered once per registry, shared by its relays.
 */
function captureMetrics(metrics: Metrics | undefined, app: Sql, source: string): Counter<'source'> {
  if (!metrics) return new Counter({ name: 'trailproof_capture_relayed_total', help: 'unregistered', labelNames: ['source'] as const, registers: [] });
  let shared = registered.get(metrics);
  if (!shared) {
    const sources = new Map<string, Sql>();
    const rows = metrics.read(() =>
      Promise.all([...sources].map(async ([name, sql]) => ({ source: name, status: await captureStatus(sql).catch(() => undefined) }))),
    );
    type Row = Awaited<ReturnType<typeof rows>>[number];
    const labels = (row: Row) => ({ source: row.source });
    const gauge = (name: string, help: string, value: (s: CaptureStatus) => number) =>
      rowsGauge(metrics, { name, help, labelNames: ['source'], rows, labels, value: (row) => (row.status?.installed ? value(row.status) : null) });
    gauge(
      'trailproof_capture_backlog_changes',
      'Changes captured in the application database and not yet in Trailproof (parked ones excluded)',
      (s) => s.backlog,
    );
    gauge('trailproof_capture_lag_seconds', 'Age of the oldest captured change not yet in Trailproof; 0 when none', (s) =>
      s.oldestAt ? Math.max(0, (Date.now() - Date.parse(s.oldestAt)) / 1000) : 0,
    );
    gauge(
      'trailproof_capture_parked_changes',
      'Captured changes held back: their tenant does not exist in Trailproof, or they make no valid event',
      (s) => s.parked,
    );
    const relayed = new Counter({
      name: 'trailproof_capture_relayed_total',
      help: 'Captured changes this process moved into Trailproof',
      labelNames: ['source'] as const,
      registers: registersOf(metrics),
    });
    shared = { relayed, sources };
    registered.set(metrics, shared);
  }
  shared.sources.set(source, app);
  return shared.relayed;
}
