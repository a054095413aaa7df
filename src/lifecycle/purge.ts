/**
 * The verifiable purge of one tenant (docs/lifecycle.md "Purge"): archive, record, then remove what
 * the tenant's retention policy says has expired. Under the tenant's lifecycle lock it
 *
 *   1. finishes the removal of the latest purge record (a run killed midway left it unfinished);
 *   2. takes the next range: from where the latest purge ended to the first leaf received after the
 *      cutoff (now − days) and counts what the database will remove there; if anything, records the
 *      policy in force in the ledger if the ledger does not state it yet (the default), hands the
 *      range to the archive (when one is configured) and appends the `retention.purged` record;
 *   3. removes the payloads the record covers (payload-removal.ts), in short transactions.
 *
 * A crash anywhere leaves either no record (nothing removed; the next run starts over) or a record
 * whose removal the next run finishes: nothing is removed that a record does not cover, and what a
 * record covers was archived first.
 */
import type { MetaAudit } from '../audit/meta-audit.ts';
import { parsePolicyRecord, parsePurgeRecord, POLICY_ACTION, PURGE_ACTION, type PurgeRecord } from '../event/lifecycle-records.ts';
import { TrailproofError } from '../errors.ts';
import type { Sql } from '../store/db.ts';
import { removePayloads, withLifecycleLock } from './payload-removal.ts';
import { policyMetadata, policyOf, purgeAfterDays, type RetentionPolicy } from './retention-policy.ts';

/** The service itself, as the actor of lifecycle records. */
export const LIFECYCLE_ACTOR = { type: 'system' as const, id: 'lifecycle', name: 'Trailproof lifecycle' };

/**
 * Where expiring ranges go before their payloads leave the database. Implemented by the archive
 * (the cold tier); without one, ranges are purged without archiving.
 */
export interface Archiver {
  /**
   * Writes the tenant's leaves [from, to) with their payloads to the archive, durably, and returns
   * the hash naming the segment. Called again with the same range after a crash, it must succeed
   * (rewriting or finding the segment). Throws if the range could not be archived: nothing is purged.
   */
  archive(tenant: string, range: [number, number], progress?: (done: number) => void): Promise<{ segment: string }>;
}

/** How far a purge is: the phase, the range it works on, and how many of the range's indices it has done. */
export interface PurgeStep {
  phase: 'archive' | 'removal';
  range: [number, number];
  done: number;
}

export interface PurgeOptions {
  sql: Sql;
  audit: MetaAudit;
  /** TRAILPROOF_DEFAULT_RETENTION_DAYS. */
  defaultDays: number;
  archiver?: Archiver | undefined;
  /** Most leaf indices one purge record covers (default 1,000,000); a longer expired stretch gets several. */
  maxRange?: number;
  /** Leaf indices removed per transaction (payload-removal.ts). */
  chunk?: number;
  /** Called after each archived batch and each transaction of removal; what it throws stops the purge there. */
  progress?: (step: PurgeStep) => void;
}

export interface PurgeResult {
  tenant: string;
  /** Payloads removed by this run (including the finished removal of an interrupted run). */
  removed: number;
  /** Purge records appended by this run. */
  records: { index: number; range: [number, number]; count: number }[];
  policy: RetentionPolicy;
  /** Time this run spent archiving (writing segments) and removing payloads. */
  seconds: { archive: number; removal: number };
}

const DAY_MS = 86_400_000;

/** Purges what has expired in one tenant's trail. */
export async function purgeTenant(options: PurgeOptions, tenant: string): Promise<PurgeResult> {
  const { sql } = options;
  return withLifecycleLock(sql, tenant, async () => {
    const result: PurgeResult = {
      tenant,
      removed: 0,
      records: [],
      policy: await policyOf(sql, tenant, options.defaultDays),
      seconds: { archive: 0, removal: 0 },
    };
    const timed = async <T>(phase: keyof PurgeResult['seconds'], work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      try {
        return await work();
      } finally {
        result.seconds[phase] += (performance.now() - started) / 1000;
      }
    };
    const removal = (range: [number, number]) => ({
      ...(options.chunk ? { chunk: options.chunk } : {}),
      progress: (done: number) => options.progress?.({ phase: 'removal', range, done }),
    });
    let last = await latestPurge(sql, tenant);
    if (last) {
      const { index, record } = last;
      const range: [number, number] = [record.range_start, record.range_end];
      result.removed += await timed('removal', () => removePayloads(sql, tenant, index, range, removal(range)));
    }
    let policyStated = false;

    const after = purgeAfterDays(result.policy, options.archiver !== undefined);
    const maxRange = options.maxRange ?? 1_000_000;
    for (;;) {
      const from = last ? last.record.range_end : 0;
      const [now] = await sql<{ decided: Date }[]>`select clock_timestamp() as decided`;
      const decided = now!.decided;
      const cutoff = new Date(decided.getTime() - after * DAY_MS);
      const to = await rangeEnd(sql, tenant, from, cutoff, maxRange);
      if (to <= from) break;
      const [counted] = await sql<{ count: number }[]>`select trailproof_purge_count(${tenant}, ${from}, ${to}, ${cutoff}, ${decided}) as count`;
      // Nothing to remove (only lifecycle records or held events expired): no record; the next run looks again.
      if (counted!.count === 0) break;
      // Only a trail about to be purged needs its policy stated: the others stay as they are.
      if (!policyStated) {
        await recordPolicy(options, tenant, result.policy);
        policyStated = true;
      }
      const archiver = options.archiver;
      const archived = archiver
        ? await timed('archive', () => archiver.archive(tenant, [from, to], (done) => options.progress?.({ phase: 'archive', range: [from, to], done })))
        : undefined;
      await clockPast(decided);
      const record: PurgeRecord = {
        range_start: from,
        range_end: to,
        count: counted!.count,
        cutoff: cutoff.toISOString(),
        decided_at: decided.toISOString(),
        policy: policyMetadata(result.policy) as PurgeRecord['policy'],
        purge_after_days: after,
        previous: last ? last.index : null,
        ...(archived ? { archive_segment: archived.segment } : {}),
      };
      const appended = await options.audit.record({
        tenant,
        principal: { actor: LIFECYCLE_ACTOR },
        action: PURGE_ACTION,
        metadata: record as unknown as Record<string, unknown>,
      });
      if (appended.status !== 'created') throw new TrailproofError('INTERNAL', `purge record of ${tenant} not appended (${appended.status})`);
      const removed = await timed('removal', () => removePayloads(sql, tenant, appended.seq, [from, to], removal([from, to])));
      result.removed += removed;
      result.records.push({ index: appended.seq, range: [from, to], count: record.count });
      last = { index: appended.seq, record };
      if (to - from < maxRange) break;
    }
    result.seconds = { archive: round3(result.seconds.archive), removal: round3(result.seconds.removal) };
    return result;
  });
}

