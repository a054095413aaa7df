/**
 * What `trailproof capture install` creates in the application's database (docs/capture.md): the
 * `trailproof_capture` schema with the outbox, the list of captured tables, and the trigger function
 * that records each row change into the outbox inside the application's own transaction.
 *
 * Triggers rather than logical decoding: the record commits or rolls back with the change itself,
 * install needs no superuser, replication slot or `wal_level = logical` (which managed PostgreSQL
 * services restrict), and the actor context set by the application (`trailproof.context`) is
 * readable by the trigger, in the same transaction; a decoding plugin never sees it.
 */

/** The schema everything lives in; the relay and `status` find an installation by it. */
export const CAPTURE_SCHEMA = 'trailproof_capture';

/** Version of the objects below; `install` replaces older ones. */
export const CAPTURE_SCHEMA_VERSION = 1;

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

-- Arguments: tenant column, key columns (text[] literal), excluded columns (text[] literal), max value bytes.
create or replace function ${CAPTURE_SCHEMA}.record_change() returns trigger
language plpgsql as $$
declare
  tenant_column text := tg_argv[0];
  key_columns text[] := tg_argv[1]::text[];
  excluded text[] := tg_argv[2]::text[];
  max_bytes int := tg_argv[3]::int;
  old_row jsonb;
  new_row jsonb;
  before_values jsonb;
  after_values jsonb;
begin
  if tg_op <> 'INSERT' then old_row := to_jsonb(old); end if;
  if tg_op <> 'DELETE' then new_row := to_jsonb(new); end if;
  if tg_op = 'UPDATE' then
    select jsonb_object_agg(key, ${CAPTURE_SCHEMA}.clip(o.value, max_bytes)), jsonb_object_agg(key, ${CAPTURE_SCHEMA}.clip(n.value, max_bytes))
      into before_values, after_values
      from jsonb_each(new_row - excluded) n join jsonb_each(old_row) o using (key)
      where n.value is distinct from o.value;
    -- An update that changes no captured value leaves no record.
    if before_values is null then return null; end if;
  elsif tg_op = 'INSERT' then
    select jsonb_object_agg(key, ${CAPTURE_SCHEMA}.clip(value, max_bytes)) into after_values from jsonb_each(new_row - excluded);
  else
    select jsonb_object_agg(key, ${CAPTURE_SCHEMA}.clip(value, max_bytes)) into before_values from jsonb_each(old_row - excluded);
  end if;
  insert into ${CAPTURE_SCHEMA}.outbox (schema_name, table_name, op, tenant, row_key, before, after, context)
  values (tg_table_schema, tg_table_name, lower(tg_op), coalesce(new_row, old_row) ->> tenant_column,
    (select jsonb_object_agg(k, coalesce(old_row, new_row) -> k) from unnest(key_columns) k),
    before_values, after_values, nullif(current_setting('trailproof.context', true), ''));
  return null;
end
$$;

grant usage on schema ${CAPTURE_SCHEMA} to public;
grant insert on ${CAPTURE_SCHEMA}.outbox to public;
`;
