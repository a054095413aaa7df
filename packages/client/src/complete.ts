import { randomUUID } from 'node:crypto';
import { withContext } from './context.ts';
import type { EventInput, RecordInput } from './types.ts';

/**
 * An event ready to be sent: request context, `tenant`, a client `id` and `occurred_at` (now)
 * filled in where absent. The time is fixed here because the server compares a retry's content
 * with what it stored, and would otherwise default it to each attempt's time of receipt.
 */
export function completeEvent(event: RecordInput, tenant?: string): EventInput {
  const full = withContext(event) as EventInput;
  return {
    ...full,
    id: full.id ?? randomUUID(),
    occurred_at: full.occurred_at ?? new Date().toISOString(),
    ...(full.tenant === undefined && tenant !== undefined && { tenant }),
  };
}
