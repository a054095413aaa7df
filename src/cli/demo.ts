/**
 * `trailproof demo --events N --tenants M [--days D]`: gives each demo tenant a realistic,
 * continuous trail over the last D days up to now (so the console's default view of the last 24
 * hours shows events), N events in all, written straight through the ledger's batch append (the same code the API commits with), several
 * batches in flight, with progress on stderr.
 */
import { Command } from 'commander';
import { TrailproofError } from '../errors.ts';
import { appendBatch, type AppendItem } from '../ingest/append-batch.ts';
import { PartitionManager } from '../ingest/partitions.ts';
import { demoEvents } from '../demo/generator.ts';
import { createTenant, listTenants } from '../tenant/tenant-repository.ts';
import type { Sql } from '../store/db.ts';
import { withDatabase } from './context.ts';

const BATCH = 2000;
const IN_FLIGHT = 4;

export function demoCommand(): Command {
  return new Command('demo')
    .description('fill the database with realistic demo events')
    .option('--events <n>', 'number of events', '10000')
    .option('--tenants <m>', 'number of tenants (demo-1 … demo-M)', '3')
    .option('--days <d>', 'spread occurred_at over the last D days', '730')
    .option('--seed <s>', 'random seed', '42')
    .action(async (opts: { events: string; tenants: string; days: string; seed: string }, command: Command) => {
      const events = positive(opts.events, '--events');
      const tenants = positive(opts.tenants, '--tenants');
      const days = positive(opts.days, '--days');
      await withDatabase(command, (sql) => fillDemo(sql, { events, tenants, days, seed: Number(opts.seed) || 42, progress: true }));
    });
}

export async function fillDemo(sql: Sql, options: { events: number; tenants: number; days: number; seed?: number; progress?: boolean }): Promise<string[]> {
  const existing = new Set((await listTenants(sql)).map((t) => t.id));
  const ids = Array.from({ length: options.tenants }, (_, i) => `demo-${i + 1}`);
  for (const id of ids) if (!existing.has(id)) await createTenant(sql, { id, name: `Demo tenant ${id.slice(5)}` });

  const to = new Date();
  const from = new Date(to.getTime() - options.days * 86_400_000);
  const partitions = new PartitionManager(sql);
  const months: string[] = [];
  for (let t = from.getTime(); t <= to.getTime() + 31 * 86_400_000; t += 28 * 86_400_000) months.push(new Date(t).toISOString());
  await partitions.ensure(months);

  const started = Date.now();
  let written = 0;
  const inFlight = new Set<Promise<void>>();
  const flush = async (items: AppendItem[]) => {
    const p = appendBatch(sql, items).then(() => {
      written += items.length;
      if (options.progress) report(written, options.events, started);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
  };
  // Each tenant gets its own trail over the whole range, up to now; the tenants take turns, a batch
  // each, so every trail grows from the past to now together. One tenant per batch keeps head locks
  // uncontended, so batches of different tenants overlap.
  const seed = options.seed ?? 42;
  let trails = ids.map((tenant, i) => ({ tenant, events: demoEvents(share(options.events, ids.length, i), { from, to, seed: seed + i }) }));
  while (trails.length > 0) {
    const ended = new Set<string>();
    for (const { tenant, events } of trails) {
      const batch: AppendItem[] = [];
      for (let next = events.next(); !next.done; next = events.next()) {
        batch.push({ tenant, body: next.value });
        if (batch.length === BATCH) break;
      }
      if (batch.length < BATCH) ended.add(tenant);
      if (batch.length > 0) await flush(batch);
    }
    trails = trails.filter((t) => !ended.has(t.tenant));
  }
  await Promise.all(inFlight);
  if (options.progress) process.stderr.write(`\n${written} events in ${((Date.now() - started) / 1000).toFixed(1)} s across ${ids.join(', ')}\n`);
  return ids;
}

/** The `i`th of `parts` near-equal shares of `total`. */
function share(total: number, parts: number, i: number): number {
  return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

function report(done: number, total: number, started: number): void {
  const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
  process.stderr.write(`\r${done}/${total} events (${Math.round((done / total) * 100)}%), ${Math.round(rate)} events/s   `);
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new TrailproofError('REQUEST_INVALID', `${flag} must be a positive whole number`);
  return n;
}