function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** The tenant's latest purge record, or undefined. Refuses to go on if the database's log of removals knows a later one. */
export async function latestPurge(sql: Sql, tenant: string): Promise<{ index: number; record: PurgeRecord } | undefined> {
  const [row] = await sql<{ seq: number; metadata: unknown }[]>`
    select seq, body->'metadata' as metadata from events
    where tenant_id = ${tenant} and action = ${PURGE_ACTION} and body->>'source' = 'trailproof'
    order by seq desc limit 1`;
  const [logged] = await sql<{ seq: number | null }[]>`
    select max(record_seq) as seq from payload_removals where tenant_id = ${tenant} and action = ${PURGE_ACTION}`;
  if (logged?.seq != null && (!row || row.seq < logged.seq)) {
    // The record the database acted on last is gone from the trail: tampering, for the self-audit to name.
    throw new TrailproofError('INTERNAL', `the purge record at index ${logged.seq} of ${tenant} is missing from its trail; not purging`);
  }
  if (!row) return undefined;
  const record = parsePurgeRecord(row.metadata);
  if (!record) throw new TrailproofError('INTERNAL', `the purge record at index ${row.seq} of ${tenant} is malformed; not purging`);
  return { index: row.seq, record };
}

/** Appends a `retention.updated` record of the policy in force unless the latest one already states it. */
async function recordPolicy(options: PurgeOptions, tenant: string, policy: RetentionPolicy): Promise<void> {
  const [row] = await options.sql<{ metadata: unknown }[]>`
    select body->'metadata' as metadata from events
    where tenant_id = ${tenant} and action = ${POLICY_ACTION} and body->>'source' = 'trailproof'
    order by seq desc limit 1`;
  const stated = row ? parsePolicyRecord(row.metadata) : undefined;
  if (stated && stated.days === policy.days && stated.hot_days === policy.hot_days && stated.source === policy.source) return;
  const appended = await options.audit.record({ tenant, principal: { actor: LIFECYCLE_ACTOR }, action: POLICY_ACTION, metadata: policyMetadata(policy) });
  if (appended.status !== 'created') throw new TrailproofError('INTERNAL', `policy record of ${tenant} not appended (${appended.status})`);
}

/**
 * The end of the next purge range: the first leaf at or after `from` received at or after
 * `cutoff` (leaves are received in index order), at most `maxRange` leaves on, at most the tree's size.
 */
async function rangeEnd(sql: Sql, tenant: string, from: number, cutoff: Date, maxRange: number): Promise<number> {
  const [head] = await sql<{ size: number }[]>`select size from ledger_heads where tenant_id = ${tenant}`;
  const limit = Math.min(head?.size ?? 0, from + maxRange);
  if (limit <= from) return from;
  const [young] = await sql<{ seq: number }[]>`
    select seq from ledger_leaves
    where tenant_id = ${tenant} and seq >= ${from} and seq < ${limit} and received_at >= ${cutoff}
    order by seq limit 1`;
  return young ? young.seq : limit;
}

/** Most the service's clock may lag the database's before a purge gives up. */
const MAX_CLOCK_LAG_MS = 60_000;

/**
 * Waits until this process's clock (which stamps the record's `received_at`) has passed `decided`
 * (the database's): the verifier requires a purge to be decided before it was recorded.
 */
async function clockPast(decided: Date): Promise<void> {
  const lag = decided.getTime() - Date.now() + 1;
  if (lag <= 0) return;
  if (lag > MAX_CLOCK_LAG_MS) throw new TrailproofError('INTERNAL', `the service's clock is ${lag} ms behind the database's; not purging`);
  await new Promise((resolve) => setTimeout(resolve, lag));
}
