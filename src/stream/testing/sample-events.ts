/** Stored events whose values are built to break escaping, for the destination tests. */
import type { StoredEvent } from '../../event/types.ts';

export const NASTY = ['quote " and \\ backslash', 'bracket ] equals = pipe |', 'line\nbreak and\r\ncrlf', 'ünïcødé — 東京 🙂', 'src=10.0.0.1 act=forged', 'sd="x"] [evil@1 a="b"]'];

export function sampleEvent(n: number, tenant = 'acme'): StoredEvent {
  const nasty = NASTY[n % NASTY.length]!;
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

export function sampleEvents(from: number, count: number, tenant?: string): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => sampleEvent(from + i, tenant));
}
