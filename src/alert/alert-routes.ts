/**
 * Alert rules (alert-rules.ts) and their firings: `POST/GET /v1/alert-rules`, `GET/PATCH/DELETE
 * /v1/alert-rules/{id}`, `GET /v1/alert-rules/{id}/firings`, `GET /v1/alert-firings`. Read keys list
 * rules and firings; admin keys create, change and delete rules. Every route is tenant-scoped.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from '@sinclair/typebox';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, listOf, NoContent, NullableTimestamp, Timestamp } from '../http/responses.ts';
import type { Changer } from '../query/saved-searches.ts';
import type { Sql } from '../store/db.ts';
import { view, type AlertRuleInput } from './alert-rules.ts';
import { BUILTIN_RULES } from './builtin-rules.ts';

const Channel = Type.Object(
  { type: Type.String({ enum: ['webhook', 'slack', 'email'] }), url: Type.Optional(Type.String()), to: Type.Optional(Type.Array(Type.String())) },
  { additionalProperties: true },
);
const fields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  filter: Type.Record(Type.String(), Type.String(), { description: 'GET /v1/events filter parameters (or give saved_search)' }),
  saved_search: Type.Union([Type.String(), Type.Null()], { description: 'The id of a saved search of the tenant, instead of filter' }),
  params: Type.Record(Type.String(), Type.Unknown(), {
    description: 'threshold: {count, window_seconds, group_by}; first_seen: {field}; absence: {period_seconds}',
  }),
  outside_hours: Type.Union(
    [
      Type.Object(
        {
          timezone: Type.Optional(Type.String({ description: 'An IANA time zone name; default UTC' })),
          days: Type.Optional(Type.Array(Type.Integer(), { description: 'ISO weekdays with working hours (1 is Monday, 7 Sunday); default 1–5' })),
          start: Type.Optional(Type.String({ description: 'HH:MM the working hours start at; default 08:00' })),
          end: Type.Optional(Type.String({ description: 'HH:MM the working hours end at (24:00 for midnight); default 18:00' })),
        },
        { additionalProperties: true },
      ),
      Type.Null(),
    ],
    { description: 'Count only events whose occurred_at lies outside these working hours, on the wall clock of the time zone (null: every event)' },
  ),
  cooldown_seconds: Type.Integer(),
  channels: Type.Array(Channel),
  secret: Type.String({ description: 'The webhook signing secret (16–256 characters); never shown' }),
  enabled: Type.Boolean(),
};
const CreateBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
    builtin: Type.Optional(Type.String({ description: 'Install a rule of the built-in pack (GET /v1/alert-rules/builtin); the other fields adjust it' })),
    kind: Type.Optional(Type.String({ enum: ['threshold', 'first_seen', 'absence'] })),
    filter: Type.Optional(fields.filter),
    saved_search: Type.Optional(fields.saved_search),
    params: Type.Optional(fields.params),
    outside_hours: Type.Optional(fields.outside_hours),
    name: Type.Optional(fields.name),
    cooldown_seconds: Type.Optional(fields.cooldown_seconds),
    channels: Type.Optional(fields.channels),
    secret: Type.Optional(fields.secret),
    enabled: Type.Optional(fields.enabled),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  {
    name: Type.Optional(fields.name),
    kind: Type.Optional(Type.String()),
    filter: Type.Optional(fields.filter),
    saved_search: Type.Optional(fields.saved_search),
    params: Type.Optional(fields.params),
    outside_hours: Type.Optional(fields.outside_hours),
    cooldown_seconds: Type.Optional(fields.cooldown_seconds),
    channels: Type.Optional(fields.channels),
    secret: Type.Optional(fields.secret),
    enabled: Type.Optional(fields.enabled),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String() });
const Rule = answer(
  {
    id: Type.String(),
    tenant: Type.String(),
    name: fields.name,
    kind: Type.String({ description: 'threshold, first_seen or absence' }),
    filter: fields.filter,
    saved_search: fields.saved_search,
    params: fields.params,
    outside_hours: fields.outside_hours,
    cooldown_seconds: fields.cooldown_seconds,
    channels: fields.channels,
    has_secret: Type.Boolean(),
    enabled: fields.enabled,
    builtin: Type.Union([Type.String(), Type.Null()], { description: 'The built-in rule it was installed from' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'AlertRule' },
);
const Firings = answer({
  data: Type.Array(
    answer({
      id: Type.String(),
      rule: Type.String(),
      tenant: Type.String(),
      group: Type.String(),
      window_start: Timestamp,
      fired_at: Timestamp,
      summary: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
      delivered_at: NullableTimestamp,
      attempts: Type.Integer(),
      last_error: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  next: Type.Optional(Type.String({ description: 'Give it as `before` for the next page' })),
});
const ListQuery = Type.Object({ tenant: Type.Optional(Type.String()) });
const FiringsQuery = Type.Object({
  tenant: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String({ description: '1–1000, default 100' })),
  before: Type.Optional(Type.String({ description: 'Firings with an id below this one (the next page)' })),
});

export interface FiringView {
  id: string;
  rule: string;
  /** The rule's name. */
  rule_name: string;
  tenant: string;
  group: string;
  window_start: string;
  fired_at: string;
  summary: string;
  details: Record<string, unknown>;
  delivered_at: string | null;
  attempts: number;
  last_error: string | null;
}

