-- Which of a firing's channels have had it (their indexes in the rule's `channels`), so a retry
-- after a partial failure sends only to the channels still owed.
alter table alert_firings add column sent int[] not null default '{}';

do $$
begin
  if exists (select 1 from pg_roles where rolname = 'trailproof_app') then
    grant update (sent) on alert_firings to trailproof_app;
  end if;
end $$;
