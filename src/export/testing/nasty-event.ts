/** A stored event carrying one value built to break escaping in every free-text field (tests of formats and destinations). */
import type { StoredEvent } from '../../event/types.ts';

export function nastyEvent(n: number, nasty: string, tenant = 'acme'): StoredEvent {
  return {
    uid: `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    tenant,
    seq: n,
    received_at: '2026-11-22T10:00:01.000Z',
    occurred_at: `2026-11-22T10:00:00.${String(n % 1000).padStart(3, '0')}Z`,
    action: n % 2 ? 'user.login_failed' : 'document.updated',
    actor: { type: 'user', id: `user_${n}`, name: nasty },
    targets: [{ type: 'document', id: `doc_${n}`, name: nasty }],
    outcome: n % 2 ? 'failure' : 'success',
    reason: nasty,
    context: { ip: `203.0.113.${n % 250}`, user_agent: nasty, location: nasty, request_id: `req_${n}` },
    changes: [{ field: 'title', before: nasty, after: 'new' }],
    metadata: { note: nasty, count: n },
  };
}