export function alertRoutes(services: Services) {
  const tags = ['alerts'];
  const security = [{ bearer: [] }];
  const changer = (request: FastifyRequest): Changer => ({ principal: principalOf(request), context: requestContext(request) });
  const load = (request: FastifyRequest) => services.alertRules.get((request.params as { id: string }).id, principalOf(request).tenant);

  return async function registerAlertRoutes(app: FastifyInstance): Promise<void> {
    app.post(
      '/v1/alert-rules',
      {
        onRequest: authenticate(services, 'admin'),
        schema: { summary: 'Create an alert rule for the tenant', tags, security, body: CreateBody, response: { 201: Rule } },
      },
      async (request, reply) => {
        const { tenant: named, ...body } = request.body as Static<typeof CreateBody>;
        const tenant = await tenantFor(services, request, named);
        return reply.code(201).send(await services.alertRules.create(tenant, body as AlertRuleInput, changer(request)));
      },
    );

    app.get(
      '/v1/alert-rules',
      {
        onRequest: authenticate(services, 'read'),
        schema: { summary: "The tenant's alert rules", tags, security, querystring: ListQuery, response: { 200: listOf(Rule) } },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.query as Static<typeof ListQuery>).tenant);
        return { data: await services.alertRules.list(tenant) };
      },
    );

    app.get(
      '/v1/alert-rules/builtin',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          summary: 'The built-in rule pack (installed only on request)',
          tags,
          security,
          response: { 200: listOf(answer({ id: Type.String(), description: Type.String() })) },
        },
      },
      async () => ({ data: Object.entries(BUILTIN_RULES).map(([id, b]) => ({ id, description: b.description, ...b.rule })) }),
    );

    app.get(
      '/v1/alert-rules/:id',
      { onRequest: authenticate(services, 'read'), schema: { summary: 'An alert rule', tags, security, params: IdParams, response: { 200: Rule } } },
      async (request) => view(await load(request)),
    );

    app.patch(
      '/v1/alert-rules/:id',
      {
        onRequest: authenticate(services, 'admin'),
        schema: { summary: 'Change an alert rule (not its kind)', tags, security, params: IdParams, body: UpdateBody, response: { 200: Rule } },
      },
      async (request) => services.alertRules.update(await load(request), request.body as AlertRuleInput, changer(request)),
    );

    app.delete(
      '/v1/alert-rules/:id',
      {
        onRequest: authenticate(services, 'admin'),
        schema: { summary: 'Delete an alert rule and its firings', tags, security, params: IdParams, response: { 204: NoContent } },
      },
      async (request, reply) => {
        await services.alertRules.delete(await load(request), changer(request));
        return reply.code(204).send();
      },
    );

    app.get(
      '/v1/alert-rules/:id/firings',
      {
        onRequest: authenticate(services, 'read'),
        schema: { summary: "An alert rule's firings, newest first", tags, security, params: IdParams, querystring: FiringsQuery, response: { 200: Firings } },
      },
      async (request) => {
        const rule = await load(request);
        return firings(services.sql, rule.tenant_id, rule.id, request.query as Static<typeof FiringsQuery>);
      },
    );

    app.get(
      '/v1/alert-firings',
      {
        onRequest: authenticate(services, 'read'),
        schema: { summary: "The tenant's alert firings, newest first", tags, security, querystring: FiringsQuery, response: { 200: Firings } },
      },
      async (request) => {
        const query = request.query as Static<typeof FiringsQuery>;
        const page = await firings(services.sql, await tenantFor(services, request, query.tenant), undefined, query);
        // A viewer token (minted with alerts: true) sees what fired, not where it was sent nor how delivery went.
        if (!principalOf(request).viewer) return page;
        return {
          ...page,
          data: page.data.map(({ id, rule, rule_name, tenant, group, window_start, fired_at, summary }) => ({
            id,
            rule,
            rule_name,
            tenant,
            group,
            window_start,
            fired_at,
            summary,
          })),
        };
      },
    );
  };
}

async function firings(sql: Sql, tenant: string, rule: string | undefined, query: Static<typeof FiringsQuery>): Promise<{ data: FiringView[]; next?: string }> {
  const limit = query.limit === undefined ? 100 : /^\d{1,4}$/.test(query.limit) ? Number(query.limit) : NaN;
  if (!(limit >= 1 && limit <= 1000)) throw queryInvalid('/limit', 'limit must be a whole number from 1 to 1000');
  if (query.before !== undefined && !/^\d{1,18}$/.test(query.before)) throw queryInvalid('/before', 'before must be a firing id');
  const rows = await sql<(Omit<FiringView, 'rule' | 'tenant' | 'group' | 'window_start' | 'fired_at' | 'delivered_at'> & Record<string, unknown>)[]>`
    select f.id::text, f.rule_id, r.name as rule_name, f.tenant_id, f.group_key, f.window_start, f.fired_at, f.summary, f.details, f.delivered_at, f.attempts, f.last_error
    from alert_firings f join alert_rules r on r.id = f.rule_id where f.tenant_id = ${tenant}
      ${rule === undefined ? sql`` : sql`and f.rule_id = ${rule}`}
      ${query.before === undefined ? sql`` : sql`and f.id < ${query.before}`}
    order by f.id desc limit ${limit + 1}`;
  const data = rows.slice(0, limit).map(
    (r): FiringView => ({
      id: r.id,
      rule: r.rule_id as string,
      rule_name: r.rule_name,
      tenant: r.tenant_id as string,
      group: r.group_key as string,
      window_start: (r.window_start as Date).toISOString(),
      fired_at: (r.fired_at as Date).toISOString(),
      summary: r.summary,
      details: r.details,
      delivered_at: r.delivered_at ? (r.delivered_at as Date).toISOString() : null,
      attempts: r.attempts,
      last_error: r.last_error,
    }),
  );
  return rows.length > limit ? { data, next: data[data.length - 1]!.id } : { data };
}

function queryInvalid(pointer: string, message: string): TrailproofError {
  return new TrailproofError('QUERY_INVALID', message, { details: [{ pointer, code: 'invalid_value', message }] });
}
