/** Display helpers: times in the viewer's zone (UTC on hover), targets, JSON values. */
const local = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function localTime(iso: string): string {
  return local.format(new Date(iso));
}

export function utcTime(iso: string): string {
  return `${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC`;
}

export function targetText(t: { type: string; id: string; name?: string }): string {
  return `${t.type}:${t.name ?? t.id}`;
}

export function jsonText(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
