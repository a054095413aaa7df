/** What `record()` takes: an event (event-types.ts, generated from the server's schema) whose actor may come from the request context. */
import type { EventActor, EventInput } from './event-types.ts';

export type { ActorType, EventActor, EventChange, EventContext, EventInput, EventTarget } from './event-types.ts';

/** An event as `record()` takes it: `actor` may be left to the request context (context.ts). */
export type RecordInput = Omit<EventInput, 'actor'> & { actor?: EventActor };
