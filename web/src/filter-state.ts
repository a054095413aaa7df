/**
 * The events view's filters and their two spellings: the page URL (shareable, relative ranges stay
 * relative: `range=24h`, `since=-3d`) and the API query (absolute since/until, fixed when the
 * filter is applied so cursors of later pages stay valid).
 */
export const RANGES = { '1h': 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
/** A preset, `custom` (absolute since/until) or `relative` (since/until before now: `-3d`, `-15m`). */
export type RangePreset = keyof typeof RANGES | 'custom' | 'relative';
/** `activity`: what applications and people did; `access`: reads and exports of the trail; `all`: both. */
export type LogKind = 'activity' | 'access' | 'all';

export interface Filters {
  actor: string;
  /** Action patterns, comma-separated: `user.login`, `user.*`, `*.updated`. */
  action: string;
  /** Action patterns to leave out, comma-separated. */
  exclude_action: string;
  target_type: string;
  target_id: string;
  outcome: '' | 'success' | 'failure';
  has_changes: '' | 'true' | 'false';
  ip: string;
  q: string;
  kind: LogKind;
  range: RangePreset;
  /** For range=custom: ISO timestamps; for range=relative: `-3d` (since) and `-15m` or empty (until). */
  since: string;
  until: string;
}

export const TEXT_FIELDS = ['actor', 'action', 'exclude_action', 'target_type', 'target_id', 'outcome', 'has_changes', 'ip', 'q'] as const;
/** `-30s`, `-15m`, `-1h`, `-7d`, `-2w`: the API's relative times. */
export const RELATIVE_TIME = /^-(\d{1,6})([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const KINDS: readonly LogKind[] = ['activity', 'access', 'all'];

export function emptyFilters(): Filters {
  return {
    actor: '',
    action: '',
    exclude_action: '',
    target_type: '',
    target_id: '',
    outcome: '',
    has_changes: '',
    ip: '',
    q: '',
    kind: 'activity',
    range: '24h',
    since: '',
    until: '',
  };
}

export function filtersFromUrl(search: string): Filters {
  const p = new URLSearchParams(search);
  const f = emptyFilters();
  for (const k of TEXT_FIELDS) (f as unknown as Record<string, string>)[k] = p.get(k) ?? '';
  if (f.outcome !== 'success' && f.outcome !== 'failure') f.outcome = '';
  if (f.has_changes !== 'true' && f.has_changes !== 'false') f.has_changes = '';
  const kind = p.get('kind') as LogKind;
  if (KINDS.includes(kind)) f.kind = kind;
  const range = p.get('range');
  const since = p.get('since') ?? '';
  const until = p.get('until') ?? '';
  if (range && (range in RANGES || range === 'custom')) f.range = range as RangePreset;
  if (f.range === 'custom') {
    f.since = since;
    f.until = until;
    if (!f.since || !f.until) f.range = '24h';
  } else if (RELATIVE_TIME.test(since) && (until === '' || RELATIVE_TIME.test(until))) {
    Object.assign(f, { range: 'relative', since, until });
  }
  return f;
}

/** The URL parameters of `filters`, on top of `base` (which keeps tenant, view, …). */
export function filtersToUrl(filters: Filters, base: URLSearchParams): URLSearchParams {
  const p = new URLSearchParams(base);
  for (const k of [...TEXT_FIELDS, 'kind', 'range', 'since', 'until']) p.delete(k);
  for (const k of TEXT_FIELDS) if (filters[k]) p.set(k, filters[k]);
  if (filters.kind !== 'activity') p.set('kind', filters.kind);
  if (filters.range !== '24h' && filters.range !== 'relative') p.set('range', filters.range);
  if (filters.range === 'custom' || filters.range === 'relative') {
    p.set('since', filters.since);
    if (filters.until) p.set('until', filters.until);
  }
  return p;
}

/** The absolute [since, until) of the filters at time `now`. */
export function timeWindow(filters: Filters, now = Date.now()): { since: string; until: string } {
  if (filters.range === 'custom') return { since: filters.since, until: filters.until };
  if (filters.range === 'relative') {
    return {
      since: new Date(now - relativeMs(filters.since)).toISOString(),
      until: new Date(filters.until ? now - relativeMs(filters.until) : now + 1000).toISOString(),
    };
  }
  return { since: new Date(now - RANGES[filters.range]).toISOString(), until: new Date(now + 1000).toISOString() };
}

/** How long before now a relative time (`-3d`) is, in milliseconds; 24 hours when it is not one. */
export function relativeMs(value: string): number {
  const m = RELATIVE_TIME.exec(value);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : RANGES['24h'];
}

/**
 * The filters with the time range widened to include `newest` (an event's time outside the
 * window): the smallest preset that reaches back to it, else a custom range from it to now.
 */
export function widenedTo(filters: Filters, window: { since: string; until: string }, newest: string, now = Date.now()): Filters {
  const at = Date.parse(newest);
  if (at > Date.parse(window.until)) return { ...filters, range: 'custom', since: window.since, until: new Date(at + 1000).toISOString() };
  const preset = (Object.keys(RANGES) as (keyof typeof RANGES)[]).find((r) => now - RANGES[r] <= at);
  if (preset && RANGES[preset] > Date.parse(window.until) - Date.parse(window.since)) return { ...filters, range: preset, since: '', until: '' };
  return { ...filters, range: 'custom', since: new Date(at - 3600_000).toISOString(), until: window.until };
}

/** The API query of `filters` over a fixed window (GET /v1/events, histogram, exports). */
export function apiQuery(filters: Filters, window: { since: string; until: string }, tenant?: string): URLSearchParams {
  const p = new URLSearchParams();
  if (tenant) p.set('tenant', tenant);
  for (const k of TEXT_FIELDS) {
    const v = k === 'action' || k === 'exclude_action' ? actionPatterns(filters[k]) : filters[k].trim();
    if (v) p.set(k, v);
  }
  if (filters.kind !== 'all') p.set('kind', filters.kind);
  p.set('since', window.since);
  p.set('until', window.until);
  return p;
}

/** Comma-separated action patterns as the API spells them: "user." or "user" typed as a prefix is `user.*`. */
function actionPatterns(value: string): string {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => (v.endsWith('.') ? `${v}*` : v))
    .join(',');
}
