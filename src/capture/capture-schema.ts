/**
 * What `trailproof capture install` creates in the application's database (docs/capture.md): the
 * `trailproof_capture` schema with the outbox and the list of captured tables, and each table's
 * trigger function, which records each row change into the outbox inside the application's own
 * transaction.
 *
 * Triggers rather than logical decoding: the record commits or rolls back with the change itself,
 * install needs no superuser, replication slot or `wal_level = logical` (which managed PostgreSQL
 * services restrict), and the actor context set by the application (`trailproof.context`) is
 * readable by the trigger, in the same transaction; a decoding plugin never sees it.
 */
import { createHash } from 'node:crypto';

/** The schema everything lives in; the relay and `status` find an installation by it. */
export const CAPTURE_SCHEMA = 'trailproof_capture';

/** Version of the objects below; `install` replaces older ones. */
export const CAPTURE_SCHEMA_VERSION = 2;

/** Name of the trigger on each captured table. */
export const CAPTURE_TRIGGER = 'trailproof_capture';

/**
 * Idempotent DDL of the schema, the tables and the functions. The outbox takes inserts from every
 * role (the triggers run as the role making the change) but no reads, updates or deletes: only the
 * installing role (which the relay uses) reads and empties it.
 */
export const CAPTURE_SCHEMA_SQL = `
create schema if not exists ${CAPTURE_SCHEMA};

create table if not exists ${CAPTURE_SCHEMA}.installation (
  id uuid primary key default gen_random_uuid(),
  version int not null,
  installed_at timestamptz not null default now(),
  singleton boolean not null default true unique check (singleton)
);

create table if not exists ${CAPTURE_SCHEMA}.tables (
  schema_name text not null,
  table_name text not null,
  tenant_column text not null,
  key_columns text[] not null,
  excluded_columns text[] not null default '{}',
  max_value_bytes int not null,
  primary key (schema_name, table_name)
);

-- One row per captured change. id is the commit order of the changes of one row: a later change of
-- a row waits for the row lock (or unique index entry) that an earlier, uncommitted one holds, so
-- it draws its id after the earlier one committed.
create table if not exists ${CAPTURE_SCHEMA}.outbox (
  id bigint generated always as identity primary key,
  txid xid8 not null default pg_current_xact_id(),
  captured_at timestamptz not null default clock_timestamp(),
  schema_name text not null,
  table_name text not null,
  op text not null check (op in ('insert', 'update', 'delete')),
  tenant text,
  row_key jsonb not null,
  before jsonb,
  after jsonb,
  context text,
  db_role text not null default current_user,
  parked_at timestamptz,
  park_reason text
);
create index if not exists outbox_parked on ${CAPTURE_SCHEMA}.outbox (tenant) where parked_at is not null;

-- A value longer than max_bytes (as JSON text) leaves the database as its length and SHA-256.
create or replace function ${CAPTURE_SCHEMA}.clip(value jsonb, max_bytes int) returns jsonb
language sql immutable parallel safe as $$
  select case when octet_length(value::text) <= max_bytes then value
    else jsonb_build_object('trailproof_truncated', true, 'bytes', octet_length(value::text),
      'sha256', encode(sha256(convert_to(value::text, 'UTF8')), 'hex')) end
$$;

grant usage on schema ${CAPTURE_SCHEMA} to public;
grant insert on ${CAPTURE_SCHEMA}.outbox to public;
`;

/** What the trigger of one table records; `install` takes it from the options and the catalog. */
export interface TriggerSpec {
  schema: string;
  table: string;
  tenantColumn: string;
  keyColumns: string[];
  excludedColumns: string[];
  /** The table's columns at install time, excluded ones included. */
  columns: string[];
  maxValueBytes: number;
}

/** The name of a table's trigger function: one per table, since its columns are written into it. */
export function triggerFunction(schema: string, table: string): string {
  return `${CAPTURE_SCHEMA}.record_${createHash('sha256')
    .update(JSON.stringify([schema, table]))
    .digest('hex')
    .slice(0, 16)}`;
}

/**
 * The trigger function of one table (docs/capture.md#install). It records what a generic function
 * reading the table's columns at run time would, for less work per change:
 * - the key, tenant and column names are literals, so no statement looks them up per change;
 * - an update finds its changed columns by one comparison per known column, in one expression,
 *   and keeps them with jsonb's `-`; a column added since install falls back to comparing every
 *   value;
 * - values are clipped one by one only when the recorded object's JSON text is over the limit,
 *   which no value of a shorter object can be.
 */
export function triggerFunctionSql(spec: TriggerSpec): string {
  const excluded = new Set(spec.excludedColumns);
  const captured = spec.columns.filter((c) => !excluded.has(c));
  const list = (names: string[]) => `array[${names.map(literal).join(', ')}]::text[]`;
  const minusExcluded = excluded.size > 0 ? ` - ${list(spec.excludedColumns)}` : '';
  const unchanged = captured.map((c) => `case when new_row -> ${literal(c)} = old_row -> ${literal(c)} then ${literal(c)} end`).join(',\n      ');
  const rowKey = `jsonb_build_object(${spec.keyColumns.map((k) => `${literal(k)}, coalesce(old_row, new_row) -> ${literal(k)}`).join(', ')})`;
  const max = String(spec.maxValueBytes);
  const clip = (name: string) => `if octet_length(${name}::text) > ${max} then
    select jsonb_object_agg(key, ${CAPTURE_SCHEMA}.clip(value, ${max})) into ${name} from jsonb_each(${name});
  end if;`;
  const body = `
declare
  old_row jsonb;
  new_row jsonb;
  before_values jsonb;
  after_values jsonb;
  unchanged text[];
begin
  if tg_op <> 'INSERT' then old_row := to_jsonb(old)${minusExcluded}; end if;
  if tg_op <> 'DELETE' then new_row := to_jsonb(new)${minusExcluded}; end if;
  if tg_op = 'UPDATE' then
    unchanged := array_remove(array[
      ${unchanged}], null);
    before_values := old_row - unchanged;
    after_values := new_row - unchanged;
    -- A column added since install is missing from the list above: compare every value instead.
    if after_values - ${list(captured)} <> '{}' then
      select jsonb_object_agg(key, o.value), jsonb_object_agg(key, n.value) into before_values, after_values
        from jsonb_each(new_row) n join jsonb_each(old_row) o using (key)
        where n.value is distinct from o.value;
    end if;
    -- An update that changes no captured value leaves no record.
    if after_values is null or after_values = '{}' then return null; end if;
  elsif tg_op = 'INSERT' then
    after_values := new_row;
  else
    before_values := old_row;
  end if;
  ${clip('before_values')}
  ${clip('after_values')}
  insert into ${CAPTURE_SCHEMA}.outbox (schema_name, table_name, op, tenant, row_key, before, after, context)
  values (tg_table_schema, tg_table_name, lower(tg_op), coalesce(new_row, old_row) ->> ${literal(spec.tenantColumn)}, ${rowKey},
    before_values, after_values, nullif(current_setting('trailproof.context', true), ''));
  return null;
end
`;
  const name = triggerFunction(spec.schema, spec.table);
  return `create or replace function ${name}() returns trigger language plpgsql as ${literal(body)};
comment on function ${name}() is ${literal(`trailproof capture trigger of ${ident(spec.schema)}.${ident(spec.table)}`)};`;
}

/** A double-quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted SQL string literal (standard_conforming_strings, the default since PostgreSQL 9.1). */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
