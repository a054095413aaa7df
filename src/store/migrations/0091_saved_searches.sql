-- Saved searches: named filters shared within a tenant (src/query/saved-searches.ts), usable as the
-- filter of a stream or an alert rule. The filter is kept in the spelling of GET /v1/events'
-- parameters ({"action": "user.*", "outcome": "failure"}), validated as those are.
create table saved_searches (
  id          text primary key,
  tenant_id   text not null references tenants(id),
  name        text not null,
  filter      jsonb not null,
  created_by  text not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  unique (tenant_id, name)
);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert, delete on saved_searches to trailproof_app;
    grant update (name, filter, updated_at) on saved_searches to trailproof_app;
  end if;
end $$;
