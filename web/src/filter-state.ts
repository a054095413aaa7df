/**
 * The events view's filters and their two spellings: the page URL (shareable, relative ranges stay
 * relative: `range=24h`) and the API query (absolute since/until, fixed when the filter is applied
 * so cursors of later pages stay valid).
 */
export const RANGES = { '1h': 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type RangePreset = keyof typeof RANGES | 'custom';

export interface Filters {
  actor: string;
  action: string;
  target_type: string;
  target_id: string;
  outcome: '' | 'success' | 'failure';
  ip: string;
  q: string;
  range: RangePreset;
  /** For range=custom: ISO timestamps. */
  since: string;
  until: string;
}

export const TEXT_FIELDS = ['actor', 'action', 'target_type', 'target_id', 'outcome', 'ip', 'q'] as const;

export function emptyFilters(): Filters {
  return { actor: '', action: '', target_type: '', target_id: '', outcome: '', ip: '', q: '', range: '24h', since: '', until: '' };
}

export function filtersFromUrl(search: string): Filters {
  const p = new URLSearchParams(search);
  const f = emptyFilters();
  for (const k of TEXT_FIELDS) (f as unknown as Record<string, string>)[k] = p.get(k) ?? '';
  if (f.outcome !== 'success' && f.outcome !== 'failure') f.outcome = '';
  const range = p.get('range');
  if (range && (range in RANGES || range === 'custom')) f.range = range as RangePreset;
  if (f.range === 'custom') {
    f.since = p.get('since') ?? '';
    f.until = p.get('until') ?? '';
    if (!f.since || !f.until) f.range = '24h';
  }
  return f;
}

/** The URL parameters of `filters`, on top of `base` (which keeps tenant, view, …). */
export function filtersToUrl(filters: Filters, base: URLSearchParams): URLSearchParams {
  const p = new URLSearchParams(base);
  for (const k of [...TEXT_FIELDS, 'range', 'since', 'until']) p.delete(k);
  for (const k of TEXT_FIELDS) if (filters[k]) p.set(k, filters[k]);
  if (filters.range !== '24h') p.set('range', filters.range);
  if (filters.range === 'custom') {
    p.set('since', filters.since);
    p.set('until', filters.until);
  }
  return p;
}

/** The absolute [since, until) of the filters at time `now`. */
export function timeWindow(filters: Filters, now = Date.now()): { since: string; until: string } {
  if (filters.range === 'custom') return { since: filters.since, until: filters.until };
  return { since: new Date(now - RANGES[filters.range]).toISOString(), until: new Date(now + 1000).toISOString() };
}

/** The API query of `filters` over a fixed window (GET /v1/events, histogram, exports). */
export function apiQuery(filters: Filters, window: { since: string; until: string }, tenant?: string): URLSearchParams {
  const p = new URLSearchParams();
  if (tenant) p.set('tenant', tenant);
  for (const k of TEXT_FIELDS) {
    let v = filters[k].trim();
    // "user." or "user" typed as a prefix: the API spells prefixes "user.*".
    if (k === 'action' && v.endsWith('.')) v = `${v}*`;
    if (v) p.set(k, v);
  }
  p.set('since', window.since);
  p.set('until', window.until);
  return p;
}
