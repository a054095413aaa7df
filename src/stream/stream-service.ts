/**
 * Managing destinations, for the API and the CLI alike: validation, the encrypted secret, the
 * audit event of every change (`stream.created|updated|deleted|paused|resumed|replayed`, in the
 * destination's tenant), and status. Secrets are write-only: no view carries one, only whether one
 * is set; audit events name the fields that changed, never their values.
 */
import { randomBytes } from 'node:crypto';
import type { AccessRecord, MetaAudit, RequestContext } from '../audit/meta-audit.ts';
import { fieldInvalid, nameTaken, TrailproofError } from '../errors.ts';
import { parseRfc3339 } from '../event/timestamp.ts';
import { EVENT_FORMATS } from '../export/formats.ts';
import { type Sql, uniqueOr } from '../store/db.ts';
import { savedSearchExists } from '../query/saved-searches.ts';
import { DESTINATION_KINDS } from './destinations.ts';
import type { SecretBox } from './secret-box.ts';
import {
  deleteStream,
  firstIndexSince,
  getStream,
  headSize,
  insertStream,
  listStreams,
  receivedAt,
  updateStream,
  type StreamChanges,
  type StreamFilter,
  type StreamRow,
} from './stream-store.ts';
import type { StreamStatus } from './stream-status.ts';

export type { StreamStatus };

/** A destination as the API shows it: never its secret. */
export interface StreamView {
  id: string;
  tenant: string;
  name: string;
  kind: string;
  format: string;
  filter: StreamFilter;
  config: Record<string, unknown>;
  has_secret: boolean;
  status: 'active' | 'paused';
  paused_reason: string | null;
  /** Ledger index of the next event to deliver. */
  cursor: number;
  last_success_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  /** Consecutive failed deliveries. */
  attempts: number;
  created_at: string;
  updated_at: string;
}

export interface CreateStreamInput {
  name: string;
  kind: string;
  format?: string;
  filter?: StreamFilter;
  config?: Record<string, unknown>;
  secret?: string;
  /** RFC 3339: deliver from the first event received at or after it; default: only events committed from now on. */
  since?: string;
}

export interface UpdateStreamInput {
  name?: string;
  format?: string;
  filter?: StreamFilter;
  config?: Record<string, unknown>;
  secret?: string;
  status?: 'active' | 'paused';
}

/** Who makes a change, for its audit event. */
export interface Changer {
  principal: AccessRecord['principal'];
  context?: RequestContext;
}

export interface StreamServiceDeps {
  sql: Sql;
  audit: MetaAudit;
  secrets: SecretBox;
  /** Called after a create or resume so a running worker starts delivering at once. */
  onActivated?: () => void;
}

const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._:-]{0,99}$/u;

export class StreamService {
  constructor(private readonly deps: StreamServiceDeps) {}

  async create(tenant: string, input: CreateStreamInput, by: Changer): Promise<StreamView> {
    const kind = DESTINATION_KINDS.get(input.kind);
    if (!kind) throw fieldInvalid('/kind', 'invalid_enum', `kind must be one of ${[...DESTINATION_KINDS.keys()].join(', ')}`);
    checkName(input.name);
    const format = checkFormat(kind.formats, input.format ?? kind.formats[0]!);
    const config = kind.parseConfig(input.config ?? {});
    if (kind.secret?.required && !input.secret)
      throw fieldInvalid('/secret', 'required', `a ${input.kind} destination needs a secret: ${kind.secret.description}`);
    if (!kind.secret && input.secret !== undefined) throw fieldInvalid('/secret', 'unknown_field', `a ${input.kind} destination takes no secret`);
    const filter = await this.checkSavedSearch(tenant, checkFilter(input.filter ?? {}));
    const cursor =
      input.since === undefined ? await headSize(this.deps.sql, tenant) : await firstIndexSince(this.deps.sql, tenant, checkTime(input.since, '/since'));
    const id = `st_${randomBytes(9).toString('base64url')}`;
    const row = await uniqueOr(
      () =>
        insertStream(this.deps.sql, {
          id,
          tenant_id: tenant,
          name: input.name,
          kind: kind.kind,
          format,
          filter,
          config: config as Record<string, unknown>,
          secret: input.secret === undefined ? null : this.deps.secrets.seal(input.secret, id),
          cursor_seq: cursor,
          status: 'active',
        }),
      () => nameTaken('STREAM_EXISTS', `tenant "${tenant}" already has a stream named "${input.name}"`),
    );
    await this.record(row, 'stream.created', by, { kind: row.kind, format: row.format, cursor: row.cursor_seq });
    this.deps.onActivated?.();
    return view(row);
  }

