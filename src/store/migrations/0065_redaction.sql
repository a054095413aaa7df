-- Redaction at the door (src/redaction/, docs/redaction.md) and the per-tenant key it hashes with.
--
-- tenant_keys: one random key per tenant, stored only sealed (AES-256-GCM under the server's
-- secret key, like stream secrets), from which the keyed hashes of redaction and erasure are
-- derived. Written once, never changed.
create table tenant_keys (
  tenant_id   text primary key references tenants(id),
  sealed      bytea not null,
  created_at  timestamptz not null default now()
);
create trigger tenant_keys_append_only before update or delete on tenant_keys for each row execute function trailproof_refuse_change();
create trigger tenant_keys_no_truncate before truncate on tenant_keys for each statement execute function trailproof_refuse_change();

-- A tenant's redaction rules: `defaults` turns the built-in rule set on, `rules` are the tenant's
-- own ({path|key, action}), applied before the defaults. A tenant without a row uses the defaults.
create table redaction_rules (
  tenant_id   text primary key references tenants(id),
  defaults    boolean not null default true,
  rules       jsonb not null default '[]',
  updated_at  timestamptz not null default now()
);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert on tenant_keys to trailproof_app;
    grant select, insert on redaction_rules to trailproof_app;
    grant update (defaults, rules, updated_at) on redaction_rules to trailproof_app;
  end if;
end $$;
