-- Full text finds an action by its segments: `member` and `role_changed` find `member.role_changed`.
-- The parser keeps `member.role_changed` as one word (and `user.login` whole), so the action is
-- indexed both as written and with its dots and underscores as spaces. A generated column's
-- expression cannot be altered before PostgreSQL 17: the column is dropped and added again.
alter table events drop column search;
alter table events add column search tsvector generated always as (
  to_tsvector('simple', coalesce(body->>'action', '') || ' ' || coalesce(body->'actor'->>'name', '') || ' ' || coalesce(body->>'reason', ''))
  || to_tsvector('simple', translate(coalesce(body->>'action', ''), '._', '  '))
  || jsonb_to_tsvector('simple', coalesce(jsonb_path_query_array(body, '$.targets[*].name'), '[]'), '["string"]')
  || jsonb_to_tsvector('simple', coalesce(body->'metadata', '{}'), '["string", "numeric"]')
  || jsonb_to_tsvector('simple', coalesce(body->'actor'->'metadata', '{}'), '["string", "numeric"]')) stored;
create index events_search on events using gin (search);
