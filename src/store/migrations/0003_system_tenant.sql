-- The operator's own trail: tenant and key changes made with unbound keys are recorded here. Its id
-- starts with "_", which tenant ids created through the API cannot, so it never collides.
insert into tenants (id, name) values ('_system', 'Operator actions');
insert into ledger_heads (tenant_id, size, root)
values ('_system', 0, decode('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'));
