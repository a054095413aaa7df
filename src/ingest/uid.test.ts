import { describe, expect, it } from 'vitest';
import { uuidv7 } from './uid.ts';

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID carrying the millisecond timestamp', () => {
    const uid = uuidv7(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
    expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(uid.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
  });

  it('stays unique and sorted across pool refills and bursts within one millisecond', () => {
    const uids = Array.from({ length: 5000 }, () => uuidv7(1_900_000_000_000));
    expect(new Set(uids).size).toBe(uids.length);
    expect([...uids].sort()).toEqual(uids);
    // The random tails differ: the pool is refilled, not reused.
    expect(new Set(uids.map((u) => u.slice(-12))).size).toBe(uids.length);
  });
});
