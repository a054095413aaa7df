-- Append-only in the database itself (DESIGN.md "In the database"): triggers refuse UPDATE, DELETE
-- and TRUNCATE on the ledger and event tables, whoever asks; and the service works as the role
-- trailproof_app, which is not even granted those privileges. Only a superuser who disables
-- triggers can change history, and the ledger makes that detectable.

create function trailproof_refuse_change() returns trigger
language plpgsql as $$
begin
  raise exception 'trailproof: % on % refused: the audit trail is append-only', tg_op, tg_table_name
    using errcode = 'insufficient_privilege';
end $$;

-- A head only moves forward: same tenant, never a smaller tree.
create function trailproof_head_forward() returns trigger
language plpgsql as $$
begin
  if new.tenant_id <> old.tenant_id or new.size < old.size then
    raise exception 'trailproof: ledger head of % may only grow (% -> %)', old.tenant_id, old.size, new.size
      using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;

do $$
declare t text;
begin
  foreach t in array array['events', 'event_targets', 'ledger_leaves', 'ledger_nodes'] loop
    execute format('create trigger %I before update or delete on %I for each row execute function trailproof_refuse_change()', t || '_append_only', t);
    -- Statement level too, so a statement that matches no row (or targets no partition) is refused.
    execute format('create trigger %I before update or delete or truncate on %I for each statement execute function trailproof_refuse_change()', t || '_no_truncate', t);
  end loop;
end $$;
create trigger ledger_heads_forward before update on ledger_heads for each row execute function trailproof_head_forward();
create trigger ledger_heads_no_delete before delete on ledger_heads for each row execute function trailproof_refuse_change();
create trigger ledger_heads_no_truncate before truncate on ledger_heads for each statement execute function trailproof_refuse_change();

-- The service's role. Creating it needs CREATEROLE; without it the service runs as the connecting
-- user and relies on the triggers alone (logged at start).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    create role trailproof_app nologin;
  end if;
  execute format('grant trailproof_app to %I', current_user);
exception when insufficient_privilege then
  raise notice 'trailproof: cannot create role trailproof_app; the service will run as %', current_user;
end $$;

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant usage on schema public to trailproof_app;
    grant select, insert on tenants, events, event_targets, ledger_leaves, ledger_nodes to trailproof_app;
    grant select, insert, update on ledger_heads to trailproof_app;
    grant select, insert on api_keys to trailproof_app;
    grant update (revoked_at, last_used_at) on api_keys to trailproof_app;
    grant select on schema_migrations to trailproof_app;
  end if;
end $$;

-- Partitions are created by the owner of the partitioned tables, on the service's behalf.
alter function ensure_event_partitions(timestamptz[]) security definer set search_path = public;
grant execute on function ensure_event_partitions(timestamptz[]) to public;
