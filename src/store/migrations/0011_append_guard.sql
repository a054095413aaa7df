-- An append may be conditional (the service's record of a read, sent while the read runs): it is
-- refused unless the tenant's ledger holds the event read. The insert statement raises through this
-- function, with its own SQLSTATE, so the service can tell that refusal from any other.
create function ledger_refuse(code text, message text, detail text) returns boolean language plpgsql as $$
begin
  raise exception using errcode = code, message = message, detail = detail;
end
$$;
grant execute on function ledger_refuse(text, text, text) to public;
