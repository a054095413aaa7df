-- Alert rules per tenant, their evaluation state and their firings (src/alert/). The alert follower
-- (a committed-events follower, like the rollups) writes state and firings in the transaction that
-- moves its cursor, so a restart neither loses nor repeats a firing; the notifier then records each
-- firing as `alert.fired` in the tenant's trail and delivers it to the rule's channels.
create table alert_rules (
  id                text primary key,
  tenant_id         text not null references tenants(id),
  name              text not null,
  kind              text not null check (kind in ('threshold', 'first_seen', 'absence')),
  -- The events the rule watches: a saved filter inline (GET /v1/events parameters), or a saved search.
  filter            jsonb not null default '{}',
  saved_search      text references saved_searches(id),
  -- threshold: {count, window_seconds, group_by}; first_seen: {field}; absence: {period_seconds}.
  params            jsonb not null,
  cooldown_seconds  int not null default 0 check (cooldown_seconds >= 0),
  -- [{type: "webhook", url} | {type: "slack", url} | {type: "email", to: [...]}]
  channels          jsonb not null default '[]',
  -- The webhook channel's signing secret, sealed (AES-256-GCM) like a stream's.
  secret            bytea,
  enabled           boolean not null default true,
  -- The built-in rule this one was installed from, if any.
  builtin           text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  unique (tenant_id, name)
);

-- Threshold rules: matching events per group and tumbling window of occurred_at.
create table alert_counts (
  rule_id       text not null references alert_rules(id) on delete cascade,
  group_key     text not null,
  window_start  timestamptz not null,
  events        bigint not null,
  primary key (rule_id, group_key, window_start)
);

-- First-seen rules: the values (address, country, user agent) seen per actor.
create table alert_seen (
  rule_id    text not null references alert_rules(id) on delete cascade,
  group_key  text not null,
  value      text not null,
  primary key (rule_id, group_key, value)
);

-- Absence rules: when a matching event last committed.
create table alert_heartbeats (
  rule_id        text primary key references alert_rules(id) on delete cascade,
  last_match_at  timestamptz not null
);

create table alert_firings (
  id            bigint generated always as identity primary key,
  rule_id       text not null references alert_rules(id) on delete cascade,
  tenant_id     text not null,
  group_key     text not null,
  -- The window (threshold), the value's first event (first seen) or the silence's start (absence):
  -- one firing per rule, group and window.
  window_start  timestamptz not null,
  fired_at      timestamptz not null default now(),
  summary       text not null,
  details       jsonb not null default '{}',
  -- Delivery: recorded in the trail and sent to every channel; retried until then.
  delivered_at  timestamptz,
  attempts      int not null default 0,
  last_error    text,
  next_attempt_at timestamptz not null default now(),
  unique (rule_id, group_key, window_start)
);
create index alert_firings_pending on alert_firings (next_attempt_at) where delivered_at is null;
create index alert_firings_rule on alert_firings (rule_id, group_key, fired_at);
create index alert_firings_tenant on alert_firings (tenant_id, fired_at);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert, delete on alert_rules to trailproof_app;
    grant update (name, filter, saved_search, params, cooldown_seconds, channels, secret, enabled, updated_at) on alert_rules to trailproof_app;
    grant select, insert, delete on alert_counts, alert_seen, alert_heartbeats to trailproof_app;
    grant update (events) on alert_counts to trailproof_app;
    grant update (last_match_at) on alert_heartbeats to trailproof_app;
    grant select, insert on alert_firings to trailproof_app;
    grant update (delivered_at, attempts, last_error, next_attempt_at) on alert_firings to trailproof_app;
  end if;
end $$;
