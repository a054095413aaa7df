/** Display helpers: times in the viewer's zone (UTC on hover), `datetime-local` input values, targets, JSON values. */
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

/** An ISO time as the value of a `<input type="datetime-local">`, in the viewer's zone. */
export function isoToLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** The value of a `<input type="datetime-local">` (the viewer's zone) as an ISO time in UTC. */
export function localInputToIso(value: string): string {
  return value ? new Date(value).toISOString() : '';
}
