/**
 * What every accepted event goes through after the event model's validation and before it is
 * appended, whichever API it came by: its action's schema (src/schema/), then redaction at the door
 * (src/redaction/), so the ledger commits to what is stored.
 */
import { TrailproofError } from '../errors.ts';
import type { EventBody } from '../event/types.ts';
import type { Services } from '../http/services.ts';
import type { Redacted } from '../redaction/redact.ts';

/**
 * The event as it will be stored. Throws EVENT_INVALID with a detail per violation of the action's
 * schema (pointers prefixed with `prefix`); `version` names a schema version to check against
 * instead of the newest.
 */
export async function admitEvent(
  services: Services,
  tenant: string,
  body: EventBody,
  prefix: string,
  version?: { value: number; pointer: string },
): Promise<Redacted> {
  const violations = await services.schemas.check(tenant, body, prefix, version);
  if (violations.length > 0) throw new TrailproofError('EVENT_INVALID', 'the event does not match its action schema', { details: violations });
  return services.redaction.redact(tenant, body);
}
