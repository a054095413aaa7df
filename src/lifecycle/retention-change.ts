/**
 * A change of a tenant's retention policy, as the API, the WorkOS routes and the CLI make it:
 * checked, stored and recorded in the tenant's ledger as `retention.updated` (what the verifier
 * checks each purge against), under the tenant's lifecycle lock so that a purge under way finishes
 * under the policy it recorded.
 */
import type { AccessRecord, MetaAudit, RequestContext } from '../audit/meta-audit.ts';
import { POLICY_ACTION } from '../event/lifecycle-records.ts';
import { TrailproofError } from '../errors.ts';
import type { Sql } from '../store/db.ts';
import { withLifecycleLock } from './payload-removal.ts';
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, policyMetadata, setPolicy, type RetentionPolicy } from './retention-policy.ts';

export interface RetentionInput {
  days: number;
  hot_days?: number | undefined;
}

/** Refuses a policy out of range (REQUEST_INVALID, pointing at `/days` or `/hot_days`). */
export function checkRetention(policy: RetentionInput): void {
  const inRange = (v: number) => Number.isInteger(v) && v >= MIN_RETENTION_DAYS && v <= MAX_RETENTION_DAYS;
  const range = `an integer from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}`;
  if (!inRange(policy.days)) {
    throw new TrailproofError('REQUEST_INVALID', `\`days\` must be ${range}`, {
      details: [{ pointer: '/days', code: 'out_of_range', message: `must be ${range}` }],
    });
  }
  if (policy.hot_days === undefined) return;
  if (!inRange(policy.hot_days)) {
    throw new TrailproofError('REQUEST_INVALID', `\`hot_days\` must be ${range}`, {
      details: [{ pointer: '/hot_days', code: 'out_of_range', message: `must be ${range}` }],
    });
  }
  if (policy.hot_days > policy.days) {
    throw new TrailproofError('REQUEST_INVALID', '`hot_days` must not exceed `days`', {
      details: [{ pointer: '/hot_days', code: 'out_of_range', message: `must be at most days (${policy.days})` }],
    });
  }
}

/** Checks, stores and records the tenant's new policy; returns it. */
export async function changeRetentionPolicy(
  options: { sql: Sql; audit: MetaAudit },
  tenant: string,
  policy: RetentionInput,
  by: AccessRecord['principal'],
  context?: RequestContext,
): Promise<RetentionPolicy> {
  checkRetention(policy);
  return withLifecycleLock(options.sql, tenant, async () => {
    const set = await setPolicy(options.sql, tenant, policy);
    await options.audit.record({ tenant, principal: by, action: POLICY_ACTION, metadata: policyMetadata(set), ...(context ? { context } : {}) });
    return set;
  });
}
