-- Lifecycle runs (src/lifecycle/lifecycle-run.ts, docs/lifecycle.md "Runs"): every run, scheduled or
-- asked for, with its progress while it runs and its result after. A run over a large expired period
-- takes minutes, so `POST /v1/lifecycle/run` answers at once and the run is followed here.
-- `heartbeat_at` moves while the run works: a run whose process died stops moving, and reads as
-- interrupted (the next run finishes its work).
create table lifecycle_runs (
  id            uuid primary key,
  tenant_id     text,                 -- null: every tenant
  trigger       text not null check (trigger in ('schedule', 'api', 'cli')),
  requested_by  text,                 -- the API key's id, for runs asked for through the API
  status        text not null check (status in ('running', 'succeeded', 'failed')),
  started_at    timestamptz not null default now(),
  heartbeat_at  timestamptz not null default now(),
  finished_at   timestamptz,
  progress      jsonb,
  result        jsonb
);
create index lifecycle_runs_by_start on lifecycle_runs (started_at desc);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert, update (status, heartbeat_at, finished_at, progress, result) on lifecycle_runs to trailproof_app;
  end if;
end $$;
