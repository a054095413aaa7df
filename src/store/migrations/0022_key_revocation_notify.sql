-- A revoked key is announced on the channel trailproof_key_revoked (payload: the key id) when its
-- transaction commits, whoever revoked it (API, CLI, SQL), so every running service process drops
-- the key and the viewer tokens it minted at once (src/auth/revocations.ts).
create function trailproof_key_revoked() returns trigger
language plpgsql as $$
begin
  perform pg_notify('trailproof_key_revoked', new.id);
  return null;
end $$;
create trigger api_keys_revoked_notify after update of revoked_at on api_keys
  for each row when (old.revoked_at is null and new.revoked_at is not null)
  execute function trailproof_key_revoked();
