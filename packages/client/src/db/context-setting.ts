/**
 * What the database adapters put in `trailproof.context` for each transaction (docs/capture.md, "Who
 * did it"): the request's actor and where it came from, taken from the audit context the middleware
 * opened (`currentContext()`). Trailproof's capture triggers record it with each row change.
 */
import { type AuditContext, currentContext } from '../context.ts';

/** The statement that sets the context for the current transaction only (`is_local`: it ends with it). */
export const SET_CONTEXT_SQL = "select set_config('trailproof.context', $1, true)";

/** The setting's JSON text for `context`, or undefined when it says nothing (the database role is then the actor). */
export function contextSetting(context: AuditContext | undefined = currentContext()): string | undefined {
  if (!context) return undefined;
  const where = {
    ...(context.ip !== undefined && { ip: context.ip }),
    ...(context.userAgent !== undefined && { user_agent: context.userAgent }),
    ...(context.requestId !== undefined && { request_id: context.requestId }),
    ...(context.sessionId !== undefined && { session_id: context.sessionId }),
  };
  if (context.actor === undefined && Object.keys(where).length === 0) return undefined;
  return JSON.stringify({ ...(context.actor !== undefined && { actor: context.actor }), ...(Object.keys(where).length > 0 && { context: where }) });
}
