/**
 * The filters of `GET /v1/events` (and every later reader of events: exports, streams, the console):
 * parsed from query parameters, validated, each error pointing at its parameter.
 */
import net from 'node:net';
import { TrailproofError, type ErrorDetail } from '../errors.ts';

export interface EventFilter {
  actor?: string;
  /** Exact action, or a prefix when given as `user.*` (stored without the `.*`, with `actionPrefix`). */
  action?: string;
  actionPrefix?: boolean;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  /** An address, or a CIDR range (`10.0.0.0/8`). */
  ip?: string;
  since?: string;
  until?: string;
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

export interface EventQuery {
  filter: EventFilter;
  sort: 'asc' | 'desc';
  limit: number;
  cursor?: string;
  tenant?: string;
}

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const ACTION_FILTER = /^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$|^\*$/;
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
  const action = str('action', 130);
  if (action !== undefined && action !== '*') {
    if (!ACTION_FILTER.test(action))
      errors.push({ pointer: '/action', code: 'pattern', message: 'action must be an action name, or a prefix ending in ".*" (user.*)' });
    else if (action.endsWith('.*')) {
      filter.action = action.slice(0, -2);
      filter.actionPrefix = true;
    } else filter.action = action;
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
  for (const name of ['since', 'until'] as const) {
    const value = str(name, 64);
    if (value === undefined) continue;
    const ms = Date.parse(value);
    if (!RFC3339.test(value) || Number.isNaN(ms))
      errors.push({ pointer: `/${name}`, code: 'invalid_timestamp', message: `${name} must be an RFC 3339 timestamp with an offset (2026-01-31T00:00:00Z)` });
    else filter[name] = new Date(ms).toISOString();
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

function isIpOrCidr(value: string): boolean {
  const [addr, bits, ...rest] = value.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = net.isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
