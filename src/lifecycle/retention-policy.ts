/**
 * Retention policies (docs/lifecycle.md "Retention"): per tenant, how many days an event is kept
 * after it was received (`days`, 1–3650) and, with an archive, how many of those it also stays in
 * the database (`hot_days` ≤ `days`). Tenants without a policy of their own follow the service's
 * default (TRAILPROOF_DEFAULT_RETENTION_DAYS). Every change is recorded in the tenant's ledger as
 * `retention.updated`, which is what `trailproof verify` checks each purge against.
 */
import type { Sql } from '../store/db.ts';

export const MIN_RETENTION_DAYS = 1;
export const MAX_RETENTION_DAYS = 3650;
export const DEFAULT_RETENTION_DAYS = 365;

export interface RetentionPolicy {
  days: number;
  /** Days an event stays in the database when an archive is configured; absent: `days`. */
  hot_days?: number;
  /** `tenant`: set for the tenant; `default`: the service's default. */
  source: 'tenant' | 'default';
}

/** The tenant's policy in force: its own, or the default. */
export async function policyOf(sql: Sql, tenant: string, defaultDays: number): Promise<RetentionPolicy> {
  const [row] = await sql<{ days: number; hot_days: number | null }[]>`select days, hot_days from tenant_retention where tenant_id = ${tenant}`;
  if (!row) return { days: defaultDays, source: 'default' };
  return { days: row.days, ...(row.hot_days === null ? {} : { hot_days: row.hot_days }), source: 'tenant' };
}

/** Stores the tenant's own policy (the caller records the change in the ledger). */
export async function setPolicy(sql: Sql, tenant: string, policy: { days: number; hot_days?: number | undefined }): Promise<RetentionPolicy> {
  const hot = policy.hot_days ?? null;
  await sql`
    insert into tenant_retention (tenant_id, days, hot_days) values (${tenant}, ${policy.days}, ${hot})
    on conflict (tenant_id) do update set days = excluded.days, hot_days = excluded.hot_days, updated_at = now()`;
  return { days: policy.days, ...(hot === null ? {} : { hot_days: hot }), source: 'tenant' };
}

/**
 * Days after receipt an event's payload leaves the database: `hot_days` when an archive keeps the
 * rest of the period, else `days`.
 */
export function purgeAfterDays(policy: RetentionPolicy, archived: boolean): number {
  return archived && policy.hot_days !== undefined ? policy.hot_days : policy.days;
}

/** The metadata of a `retention.updated` record: the policy, as the verifier reads it. */
export function policyMetadata(policy: RetentionPolicy): Record<string, unknown> {
  return { days: policy.days, ...(policy.hot_days === undefined ? {} : { hot_days: policy.hot_days }), source: policy.source };
}
