-- Streams (push): per-tenant destinations that the delivery worker feeds in commit order from a
-- durable cursor (src/stream/, docs/streams.md). The destination's secret (webhook signing key,
-- HEC token, API key, S3 secret key) is stored only encrypted (AES-256-GCM) with a key that is
-- never in the database (TRAILPROOF_SECRET_KEY or <dataDir>/secret.key).

create table stream_destinations (
  id               text primary key,
  tenant_id        text not null references tenants(id),
  name             text not null,
  kind             text not null check (kind in ('webhook', 'splunk_hec', 'syslog', 's3', 'datadog')),
  format           text not null,
  -- {actions?: ["user.", "document.read"], outcome?: "success" | "failure"}
  filter           jsonb not null default '{}',
  -- Non-secret settings of the kind: url, host, port, tls, ca, bucket, region, prefix, …
  config           jsonb not null default '{}',
  -- AES-256-GCM: 12-byte nonce || ciphertext || 16-byte tag; null when the kind needs no secret.
  secret           bytea,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  -- Delivery state. cursor_seq = the ledger index of the next event to deliver (commit order).
  cursor_seq       bigint not null default 0 check (cursor_seq >= 0),
  status           text not null default 'active' check (status in ('active', 'paused')),
  paused_reason    text,
  last_success_at  timestamptz,
  last_error       text,
  last_error_at    timestamptz,
  -- Consecutive failed deliveries; reset by a success or a resume.
  attempts         int not null default 0,
  -- Which process delivers this destination, until when (a lease renewed while delivering), so
  -- several server processes never deliver one destination at once.
  lease_owner      text,
  lease_until      timestamptz,
  unique (tenant_id, name)
);
create index stream_destinations_active on stream_destinations (status, lease_until);

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant select, insert, delete on stream_destinations to trailproof_app;
    -- Identity (id, tenant, kind) never changes once created: not even the service may move a
    -- destination to another tenant or turn a webhook into something else.
    grant update (name, format, filter, config, secret, updated_at,
                  cursor_seq, status, paused_reason, last_success_at, last_error, last_error_at, attempts,
                  lease_owner, lease_until)
      on stream_destinations to trailproof_app;
  end if;
end $$;
