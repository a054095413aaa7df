-- Signed checkpoints (C2SP tlog-checkpoint as a signed note), the witness cosignatures collected
-- for them, and the results of the ledger self-audit. Checkpoints and cosignatures are append-only
-- like the rest of the trail: every checkpoint ever issued is kept.

create table ledger_checkpoints (
  id          bigserial primary key,
  tenant_id   text not null references tenants(id),
  size        bigint not null,
  root        bytea not null,
  -- The full signed note, byte for byte as served and exported.
  note        text not null,
  -- Verifier key name and key id (hex, 4 bytes) of the signature the service made.
  key_name    text not null,
  key_id      text not null,
  issued_at   timestamptz not null default now()
);
create index ledger_checkpoints_tenant_size on ledger_checkpoints (tenant_id, size desc, id desc);

create table ledger_cosignatures (
  checkpoint_id  bigint not null references ledger_checkpoints(id),
  -- Witness name as in its verifier key; the cosignature line exactly as returned.
  witness        text not null,
  signature      text not null,
  received_at    timestamptz not null default now(),
  primary key (checkpoint_id, witness)
);

-- One row per self-audit run (background job or `trailproof ledger audit`). Ordinary table: the
-- service writes the result when a run ends.
create table ledger_audit_runs (
  id           bigserial primary key,
  started_at   timestamptz not null,
  finished_at  timestamptz,
  ok           boolean,
  -- Per tenant: checked size, and the first problem found ({index, kind, detail}) if any.
  report       jsonb not null default '{}'
);

do $$
declare t text;
begin
  foreach t in array array['ledger_checkpoints', 'ledger_cosignatures'] loop
    execute format('create trigger %I before update or delete on %I for each row execute function trailproof_refuse_change()', t || '_append_only', t);
    execute format('create trigger %I before update or delete or truncate on %I for each statement execute function trailproof_refuse_change()', t || '_no_truncate', t);
  end loop;
end $$;

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert on ledger_checkpoints, ledger_cosignatures to trailproof_app;
    grant select, insert, update on ledger_audit_runs to trailproof_app;
    grant usage on sequence ledger_checkpoints_id_seq, ledger_audit_runs_id_seq to trailproof_app;
  end if;
end $$;
