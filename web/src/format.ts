/** Display helpers: targets and JSON values (times: time-zone.ts). */
export function targetText(t: { type: string; id: string; name?: string }): string {
  return `${t.type}:${t.name ?? t.id}`;
}

export function jsonText(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}
