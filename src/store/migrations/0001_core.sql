-- Core schema: tenants, API keys, the per-tenant ledger (leaves, tree nodes, heads) and the events
-- themselves. Ledger tables are never updated in place (see 0002); event payloads are partitioned by
-- month of occurred_at so retention can drop whole partitions, while the ledger's leaves stay forever.

create table tenants (
  id          text primary key,
  name        text not null,
  created_at  timestamptz not null default now()
);

create table api_keys (
  id           text primary key,
  secret_hash  bytea not null,
  name         text not null,
  scope        text not null check (scope in ('ingest', 'read', 'admin')),
  tenant_id    text references tenants(id),
  created_at   timestamptz not null default now(),
  revoked_at   timestamptz,
  last_used_at timestamptz
);

-- The head of each tenant's Merkle tree. Locked FOR UPDATE by the batch that appends to the tenant,
-- which makes it the single writer across every server process.
create table ledger_heads (
  tenant_id   text primary key references tenants(id),
  size        bigint not null default 0,
  root        bytea not null,
  -- Roots of the perfect subtrees on the right edge, largest first (one per set bit of size).
  frontier    bytea[] not null default '{}',
  updated_at  timestamptz not null default now()
);

-- One row per leaf: the envelope fields the leaf hash commits to. Kept after the payload is purged.
create table ledger_leaves (
  tenant_id    text not null references tenants(id),
  seq          bigint not null,
  uid          uuid not null,
  received_at  timestamptz not null,
  commitment   bytea not null,
  leaf_hash    bytea not null,
  client_id    text,
  occurred_at  timestamptz not null,
  primary key (tenant_id, seq)
);
create unique index ledger_leaves_uid on ledger_leaves (uid);
create unique index ledger_leaves_client_id on ledger_leaves (tenant_id, client_id) where client_id is not null;

-- Interior hashes of complete subtrees at levels 8, 16, 24, …: with the leaf hashes (level 0) these
-- are exactly the hashes C2SP tlog-tiles serves, and every other node is computed from them.
create table ledger_nodes (
  tenant_id  text not null references tenants(id),
  level      smallint not null,
  idx        bigint not null,
  hash       bytea not null,
  primary key (tenant_id, level, idx)
);

create table events (
  tenant_id    text not null,
  seq          bigint not null,
  uid          uuid not null,
  occurred_at  timestamptz not null,
  received_at  timestamptz not null,
  action       text not null,
  actor_type   text not null,
  actor_id     text not null,
  outcome      text not null,
  ip           inet,
  body         jsonb not null,
  salt         bytea not null,
  -- Full text over what people search for: action, names, reason and metadata values (not ids,
  -- addresses or user agents, which have their own filters and would bloat the index).
  search       tsvector generated always as (
                 to_tsvector('simple', coalesce(body->>'action', '') || ' ' || coalesce(body->'actor'->>'name', '') || ' ' || coalesce(body->>'reason', ''))
                 || jsonb_to_tsvector('simple', coalesce(jsonb_path_query_array(body, '$.targets[*].name'), '[]'), '["string"]')
                 || jsonb_to_tsvector('simple', coalesce(body->'metadata', '{}'), '["string", "numeric"]')
                 || jsonb_to_tsvector('simple', coalesce(body->'actor'->'metadata', '{}'), '["string", "numeric"]')) stored,
  primary key (tenant_id, occurred_at, seq)
) partition by range (occurred_at);
create index events_actor on events (tenant_id, actor_id, occurred_at, seq);
create index events_action on events (tenant_id, action text_pattern_ops, occurred_at, seq);
create index events_search on events using gin (search);

-- What each event acted on, narrow so "who touched target X" reads few pages.
create table event_targets (
  tenant_id    text not null,
  target_type  text not null,
  target_id    text not null,
  occurred_at  timestamptz not null,
  seq          bigint not null
) partition by range (occurred_at);
create index event_targets_lookup on event_targets (tenant_id, target_type, target_id, occurred_at, seq);
