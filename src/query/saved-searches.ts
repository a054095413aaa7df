/**
 * Saved searches: named filters shared within a tenant (migration 0091). A filter is kept in the
 * spelling of `GET /v1/events` parameters and validated as they are (filters.ts), so it opens in the
 * console (`url`) exactly as saved, and it selects events wherever it is used: as the filter of a
 * stream (src/stream/) or an alert rule (src/alert/), applied in SQL (`savedSearchCondition`).
 * A saved search in use by either cannot be deleted.
 */
import { randomBytes } from 'node:crypto';
import type { AccessRecord, MetaAudit, RequestContext } from '../audit/meta-audit.ts';
import { type ErrorDetail, fieldInvalid, nameTaken, TrailproofError } from '../errors.ts';
import { type Sql, uniqueOr } from '../store/db.ts';
import { type TenantTable, tenantRow, tenantRows } from '../store/tenant-rows.ts';
import { conditions, type Fragment } from './event-repository.ts';
import { parseEventQuery, type EventFilter } from './filters.ts';

/** The parameters a saved filter may hold: those of `GET /v1/events` that select events. */
const FILTER_FIELDS = ['actor', 'action', 'target_type', 'target_id', 'outcome', 'ip', 'since', 'until', 'q'] as const;
export type SavedFilter = Partial<Record<(typeof FILTER_FIELDS)[number], string>>;

const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._:()/-]{0,99}$/u;
const SAVED_SEARCHES: TenantTable = { table: 'saved_searches', noun: 'saved search', idPattern: /^ss_[A-Za-z0-9_-]{12}$/ };

export interface SavedSearchRow {
  id: string;
  tenant_id: string;
  name: string;
  filter: SavedFilter;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

export interface SavedSearchView {
  id: string;
  tenant: string;
  name: string;
  filter: SavedFilter;
  /** The console's events view with this filter applied (relative to the server's base URL). */
  url: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface Changer {
  principal: AccessRecord['principal'];
  context?: RequestContext;
}

export class SavedSearches {
  constructor(private readonly deps: { sql: Sql; audit: MetaAudit }) {}

  async create(tenant: string, input: { name: unknown; filter: unknown }, by: Changer): Promise<SavedSearchView> {
    const name = checkName(input.name);
    const filter = checkSavedFilter(input.filter, '/filter');
    const id = `ss_${randomBytes(9).toString('base64url')}`;
    const createdBy = 'actor' in by.principal ? by.principal.actor.id : by.principal.keyId;
    const [row] = await this.exclusive(
      name,
      () =>
        this.deps.sql<SavedSearchRow[]>`
        insert into saved_searches (id, tenant_id, name, filter, created_by)
        values (${id}, ${tenant}, ${name}, ${this.deps.sql.json(filter as never)}, ${createdBy})
        returning *`,
    );
    await this.record(row!, 'saved_search.created', by);
    return view(row!);
  }

  async list(tenant: string): Promise<SavedSearchView[]> {
    return (await tenantRows<SavedSearchRow>(this.deps.sql, SAVED_SEARCHES, tenant)).map(view);
  }

  /** The saved search, if it exists and `tenant` (a bound key's tenant, null for unbound) may see it. */
  get(id: string, tenant: string | null): Promise<SavedSearchRow> {
    return tenantRow<SavedSearchRow>(this.deps.sql, SAVED_SEARCHES, id, tenant);
  }

  async update(row: SavedSearchRow, input: { name?: unknown; filter?: unknown }, by: Changer): Promise<SavedSearchView> {
    const name = input.name === undefined ? row.name : checkName(input.name);
    const filter = input.filter === undefined ? row.filter : checkSavedFilter(input.filter, '/filter');
    const [updated] = await this.exclusive(
      name,
      () =>
        this.deps.sql<SavedSearchRow[]>`
        update saved_searches set name = ${name}, filter = ${this.deps.sql.json(filter as never)}, updated_at = now()
        where id = ${row.id} returning *`,
    );
    if (!updated) throw new TrailproofError('NOT_FOUND', `no saved search "${row.id}"`);
    await this.record(updated, 'saved_search.updated', by);
    return view(updated);
  }

  async delete(row: SavedSearchRow, by: Changer): Promise<void> {
    const users = await savedSearchUsers(this.deps.sql, row.id);
    if (users.length > 0)
      throw new TrailproofError('SAVED_SEARCH_IN_USE', `saved search "${row.name}" is the filter of ${users.join(', ')}; change those first`);
    await this.deps.sql`delete from saved_searches where id = ${row.id}`;
    await this.record(row, 'saved_search.deleted', by);
  }

  private exclusive<T>(name: string, write: () => Promise<T>): Promise<T> {
    return uniqueOr(write, () => nameTaken('SAVED_SEARCH_EXISTS', `the tenant already has a saved search named "${name}"`));
  }

