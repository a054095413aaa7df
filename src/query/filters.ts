/**
 * The filters of `GET /v1/events` (and every later reader of events: exports, streams, the console):
 * parsed from query parameters, validated, each error pointing at its parameter.
 */
import net from 'node:net';
import { TrailproofError, type ErrorDetail } from '../errors.ts';
import { isStorableInstant, parseRfc3339 } from '../event/timestamp.ts';

export interface EventFilter {
  actor?: string;
  /** Exact action, or a prefix when given as `user.*` (stored without the `.*`, with `actionPrefix`). */
  action?: string;
  actionPrefix?: boolean;
  /**
   * Several action patterns, any of which the action must match: `action` given more than once (or
   * comma-separated), or a suffix pattern (`*.updated`). One exact or prefix pattern is `action`.
   */
  actionsAny?: ActionPattern[];
  /** `exclude_action`: patterns the action must match none of. */
  excludeActions?: ActionPattern[];
  /** `kind`: `access` is the reads and exports of the trail (`audit_log.*`), `activity` everything else. */
  kind?: 'access' | 'activity';
  /** `has_changes`: whether the event records field changes. */
  hasChanges?: boolean;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  /** An address, or a CIDR range (`10.0.0.0/8`). */
  ip?: string;
  since?: string;
  until?: string;
  /** `since`/`until` as given when relative to the request (`-1h`); `since`/`until` hold them resolved. */
  relative?: { since?: string; until?: string };
  q?: string;
  /** Set from a viewer token, never from parameters: the event's action must match one of these. */
  narrowActions?: { action: string; prefix: boolean }[];
  /** Set from a viewer token: the event must name one of these targets. */
  narrowTargets?: { type: string; id: string }[];
  /**
   * Set by the server, never from parameters: the keyed-hash forms of `actor`, `targetId` and `q`
   * under the tenant's redaction rules (src/redaction/), matched as well as the values themselves.
   */
  hashed?: { actor?: string; targetId?: string; q?: string };
}

/** An action pattern: `user.login` (exact), `user.*` (prefix), `*.updated` (suffix). */
export interface ActionPattern {
  value: string;
  match: 'exact' | 'prefix' | 'suffix';
}

/** The actions of the access log: reads and exports of the trail (service records, docs/events.md). */
export const ACCESS_NAMESPACE = 'audit_log';

export interface EventQuery {
  filter: EventFilter;
  sort: 'asc' | 'desc';
  limit: number;
  cursor?: string;
  tenant?: string;
}

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