  async list(tenant: string | undefined): Promise<StreamView[]> {
    return (await listStreams(this.deps.sql, tenant)).map(view);
  }

  /** The destination, if it exists and `tenant` (a bound key's tenant) may see it. */
  async get(id: string, tenant: string | null): Promise<StreamRow> {
    const row = await getStream(this.deps.sql, id);
    if (!row || (tenant !== null && row.tenant_id !== tenant)) throw new TrailproofError('NOT_FOUND', `no stream "${id}"`);
    return row;
  }

  async update(row: StreamRow, input: UpdateStreamInput, by: Changer): Promise<StreamView> {
    const kind = DESTINATION_KINDS.get(row.kind)!;
    const changes: StreamChanges = {};
    if (input.name !== undefined) changes.name = checkName(input.name);
    if (input.format !== undefined) changes.format = checkFormat(kind.formats, input.format);
    if (input.filter !== undefined) changes.filter = await this.checkSavedSearch(row.tenant_id, checkFilter(input.filter));
    if (input.config !== undefined) changes.config = kind.parseConfig(input.config) as Record<string, unknown>;
    if (input.secret !== undefined) {
      if (!kind.secret) throw fieldInvalid('/secret', 'unknown_field', `a ${row.kind} destination takes no secret`);
      if (input.secret === '') throw fieldInvalid('/secret', 'required', 'the secret must not be empty');
      changes.secret = this.deps.secrets.seal(input.secret, row.id);
    }
    if (input.status === 'paused') Object.assign(changes, { status: 'paused', paused_reason: 'paused by an operator' });
    if (input.status === 'active') Object.assign(changes, { status: 'active', paused_reason: null, attempts: 0 });
    const updated = await this.apply(row, changes);
    const fields = Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined);
    const action =
      input.status === 'paused' && fields.length === 1
        ? 'stream.paused'
        : input.status === 'active' && fields.length === 1
          ? 'stream.resumed'
          : 'stream.updated';
    await this.record(updated, action, by, { fields });
    if (updated.status === 'active') this.deps.onActivated?.();
    return view(updated);
  }

  async resume(row: StreamRow, by: Changer): Promise<StreamView> {
    const updated = await this.apply(row, { status: 'active', paused_reason: null, attempts: 0 });
    await this.record(updated, 'stream.resumed', by, { cursor: updated.cursor_seq, was: row.status });
    this.deps.onActivated?.();
    return view(updated);
  }

  /** Moves the cursor to the first event received at or after `since`: those events are delivered again. */
  async replay(row: StreamRow, since: string, by: Changer): Promise<StreamView> {
    const cursor = await firstIndexSince(this.deps.sql, row.tenant_id, checkTime(since, '/since'));
    const updated = await this.apply(row, { cursor_seq: cursor });
    await this.record(updated, 'stream.replayed', by, { since, from: row.cursor_seq, to: cursor });
    return view(updated);
  }

  async delete(row: StreamRow, by: Changer): Promise<void> {
    if (!(await deleteStream(this.deps.sql, row.id))) throw new TrailproofError('NOT_FOUND', `no stream "${row.id}"`);
    await this.record(row, 'stream.deleted', by, { kind: row.kind, cursor: row.cursor_seq });
  }

  async status(row: StreamRow): Promise<StreamStatus> {
    const head = await headSize(this.deps.sql, row.tenant_id);
    const oldest = row.cursor_seq < head ? await receivedAt(this.deps.sql, row.tenant_id, row.cursor_seq) : undefined;
    return {
      id: row.id,
      status: row.status,
      paused_reason: row.paused_reason,
      cursor: row.cursor_seq,
      head,
      lag_events: Math.max(0, head - row.cursor_seq),
      lag_seconds: oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0,
      last_success_at: iso(row.last_success_at),
      last_error: row.last_error,
      last_error_at: iso(row.last_error_at),
      attempts: row.attempts,
    };
  }

  /** A filter naming a saved search names one of the stream's own tenant. */
  private async checkSavedSearch(tenant: string, filter: StreamFilter): Promise<StreamFilter> {
    if (filter.saved_search !== undefined && !(await savedSearchExists(this.deps.sql, tenant, filter.saved_search)))
      throw fieldInvalid('/filter/saved_search', 'not_found', `tenant "${tenant}" has no saved search "${filter.saved_search}"`);
    return filter;
  }

  private async apply(row: StreamRow, changes: StreamChanges): Promise<StreamRow> {
    const updated = await uniqueOr(
      () => updateStream(this.deps.sql, row.id, changes),
      () => nameTaken('STREAM_EXISTS', `tenant "${row.tenant_id}" already has a stream named "${changes.name}"`),
    );
    if (!updated) throw new TrailproofError('NOT_FOUND', `no stream "${row.id}"`);
    return updated;
  }

  private async record(row: StreamRow, action: string, by: Changer, metadata: Record<string, unknown>): Promise<void> {
    await this.deps.audit.record({
      tenant: row.tenant_id,
      principal: by.principal,
      action,
      targets: [{ type: 'stream', id: row.id, name: row.name }],
      metadata,
      ...(by.context ? { context: by.context } : {}),
    });
  }
}

