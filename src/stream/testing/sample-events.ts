/** Stored events whose values are built to break escaping, for the destination tests. */
import type { StoredEvent } from '../../event/types.ts';
import { nastyEvent } from '../../export/testing/nasty-event.ts';

export const NASTY = [
  'quote " and \\ backslash',
  'bracket ] equals = pipe |',
  'line\nbreak and\r\ncrlf',
  'ünïcødé — 東京 🙂',
  'src=10.0.0.1 act=forged',
  'sd="x"] [evil@1 a="b"]',
];

export function sampleEvent(n: number, tenant = 'acme'): StoredEvent {
  return nastyEvent(n, NASTY[n % NASTY.length]!, tenant);
}

export function sampleEvents(from: number, count: number, tenant?: string): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => sampleEvent(from + i, tenant));
}