const ACTION_PATTERN = /^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$|^\*(\.[a-z0-9_]+)+$/;
/** `-30s`, `-15m`, `-1h`, `-7d`, `-2w`: that long before the request. */
const RELATIVE_TIME = /^-(\d{1,6})([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_ACTION_PATTERNS = 20;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Parses `GET /v1/events`-style parameters. Unknown parameters are rejected, to catch typos. */
export function parseEventQuery(params: Record<string, unknown>, extraAllowed: readonly string[] = []): EventQuery {
  const errors: ErrorDetail[] = [];
  const str = (name: string, max = 256): string | undefined => {
    const value = params[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') {
      errors.push({ pointer: `/${name}`, code: 'invalid_type', message: `${name} must be given once` });
      return undefined;
    }
    if (value.length > max) errors.push({ pointer: `/${name}`, code: 'too_long', message: `${name} is longer than ${max} characters` });
    else if (CONTROL.test(value)) errors.push({ pointer: `/${name}`, code: 'control_character', message: `${name} contains a control character` });
    return value;
  };
  const allowed = new Set([
    'actor',
    'action',
    'target_type',
    'target_id',
    'outcome',
    'ip',
    'since',
    'until',
    'exclude_action',
    'kind',
    'has_changes',
    'q',
    'sort',
    'limit',
    'cursor',
    'tenant',
    ...extraAllowed,
  ]);
  for (const name of Object.keys(params)) {
    if (!allowed.has(name)) errors.push({ pointer: `/${name}`, code: 'unknown_field', message: `unknown parameter "${name}"` });
  }

  const filter: EventFilter = {};
  const set = <K extends keyof EventFilter>(key: K, value: EventFilter[K] | undefined) => {
    if (value !== undefined) filter[key] = value;
  };
  set('actor', str('actor'));
  const list = (name: string): string[] => {
    const value = params[name];
    const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined && v !== '');
    if (values.some((v) => typeof v !== 'string')) {
      errors.push({ pointer: `/${name}`, code: 'invalid_type', message: `${name} must be text` });
      return [];
    }
    const items = (values as string[])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (items.length > MAX_ACTION_PATTERNS) {
      errors.push({ pointer: `/${name}`, code: 'too_many_items', message: `${name} takes at most ${MAX_ACTION_PATTERNS} patterns` });
      return [];
    }
    return items;
  };
  const patterns = (name: string): ActionPattern[] => {
    const out: ActionPattern[] = [];
    for (const item of list(name)) {
      if (item === '*') continue; // every action
      if (item.length > 130 || !ACTION_PATTERN.test(item)) {
        errors.push({ pointer: `/${name}`, code: 'pattern', message: `${name} must be action names or patterns (user.login, user.*, *.updated)` });
        return [];
      }
      out.push(actionPattern(item));
    }
    return out;
  };
  const actions = patterns('action');
  if (actions.length === 1 && actions[0]!.match !== 'suffix') {
    filter.action = actions[0]!.value;
    if (actions[0]!.match === 'prefix') filter.actionPrefix = true;
  } else if (actions.length > 0) filter.actionsAny = actions;
  const excluded = patterns('exclude_action');
  if (excluded.length > 0) filter.excludeActions = excluded;
  const kind = str('kind');
  if (kind !== undefined) {
    if (kind === 'access' || kind === 'activity') filter.kind = kind;
    else errors.push({ pointer: '/kind', code: 'invalid_enum', message: 'kind must be access or activity' });
  }
  const hasChanges = str('has_changes');
  if (hasChanges !== undefined) {
    if (hasChanges === 'true' || hasChanges === 'false') filter.hasChanges = hasChanges === 'true';
    else errors.push({ pointer: '/has_changes', code: 'invalid_enum', message: 'has_changes must be true or false' });
  }
  set('targetType', str('target_type', 64));
  set('targetId', str('target_id'));
  const outcome = str('outcome');
  if (outcome !== undefined) {
    if (outcome === 'success' || outcome === 'failure') filter.outcome = outcome;
    else errors.push({ pointer: '/outcome', code: 'invalid_enum', message: 'outcome must be success or failure' });
  }
  const ip = str('ip', 64);
  if (ip !== undefined) {
    if (isIpOrCidr(ip)) filter.ip = ip;
    else errors.push({ pointer: '/ip', code: 'invalid_ip', message: 'ip must be an IPv4/IPv6 address or CIDR range' });
  }
  const now = Date.now();
  for (const name of ['since', 'until'] as const) {
    const value = str(name, 64);
    if (value === undefined) continue;
    const relative = RELATIVE_TIME.exec(value);
    const ms = relative ? now - Number(relative[1]) * UNIT_MS[relative[2]!]! : parseRfc3339(value);
    if (ms === undefined || !isStorableInstant(ms))
      errors.push({
        pointer: `/${name}`,
        code: 'invalid_timestamp',
        message: `${name} must be an RFC 3339 timestamp with an offset (2026-01-31T00:00:00Z) in years 0001 to 9999, or a time before now (-1h, -7d)`,
      });
    else {
      filter[name] = new Date(ms).toISOString();
      if (relative) filter.relative = { ...filter.relative, [name]: value };
    }
  }
  if (filter.since && filter.until && filter.since > filter.until) {
    errors.push({ pointer: '/until', code: 'invalid_range', message: 'until must not be before since' });
  }
  set('q', str('q', 512));

  const sort = str('sort') ?? 'desc';
  if (sort !== 'asc' && sort !== 'desc') errors.push({ pointer: '/sort', code: 'invalid_enum', message: 'sort must be asc or desc' });
  const limitRaw = str('limit');
  let limit = DEFAULT_PAGE;
  if (limitRaw !== undefined) {
    limit = /^\d+$/.test(limitRaw) ? Number(limitRaw) : NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE))
      errors.push({ pointer: '/limit', code: 'out_of_range', message: `limit must be a whole number from 1 to ${MAX_PAGE}` });
  }
  const cursor = str('cursor', 1024);
  const tenant = str('tenant', 63);

  if (errors.length > 0) throw new TrailproofError('QUERY_INVALID', errors.map((e) => e.message).join('; '), { details: errors });
  return { filter, sort: sort as 'asc' | 'desc', limit, ...(cursor ? { cursor } : {}), ...(tenant ? { tenant } : {}) };
}

function actionPattern(item: string): ActionPattern {
  if (item.endsWith('.*')) return { value: item.slice(0, -2), match: 'prefix' };
  if (item.startsWith('*.')) return { value: item.slice(2), match: 'suffix' };
  return { value: item, match: 'exact' };
}

/** Whether `action` matches `pattern` (the SQL conditions' rule, for readers that filter in memory). */
export function matchesAction(pattern: ActionPattern, action: string): boolean {
  if (pattern.match === 'exact') return action === pattern.value;
  if (pattern.match === 'prefix') return action.startsWith(`${pattern.value}.`);
  return action.endsWith(`.${pattern.value}`);
}

function isIpOrCidr(value: string): boolean {
  const [addr, bits, ...rest] = value.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = net.isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
