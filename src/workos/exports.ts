/**
 * Exports of the WorkOS-compatible API: `createExport` stores its filter (as `GET /v1/events`
 * parameters), `getExport` hands out a download link valid for LINK_MS whose token is a random
 * secret kept only as a hash, and the link streams the matching events as CSV.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TrailproofError, type ErrorDetail } from '../errors.ts';
import { uuidv7 } from '../ingest/uid.ts';
import { parseEventQuery, type EventQuery } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';

/** How long a download link works: WorkOS's export URLs expire after 10 minutes too. */
export const LINK_MS = 10 * 60 * 1000;

export interface WorkosExport {
  id: string;
  tenant: string;
  filter: Record<string, string | string[]>;
  created_at: string;
}

/** The request fields of `createExport` and the `GET /v1/events` parameter each becomes. */
const FIELD_OF_PARAM: Record<string, string> = {
  since: '/range_start',
  until: '/range_end',
  action: '/actions',
  actor: '/actor_ids',
  target_type: '/targets',
};

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/**
 * The filter of a `createExport` body: `range_start` ≤ `occurred_at` < `range_end`, `actions` (any
 * of), one `actor_ids` entry, one `targets` entry (a target type). `actor_names` and more than one
 * actor or target type have no Trailproof filter, so they are refused rather than ignored.
 */
export function exportFilter(body: Record<string, unknown>): { filter: Record<string, string | string[]>; query: EventQuery } {
  const errors: ErrorDetail[] = [];
  const filter: Record<string, string | string[]> = {};
  for (const [field, param] of [
    ['range_start', 'since'],
    ['range_end', 'until'],
  ] as const) {
    if (typeof body[field] !== 'string') errors.push({ pointer: `/${field}`, code: 'required', message: `${field} is required (an RFC 3339 date-time)` });
    else filter[param] = body[field] as string;
  }
  const list = (field: string, param: string, max: number) => {
    const value = body[field];
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return;
    if (!isStrings(value)) errors.push({ pointer: `/${field}`, code: 'invalid_type', message: `${field} must be an array of strings` });
    else if (value.length > max) errors.push({ pointer: `/${field}`, code: 'too_many_items', message: `Trailproof filters by at most ${max} of ${field}` });
    else filter[param] = max === 1 ? value[0]! : value;
  };
  list('actions', 'action', 20);
  list('actor_ids', 'actor', 1);
  list('targets', 'target_type', 1);
  if (body.actor_names !== undefined && body.actor_names !== null && !(Array.isArray(body.actor_names) && body.actor_names.length === 0)) {
    errors.push({ pointer: '/actor_names', code: 'unknown_field', message: 'Trailproof filters by actor id, not name: use actor_ids' });
  }
  if (errors.length > 0) throw new TrailproofError('REQUEST_INVALID', 'the export request is invalid', { details: errors });
  return { filter, query: queryOf(filter) };
}

/** The export's query, oldest first; errors point at the `createExport` fields. */
export function queryOf(filter: Record<string, string | string[]>): EventQuery {
  try {
    return parseEventQuery({ sort: 'asc', ...filter });
  } catch (err) {
    if (!(err instanceof TrailproofError)) throw err;
    const details = (err.details ?? []).map((d) => ({ ...d, pointer: FIELD_OF_PARAM[d.pointer.slice(1)] ?? d.pointer }));
    throw new TrailproofError('REQUEST_INVALID', err.message, { details });
  }
}

export async function createExport(sql: Sql, tenant: string, filter: WorkosExport['filter'], createdBy: string): Promise<WorkosExport> {
  const id = `audit_log_export_${uuidv7().replace(/-/g, '')}`;
  const [row] = await sql<{ created_at: Date }[]>`
    insert into workos_exports (id, tenant_id, filter, created_by) values (${id}, ${tenant}, ${sql.json(filter)}, ${createdBy}) returning created_at`;
  return { id, tenant, filter, created_at: row!.created_at.toISOString() };
}

/** The export, if it exists and belongs to `tenant` (any tenant when null: a key bound to none). */
export async function findExport(sql: Sql, id: string, tenant: string | null): Promise<WorkosExport> {
  const [row] = await sql<{ tenant_id: string; filter: WorkosExport['filter']; created_at: Date }[]>`
    select tenant_id, filter, created_at from workos_exports where id = ${id}`;
  if (!row || (tenant !== null && row.tenant_id !== tenant)) throw new TrailproofError('NOT_FOUND', `no export ${id}`);
  return { id, tenant: row.tenant_id, filter: row.filter, created_at: row.created_at.toISOString() };
}

/** A new download token for the export, valid for LINK_MS. */
export async function issueLink(sql: Sql, exportId: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await sql`insert into workos_export_links (token_hash, export_id, expires_at)
            values (${hashOf(token)}, ${exportId}, ${new Date(Date.now() + LINK_MS)})`;
  return token;
}

/** The export a live token opens; NOT_FOUND for an unknown, expired or other export's token. */
export async function exportOfLink(sql: Sql, exportId: string, token: string): Promise<WorkosExport> {
  const [row] = await sql<{ export_id: string }[]>`
    select export_id from workos_export_links where token_hash = ${hashOf(token)} and export_id = ${exportId} and expires_at > now()`;
  if (!row) throw new TrailproofError('NOT_FOUND', 'this download link is unknown or expired: get the export again for a new one');
  return findExport(sql, exportId, null);
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