export function view(row: StreamRow): StreamView {
  return {
    id: row.id,
    tenant: row.tenant_id,
    name: row.name,
    kind: row.kind,
    format: row.format,
    filter: row.filter,
    config: row.config,
    has_secret: row.secret !== null,
    status: row.status,
    paused_reason: row.paused_reason,
    cursor: row.cursor_seq,
    last_success_at: iso(row.last_success_at),
    last_error: row.last_error,
    last_error_at: iso(row.last_error_at),
    attempts: row.attempts,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function checkName(name: string): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    throw fieldInvalid('/name', 'pattern', 'name: 1–100 letters, digits, spaces, ".", "_", ":", "-", starting with a letter or digit');
  return name;
}

function checkFormat(allowed: readonly string[], format: string): string {
  if (!EVENT_FORMATS.has(format) || !allowed.includes(format))
    throw fieldInvalid('/format', 'invalid_enum', `format must be one of ${allowed.join(', ')} for this kind`);
  return format;
}

function checkFilter(filter: StreamFilter): StreamFilter {
  const out: StreamFilter = {};
  if (filter.actions !== undefined) {
    if (!Array.isArray(filter.actions) || filter.actions.length > 100)
      throw fieldInvalid('/filter/actions', 'invalid_type', 'filter.actions: up to 100 action names or prefixes (`user.*`)');
    filter.actions.forEach((a, i) => {
      if (typeof a !== 'string' || !/^[a-z0-9_.-]{0,127}\*?$/i.test(a) || a === '')
        throw fieldInvalid(`/filter/actions/${i}`, 'pattern', 'an action name (`user.login`) or a prefix ending in `*` (`user.*`)');
    });
    if (filter.actions.length > 0) out.actions = filter.actions;
  }
  if (filter.outcome !== undefined) {
    if (filter.outcome !== 'success' && filter.outcome !== 'failure')
      throw fieldInvalid('/filter/outcome', 'invalid_enum', 'filter.outcome: success or failure');
    out.outcome = filter.outcome;
  }
  if (filter.saved_search !== undefined) {
    if (typeof filter.saved_search !== 'string') throw fieldInvalid('/filter/saved_search', 'invalid_type', 'filter.saved_search: the id of a saved search');
    out.saved_search = filter.saved_search;
  }
  const unknown = Object.keys(filter).find((k) => k !== 'actions' && k !== 'outcome' && k !== 'saved_search');
  if (unknown) throw fieldInvalid(`/filter/${unknown}`, 'unknown_field', 'filter takes actions, outcome and saved_search');
  return out;
}

function checkTime(text: string, pointer: string): Date {
  const ms = typeof text === 'string' ? parseRfc3339(text) : undefined;
  if (ms === undefined) throw fieldInvalid(pointer, 'invalid_timestamp', `${pointer.slice(1)} must be an RFC 3339 date-time`);
  return new Date(ms);
}
