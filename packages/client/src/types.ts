/**
 * The event the client records, in the shape `POST /v1/events` accepts (docs/events.md).
 * Hand-written for the skeleton; event-types.ts replaces it with types generated from the server's schema.
 */
export type ActorType = 'user' | 'service' | 'api_key' | 'system';

export interface EventInput {
  /** Client-chosen id; the server stores an event once per id, so retries never duplicate. The client fills it in when absent. */
  id?: string;
  tenant?: string;
  action: string;
  occurred_at?: string;
  actor: { type: ActorType; id: string; name?: string; metadata?: Record<string, unknown> };
  targets?: { type: string; id: string; name?: string; metadata?: Record<string, unknown> }[];
  context?: { ip?: string; user_agent?: string; location?: string; request_id?: string; session_id?: string };
  outcome?: string;
  metadata?: Record<string, unknown>;
  [field: string]: unknown;
}
