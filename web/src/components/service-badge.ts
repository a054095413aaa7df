/**
 * The mark of a service record: an event Trailproof recorded itself (a read, an export, a key or
 * tenant change), which no client can write (docs/events.md#service-records). Styled by
 * `.service-record` in theme.ts.
 */
import { html, nothing } from 'lit';
import type { StoredEvent } from '../api.ts';

export function serviceBadge(e: StoredEvent) {
  return e.source === 'trailproof'
    ? html`<span class="service-record" data-service-record title="Recorded by Trailproof itself; no application can send this event">Trailproof</span>`
    : nothing;
}
