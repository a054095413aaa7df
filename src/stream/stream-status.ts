/**
 * What `GET /v1/streams/{id}/status` answers (docs/streams.md, "Status"). Types only, no imports: the
 * web console imports it too, so the two sides cannot drift.
 */
export interface StreamStatus {
  id: string;
  status: 'active' | 'paused';
  paused_reason: string | null;
  cursor: number;
  head: number;
  /** Events committed but not yet delivered (or skipped by the filter): head − cursor. */
  lag_events: number;
  /** Age of the oldest undelivered event (now − its received_at); 0 when none. */
  lag_seconds: number;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  attempts: number;
}