  private async record(row: SavedSearchRow, action: string, by: Changer): Promise<void> {
    await this.deps.audit.record({
      tenant: row.tenant_id,
      principal: by.principal,
      action,
      targets: [{ type: 'saved_search', id: row.id, name: row.name }],
      metadata: { filter: JSON.stringify(row.filter) },
      ...(by.context ? { context: by.context } : {}),
    });
  }
}

/** Validates a saved filter as `GET /v1/events` parameters; errors point under `pointer`. */
export function checkSavedFilter(filter: unknown, pointer: string): SavedFilter {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter))
    throw fieldInvalid(`${pointer}`, 'invalid_type', 'filter must be an object of event filters');
  const out: SavedFilter = {};
  const errors: ErrorDetail[] = [];
  for (const [k, v] of Object.entries(filter)) {
    if (!(FILTER_FIELDS as readonly string[]).includes(k))
      errors.push({ pointer: `${pointer}/${k}`, code: 'unknown_field', message: `a saved filter takes ${FILTER_FIELDS.join(', ')}` });
    else if (typeof v !== 'string') errors.push({ pointer: `${pointer}/${k}`, code: 'invalid_type', message: `${k} must be a string` });
    else if (v !== '') out[k as keyof SavedFilter] = v;
  }
  if (errors.length > 0) throw new TrailproofError('REQUEST_INVALID', errors.map((e) => e.message).join('; '), { details: errors });
  try {
    parseEventQuery(out);
  } catch (err) {
    if (!(err instanceof TrailproofError) || !err.details) throw err;
    const details = err.details.map((d) => ({ ...d, pointer: `${pointer}${d.pointer}` }));
    throw new TrailproofError('REQUEST_INVALID', err.message, { details });
  }
  return out;
}

/** The event filter a saved filter stands for. */
export function eventFilterOf(filter: SavedFilter): EventFilter {
  return parseEventQuery(filter).filter;
}

/** The tenant's saved filter of `id`, as an event filter; NOT_FOUND for a missing or other tenant's one. */
export async function loadSavedFilter(sql: Sql, tenant: string, id: string): Promise<EventFilter> {
  const [row] = await sql<{ filter: SavedFilter }[]>`select filter from saved_searches where id = ${id} and tenant_id = ${tenant}`;
  if (!row) throw new TrailproofError('NOT_FOUND', `no saved search "${id}"`);
  return eventFilterOf(row.filter);
}

/** Whether the tenant has a saved search `id` (for references to one, checked where they are made). */
export async function savedSearchExists(sql: Sql, tenant: string, id: string): Promise<boolean> {
  const [row] = await sql`select 1 from saved_searches where id = ${id} and tenant_id = ${tenant}`;
  return row !== undefined;
}

/** SQL over `e` (events) selecting what the filter selects, targets included. */
export function savedSearchCondition(sql: Sql, filter: EventFilter): Fragment {
  const conds = conditions(sql, filter);
  if (filter.targetType !== undefined || filter.targetId !== undefined) {
    const type = filter.targetType === undefined ? sql`` : sql`and x.target_type = ${filter.targetType}`;
    const id = filter.targetId === undefined ? sql`` : sql`and x.target_id = ${filter.targetId}`;
    conds.push(sql`exists (select from event_targets x where x.tenant_id = e.tenant_id and x.occurred_at = e.occurred_at and x.seq = e.seq ${type} ${id})`);
  }
  return conds.reduce((all, c) => sql`${all} and ${c}`, sql`true`);
}

/** What uses the saved search as its filter: streams, alert rules. */
async function savedSearchUsers(sql: Sql, id: string): Promise<string[]> {
  const rows = await sql<{ what: string }[]>`
    select 'stream "' || name || '"' as what from stream_destinations where filter->>'saved_search' = ${id}
    union all
    select 'alert rule "' || name || '"' from alert_rules where saved_search = ${id}`;
  return rows.map((r) => r.what);
}

export function view(row: SavedSearchRow): SavedSearchView {
  const params = new URLSearchParams({ tenant: row.tenant_id });
  for (const [k, v] of Object.entries(row.filter)) if (k !== 'since' && k !== 'until') params.set(k, v);
  if (row.filter.since !== undefined || row.filter.until !== undefined) {
    params.set('range', 'custom');
    params.set('since', row.filter.since ?? '1970-01-01T00:00:00Z');
    params.set('until', row.filter.until ?? '9999-12-31T00:00:00Z');
  }
  return {
    id: row.id,
    tenant: row.tenant_id,
    name: row.name,
    filter: row.filter,
    url: `/?${params.toString()}`,
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    throw fieldInvalid('/name', 'pattern', 'name: 1–100 letters, digits, spaces and . _ : ( ) / -, starting with a letter or digit');
  return name;
}
