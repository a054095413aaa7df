/**
 * The request context of the code that records an event: who acts and from where. Middleware opens
 * it per request with `runWithContext`; `record()` and the database adapters (db/) read it with
 * `currentContext()`, so an event recorded deep in a call stack still carries its request's actor.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventActor, RecordInput } from './types.ts';

export interface AuditContext {
  actor?: EventActor;
  tenant?: string;
  ip?: string;
  userAgent?: string;
  requestId?: string;
  sessionId?: string;
}

const storage = new AsyncLocalStorage<AuditContext>();

/** Runs `fn` with `context` as the current audit context of everything it calls, sync or async. */
export function runWithContext<T>(context: AuditContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The audit context of the running request, or undefined outside one. */
export function currentContext(): AuditContext | undefined {
  return storage.getStore();
}

/** Fills the fields an event leaves out from the current context; fields the event sets win. */
export function withContext(event: RecordInput, context: AuditContext | undefined = currentContext()): RecordInput {
  if (!context) return event;
  const ctx = {
    ...(context.ip !== undefined && { ip: context.ip }),
    ...(context.userAgent !== undefined && { user_agent: context.userAgent }),
    ...(context.requestId !== undefined && { request_id: context.requestId }),
    ...(context.sessionId !== undefined && { session_id: context.sessionId }),
    ...event.context,
  };
  return {
    ...event,
    ...(event.actor === undefined && context.actor !== undefined && { actor: context.actor }),
    ...(event.tenant === undefined && context.tenant !== undefined && { tenant: context.tenant }),
    ...(Object.keys(ctx).length > 0 && { context: ctx }),
  };
}
