/**
 * The one time zone a view shows its times in: the viewer's own (default) or UTC, switched from
 * the console's header and remembered in localStorage. Components that show times hold a
 * TimeZoneController, which re-renders them when the zone changes.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export type TimeZoneMode = 'local' | 'utc';

const STORAGE_KEY = 'trailproof.time-zone';
const CHANGED = 'trailproof-time-zone';
const FORMAT = { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' } as const;
const formats: Record<TimeZoneMode, Intl.DateTimeFormat> = {
  local: new Intl.DateTimeFormat(undefined, FORMAT),
  utc: new Intl.DateTimeFormat(undefined, { ...FORMAT, timeZone: 'UTC' }),
};

let mode: TimeZoneMode = readMode();

export function timeZoneMode(): TimeZoneMode {
  return mode;
}

export function setTimeZoneMode(next: TimeZoneMode): void {
  mode = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // storage refused (private mode): the choice lasts for this page
  }
  window.dispatchEvent(new Event(CHANGED));
}

/** The name of the zone times are shown in: `UTC` or the browser's (`Europe/Lisbon`). */
export function zoneName(): string {
  return mode === 'utc' ? 'UTC' : (formats.local.resolvedOptions().timeZone ?? 'local time');
}

/** An ISO time in the view's zone. */
export function timeText(iso: string): string {
  return formats[mode].format(new Date(iso));
}

/** An ISO time as the value of a `<input type="datetime-local">`, in the view's zone. */
export function isoToInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  const offset = mode === 'utc' ? 0 : d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - offset).toISOString().slice(0, 16);
}

/** The value of a `<input type="datetime-local">` (in the view's zone) as an ISO time in UTC. */
export function inputToIso(value: string): string {
  if (!value) return '';
  return new Date(mode === 'utc' ? `${value}Z` : value).toISOString();
}

/** Re-renders its host when the view's time zone changes. */
export class TimeZoneController implements ReactiveController {
  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    window.addEventListener(CHANGED, this.changed);
  }

  hostDisconnected(): void {
    window.removeEventListener(CHANGED, this.changed);
  }

  private changed = () => this.host.requestUpdate();
}

function readMode(): TimeZoneMode {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) === 'utc' ? 'utc' : 'local';
  } catch {
    return 'local';
  }
}
