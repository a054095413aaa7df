/** A destination's filter (actions named exactly or by `prefix*`, and the outcome), applied to stored events. */
import type { StoredEvent } from '../event/types.ts';
import type { StreamFilter } from './stream-store.ts';

/** The event filter of a destination: actions (exact, or prefix with `*`) and outcome. */
export function matcher(filter: StreamFilter): (e: StoredEvent) => boolean {
  const exact = new Set(filter.actions?.filter((a) => !a.endsWith('*')));
  const prefixes = filter.actions?.filter((a) => a.endsWith('*')).map((a) => a.slice(0, -1)) ?? [];
  const anyAction = !filter.actions || filter.actions.length === 0;
  return (e) =>
    (filter.outcome === undefined || e.outcome === filter.outcome) && (anyAction || exact.has(e.action) || prefixes.some((p) => e.action.startsWith(p)));
}
