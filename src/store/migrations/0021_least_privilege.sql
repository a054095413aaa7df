-- Least privilege for the service role (docs/security.md has the resulting table). The service may
-- do exactly what its operations need; what it must never do is refused by triggers as well, so
-- that the owner is held to it too unless it disables them.

-- A key is revoked once: revoked_at goes from null to a time and never changes again.
create function trailproof_revoke_once() returns trigger
language plpgsql as $$
begin
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception 'trailproof: key % was revoked at %; a revocation cannot be changed or undone', old.id, old.revoked_at
      using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
create trigger api_keys_revoke_once before update on api_keys for each row execute function trailproof_revoke_once();

-- A self-audit run's verdict is written once, when the run ends; runs are never removed.
create function trailproof_verdict_once() returns trigger
language plpgsql as $$
begin
  if old.finished_at is not null or old.ok is not null or new.id <> old.id or new.started_at <> old.started_at then
    raise exception 'trailproof: self-audit run % already has its verdict; verdicts are append-only', old.id
      using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
create trigger ledger_audit_runs_verdict_once before update on ledger_audit_runs for each row execute function trailproof_verdict_once();
create trigger ledger_audit_runs_append_only before delete on ledger_audit_runs for each row execute function trailproof_refuse_change();
create trigger ledger_audit_runs_no_truncate before delete or truncate on ledger_audit_runs for each statement execute function trailproof_refuse_change();

-- Records of reads wait in read_records until they are in their tenant's ledger: they are never
-- changed, and a row leaves only once the ledger holds it (under `read-record:<id>`, see
-- src/audit/read-records.ts), so no record of a read is dropped unstored. Locking rows FOR UPDATE
-- fires no UPDATE trigger.
create function trailproof_read_record_moved() returns trigger
language plpgsql as $$
begin
  if not exists (select 1 from ledger_leaves where tenant_id = old.tenant_id and client_id = 'read-record:' || old.id) then
    raise exception 'trailproof: record of a read % is not in the ledger of % yet; it cannot be deleted', old.id, old.tenant_id
      using errcode = 'insufficient_privilege';
  end if;
  return old;
end $$;
create trigger read_records_moved_only before delete on read_records for each row execute function trailproof_read_record_moved();
create trigger read_records_append_only before update on read_records for each row execute function trailproof_refuse_change();
create trigger read_records_no_truncate before truncate on read_records for each statement execute function trailproof_refuse_change();

-- Only the service creates partitions, through ensure_event_partitions (security definer).
revoke execute on function ensure_event_partitions(timestamptz[]) from public;
revoke execute on function trailproof_guard_partition(regclass) from public;

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant execute on function ensure_event_partitions(timestamptz[]) to trailproof_app;
    -- The append moves the head: size, root, frontier and time; never its tenant.
    revoke update on ledger_heads from trailproof_app;
    grant update (size, root, frontier, updated_at) on ledger_heads to trailproof_app;
    -- Revocation is the only change to a key; nothing records a key's last use.
    revoke update on api_keys from trailproof_app;
    grant update (revoked_at) on api_keys to trailproof_app;
    -- A run is inserted when it starts and given its verdict when it ends.
    revoke update on ledger_audit_runs from trailproof_app;
    grant update (finished_at, ok, report) on ledger_audit_runs to trailproof_app;
  end if;
end $$;
