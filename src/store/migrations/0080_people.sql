-- People (src/people/): the users who sign into the console, their roles (global or per tenant),
-- their sessions, and one-time sign-in links for installs with no identity provider yet.
-- Tokens are kept as SHA-256 hashes only: a copy of the database signs nobody in.
create table users (
  id               text primary key,
  email            text not null unique,
  name             text,
  -- The identity provider's issuer and subject (`sub`) once the user signed in with OIDC.
  oidc_issuer      text,
  oidc_subject     text,
  disabled_at      timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  last_sign_in_at  timestamptz,
  unique (oidc_issuer, oidc_subject),
  check (email = lower(email))
);

-- A role granted to a user on one tenant, or on every tenant (tenant_id null). `source` says who
-- keeps the grant: `manual` (the API, the console, the CLI) or `oidc` (the claim mapping, replaced
-- at each sign-in).
create table user_roles (
  user_id     text not null references users(id),
  role        text not null check (role in ('owner', 'admin', 'analyst', 'auditor', 'viewer')),
  tenant_id   text references tenants(id),
  source      text not null check (source in ('manual', 'oidc')),
  granted_at  timestamptz not null default now(),
  granted_by  text not null,
  unique nulls not distinct (user_id, role, tenant_id, source)
);
create index user_roles_tenant on user_roles (tenant_id, user_id);

create table user_sessions (
  id            text primary key,
  token_hash    bytea not null unique,
  user_id       text not null references users(id),
  created_at    timestamptz not null default now(),
  last_seen_at  timestamptz not null default now(),
  -- The absolute timeout: no activity keeps a session past it.
  expires_at    timestamptz not null,
  ended_at      timestamptz,
  ended_reason  text,
  ip            text,
  user_agent    text
);
create index user_sessions_user on user_sessions (user_id) where ended_at is null;

create table sign_in_links (
  token_hash  bytea primary key,
  user_id     text not null references users(id),
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  used_at     timestamptz
);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert on users to trailproof_app;
    grant update (name, oidc_issuer, oidc_subject, disabled_at, updated_at, last_sign_in_at) on users to trailproof_app;
    grant select, insert, delete on user_roles to trailproof_app;
    grant select, insert on user_sessions to trailproof_app;
    grant update (last_seen_at, ended_at, ended_reason) on user_sessions to trailproof_app;
    grant select, insert on sign_in_links to trailproof_app;
    grant update (used_at) on sign_in_links to trailproof_app;
  end if;
end $$;
