-- Leaves and tile nodes are only ever written by the append transaction, which first locks the
-- tenant's ledger_heads row (itself a foreign key to tenants): the tenant provably exists. The
-- per-row foreign-key triggers on these two tables re-checked that for every event and cost ~7%
-- of an append in profiles, so they go.
alter table ledger_leaves drop constraint ledger_leaves_tenant_id_fkey;
alter table ledger_nodes drop constraint ledger_nodes_tenant_id_fkey;
