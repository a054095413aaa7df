import { describe, expect, it } from 'vitest';
import { RelayProgress, THROUGHPUT_WINDOW_MS } from './relay-progress.ts';

describe('RelayProgress', () => {
  it('counts per tenant, and the last minute forgets older batches but not the totals', () => {
    const progress = new RelayProgress();
    const t0 = Date.parse('2026-12-06T12:00:00Z');
    progress.record(
      new Map([
        ['acme', 3],
        ['globex', 1],
      ]),
      t0,
    );
    progress.record(new Map([['acme', 2]]), t0 + 30_000);
    expect(progress.of('acme', t0 + 30_000)).toEqual({ relayed: 5, lastRelayedAt: '2026-12-06T12:00:30.000Z', lastMinute: 5 });
    expect(progress.of('acme', t0 + THROUGHPUT_WINDOW_MS)).toMatchObject({ relayed: 5, lastMinute: 2 });
    expect(progress.of('globex', t0 + THROUGHPUT_WINDOW_MS + 30_000)).toEqual({ relayed: 1, lastRelayedAt: '2026-12-06T12:00:00.000Z', lastMinute: 0 });
    expect(progress.of('initech', t0)).toEqual({ relayed: 0, lastRelayedAt: null, lastMinute: 0 });
  });
});
