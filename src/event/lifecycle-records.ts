/**
 * The lifecycle's service records (docs/lifecycle.md "Purge records"): what each says in its
 * `metadata`, shared by the lifecycle that writes them and the verifier that checks every removal
 * against them.
 */

/** A purge: payloads removed by the retention policy. */
export const PURGE_ACTION = 'retention.purged';
/** A retention policy set for the tenant, or the default recorded before the first purge under it. */
export const POLICY_ACTION = 'retention.updated';

/** Metadata of a `retention.purged` record. */
export interface PurgeRecord {
  /** Leaf indices [range_start, range_end) the purge covers; range_start is the previous purge's range_end (or 0). */
  range_start: number;
  range_end: number;
  /** Payloads removed: every event of the range received before `cutoff`, except lifecycle records and held events. */
  count: number;
  /** Events received before this time are purged (RFC 3339). */
  cutoff: string;
  /** When the purge was decided (the database's clock): legal holds in force then are respected. */
  decided_at: string;
  /** The policy in force, as the latest `retention.updated` record states it. */
  policy: { days: number; hot_days?: number; source: 'tenant' | 'default' };
  /** Days after receipt that the purge applied: `policy.days`, or `policy.hot_days` with an archive. */
  purge_after_days: number;
  /** Index of the previous purge record, or null for the first: purges form a chain. */
  previous: number | null;
  /** Hash of the archive segment that holds the range, when an archive is configured. */
  archive_segment?: string;
}

/** Metadata of a `retention.updated` record. */
export interface PolicyRecord {
  days: number;
  hot_days?: number;
  source: 'tenant' | 'default';
}

/** The record's metadata if it is a well-formed purge record, else undefined. */
export function parsePurgeRecord(metadata: unknown): PurgeRecord | undefined {
  if (!isObject(metadata)) return undefined;
  const m = metadata;
  const natural = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const policy = parsePolicyRecord(m.policy);
  if (
    !natural(m.range_start) ||
    !natural(m.range_end) ||
    m.range_end < m.range_start ||
    !natural(m.count) ||
    !isTime(m.cutoff) ||
    !isTime(m.decided_at) ||
    !policy ||
    !natural(m.purge_after_days) ||
    !(m.previous === null || natural(m.previous)) ||
    !(m.archive_segment === undefined || typeof m.archive_segment === 'string')
  )
    return undefined;
  return m as unknown as PurgeRecord;
}

/** The record's metadata if it is a well-formed policy record, else undefined. */
export function parsePolicyRecord(metadata: unknown): PolicyRecord | undefined {
  if (!isObject(metadata)) return undefined;
  const { days, hot_days: hot, source } = metadata;
  const inRange = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 3650;
  if (!inRange(days) || !(hot === undefined || (inRange(hot) && hot <= days)) || (source !== 'tenant' && source !== 'default')) return undefined;
  return { days, ...(hot === undefined ? {} : { hot_days: hot }), source };
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
