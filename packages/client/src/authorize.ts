/** Records authorization decisions where they are made: allowed as outcome `success`, denied as `failure`. */
import type { TrailproofClient } from './client.ts';
import type { RecordInput } from './types.ts';

export interface Decision extends Omit<RecordInput, 'outcome'> {
  /** The decision, or a check that makes it (a throwing check counts as denied and rethrows). */
  allowed: boolean | (() => boolean | Promise<boolean>);
}

/**
 * Makes (or takes) the decision, records it as `action` with outcome `success` (allowed) or
 * `failure` (denied, with `reason` defaulting to `denied`), and returns it:
 * `if (!(await authorize(audit, { action: 'invoice.delete', targets, allowed: () => can(user, 'delete') }))) return res.sendStatus(403);`
 */
export async function authorize(client: TrailproofClient, decision: Decision): Promise<boolean> {
  const { allowed, ...event } = decision;
  let result: boolean;
  try {
    result = typeof allowed === 'function' ? await allowed() : allowed;
  } catch (err) {
    client.record({ ...event, outcome: 'failure', reason: event.reason ?? `check failed: ${String(err)}`.slice(0, 200) });
    throw err;
  }
  client.record(result ? { ...event, outcome: 'success' } : { ...event, outcome: 'failure', reason: event.reason ?? 'denied' });
  return result;
}
