/**
 * Applying a viewer token's narrowing (src/auth/viewer-tokens.ts) to reads: list and count queries
 * get it as filter conditions (so cursors, histograms and exports carry it too), single-event
 * reads check the event against it. A narrowed-away event answers like a missing one.
 */
import type { Principal } from '../auth/api-keys.ts';
import { TrailproofError } from '../errors.ts';
import type { Sql } from '../store/db.ts';
import { conditions } from './event-repository.ts';
import type { EventFilter } from './filters.ts';

/** The filter with the principal's viewer narrowing added (unchanged for API keys). */
export function narrowFilter(principal: Principal, filter: EventFilter): EventFilter {
  const grant = principal.viewer;
  if (!grant) return filter;
  return {
    ...filter,
    ...(grant.actions ? { narrowActions: grant.actions.map(parseActionPattern) } : {}),
    ...(grant.targets ? { narrowTargets: grant.targets } : {}),
  };
}

/** `user.*` → prefix `user`; `user.login` → exact. */
export function parseActionPattern(pattern: string): { action: string; prefix: boolean } {
  return pattern.endsWith('.*') ? { action: pattern.slice(0, -2), prefix: true } : { action: pattern, prefix: false };
}

/** Throws NOT_FOUND unless a narrowed viewer token may see event `uid` (of its tenant). */
export async function assertViewerMaySee(sql: Sql, principal: Principal, uid: string): Promise<void> {
  const grant = principal.viewer;
  if (!grant || (!grant.actions && !grant.targets)) return;
  const conds = conditions(sql, narrowFilter(principal, {}));
  const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
  const rows = /^[0-9a-f-]{36}$/i.test(uid)
    ? await sql`select 1 from ledger_leaves l join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
        where l.uid = ${uid.toLowerCase()} and l.tenant_id = ${grant.tenant} and ${where}`
    : [];
  if (rows.length === 0) throw new TrailproofError('NOT_FOUND', `no event ${uid}`);
}
