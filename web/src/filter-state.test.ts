import { describe, expect, it } from 'vitest';
import { apiQuery, emptyFilters, filtersFromUrl, filtersToUrl, timeWindow, widenedTo } from './filter-state.ts';

const NOW = Date.parse('2026-06-15T12:00:00Z');
const query = (search: string) => Object.fromEntries(apiQuery(filtersFromUrl(search), timeWindow(filtersFromUrl(search), NOW)));

describe('filter state', () => {
  it('asks for the activity by default, the access log or both when chosen, and keeps the choice in the URL', () => {
    expect(query('').kind).toBe('activity');
    expect(query('?kind=access').kind).toBe('access');
    expect(query('?kind=all').kind).toBeUndefined();
    expect(query('?kind=bogus').kind).toBe('activity');
    expect(filtersToUrl({ ...emptyFilters(), kind: 'access' }, new URLSearchParams()).get('kind')).toBe('access');
    expect(filtersToUrl(emptyFilters(), new URLSearchParams()).has('kind')).toBe(false);
  });

  it('sends several actions, suffix patterns, exclusions and has_changes as the API spells them', () => {
    const q = query('?action=user.,%20*.updated,role.granted&exclude_action=api.called,document.&has_changes=true');
    expect(q.action).toBe('user.*,*.updated,role.granted');
    expect(q.exclude_action).toBe('api.called,document.*');
    expect(q.has_changes).toBe('true');
    expect(query('?has_changes=maybe').has_changes).toBeUndefined();
  });

  it('reads since=-3d as a relative range, kept relative in the URL and fixed in the API query', () => {
    const f = filtersFromUrl('?since=-3d&until=-1h');
    expect(f).toMatchObject({ range: 'relative', since: '-3d', until: '-1h' });
    expect(filtersToUrl(f, new URLSearchParams()).toString()).toBe('since=-3d&until=-1h');
    expect(timeWindow(f, NOW)).toEqual({ since: '2026-06-12T12:00:00.000Z', until: '2026-06-15T11:00:00.000Z' });
    expect(filtersFromUrl('?since=yesterday').range).toBe('24h');
  });

  it('widens the range to include the newest matching event: a preset when one reaches it, else from it to now', () => {
    const f = emptyFilters();
    const window = timeWindow(f, NOW);
    expect(widenedTo(f, window, '2026-06-10T12:00:00Z', NOW).range).toBe('7d');
    const old = widenedTo(f, window, '2025-01-01T00:00:00Z', NOW);
    expect(old).toMatchObject({ range: 'custom', until: window.until });
    expect(Date.parse(old.since)).toBeLessThanOrEqual(Date.parse('2025-01-01T00:00:00Z'));
    const past = { ...f, range: 'custom' as const, since: '2026-01-01T00:00:00.000Z', until: '2026-01-02T00:00:00.000Z' };
    const later = widenedTo(past, past, '2026-03-01T00:00:00Z', NOW);
    expect(later.since).toBe(past.since);
    expect(Date.parse(later.until)).toBeGreaterThan(Date.parse('2026-03-01T00:00:00Z'));
  });
});
