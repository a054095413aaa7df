/** Small facts about an event that several formats state the same way. */
import type { StoredEvent } from '../event/types.ts';

export const PRODUCT = { vendor: 'Trailproof', product: 'Trailproof', version: '1' } as const;

/** "alice user.login success", the one-line description SIEM list views show. */
export function eventSummary(e: StoredEvent): string {
  const who = e.actor.name ? `${e.actor.name} (${e.actor.id})` : e.actor.id;
  const what = e.targets.length ? ` on ${e.targets.map((t) => `${t.type}:${t.id}`).join(', ')}` : '';
  return `${who} ${e.action}${what}: ${e.outcome}${e.reason ? ` (${e.reason})` : ''}`;
}

/** Milliseconds since the epoch of an RFC 3339 instant. */
export function epochMillis(instant: string): number {
  return Date.parse(instant);
}
