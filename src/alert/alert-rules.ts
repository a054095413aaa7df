/**
 * Alert rules per tenant (migration 0092, docs/alerts.md): what a rule watches (an inline filter in
 * the spelling of `GET /v1/events` parameters, or a saved search), its kind and parameters, its
 * cooldown and the channels its firings go to. Every change is recorded in the tenant's trail as
 * `alert_rule.created|updated|deleted`; the webhook signing secret is sealed at rest and never shown.
 * A change to what a rule watches starts its evaluation state afresh (alert-evaluator.ts).
 */
import { randomBytes } from 'node:crypto';
import type { MetaAudit } from '../audit/meta-audit.ts';
import { type ErrorDetail, fieldInvalid, nameTaken, TrailproofError } from '../errors.ts';
import { checkSavedFilter, savedSearchExists, type Changer, type SavedFilter } from '../query/saved-searches.ts';
import { type Sql, uniqueOr } from '../store/db.ts';
import { type TenantTable, tenantRow, tenantRows } from '../store/tenant-rows.ts';
import type { SecretBox } from '../stream/secret-box.ts';
import { BUILTIN_RULES } from './builtin-rules.ts';
import { checkOutsideHours, type OutsideHours } from './outside-hours.ts';

export const RULE_KINDS = ['threshold', 'first_seen', 'absence'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const GROUP_FIELDS = ['actor', 'ip', 'action', 'target', 'none'] as const;
/** `actor`: a new actor for the whole tenant; the others: a new value for one actor. */
export const SEEN_FIELDS = ['ip', 'user_agent', 'location', 'actor'] as const;

export type RuleParams =
  | { count: number; window_seconds: number; group_by: (typeof GROUP_FIELDS)[number] }
  | { field: (typeof SEEN_FIELDS)[number] }
  | { period_seconds: number };

export type Channel = { type: 'webhook'; url: string } | { type: 'slack'; url: string } | { type: 'email'; to: string[] };

export interface AlertRuleRow {
  id: string;
  tenant_id: string;
  name: string;
  kind: RuleKind;
  filter: SavedFilter;
  saved_search: string | null;
  params: RuleParams;
  outside_hours: OutsideHours | null;
  cooldown_seconds: number;
  channels: Channel[];
  secret: Uint8Array | null;
  enabled: boolean;
  builtin: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface AlertRuleView {
  id: string;
  tenant: string;
  name: string;
  kind: RuleKind;
  filter: SavedFilter;
  saved_search: string | null;
  params: RuleParams;
  /** When set, only events outside these working hours count (outside-hours.ts). */
  outside_hours: OutsideHours | null;
  cooldown_seconds: number;
  channels: Channel[];
  /** Whether a webhook signing secret is set (the secret itself is never shown). */
  has_secret: boolean;
  enabled: boolean;
  /** The built-in rule it was installed from, if any. */
  builtin: string | null;
  created_at: string;
  updated_at: string;
}

export interface AlertRuleInput {
  name?: unknown;
  kind?: unknown;
  filter?: unknown;
  saved_search?: unknown;
  params?: unknown;
  outside_hours?: unknown;
  cooldown_seconds?: unknown;
  channels?: unknown;
  secret?: unknown;
  enabled?: unknown;
  /** On create only: a rule of the built-in pack (builtin-rules.ts), which the other fields adjust. */
  builtin?: unknown;
}

const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._:()/-]{0,99}$/u;
const RULES: TenantTable = { table: 'alert_rules', noun: 'alert rule', idPattern: /^ar_[A-Za-z0-9_-]{12}$/ };
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;
const MAX_CHANNELS = 10;
const MAX_RECIPIENTS = 20;
/** The longest window, period or cooldown: thirty days. */
const MAX_SECONDS = 2_592_000;

export class AlertRules {
  constructor(private readonly deps: { sql: Sql; audit: MetaAudit; secrets: SecretBox; emailEnabled: boolean }) {}

  async create(tenant: string, given: AlertRuleInput, by: Changer): Promise<AlertRuleView> {
    const id = `ar_${randomBytes(9).toString('base64url')}`;
    const builtin = given.builtin === undefined ? null : String(given.builtin);
    if (builtin !== null && !Object.hasOwn(BUILTIN_RULES, builtin))
      throw fieldInvalid('/builtin', 'invalid_enum', `builtin must be one of ${Object.keys(BUILTIN_RULES).join(', ')}`);
    const { builtin: _, ...rest } = given;
    const input: AlertRuleInput = builtin === null ? rest : { ...BUILTIN_RULES[builtin]!.rule, ...rest };
    const rule = await this.check(tenant, input, undefined);
    const secret = typeof input.secret === 'string' ? this.deps.secrets.seal(input.secret, id) : null;
    const { sql } = this.deps;
    const row = await this.exclusive(rule.name, () =>
      sql.begin(async (tx) => {
        const [created] = await tx<AlertRuleRow[]>`
          insert into alert_rules (id, tenant_id, name, kind, filter, saved_search, params, outside_hours, cooldown_seconds, channels, secret, enabled, builtin)
          values (${id}, ${tenant}, ${rule.name}, ${rule.kind}, ${tx.json(rule.filter as never)}, ${rule.saved_search},
                  ${tx.json(rule.params as never)}, ${rule.outside_hours && tx.json(rule.outside_hours as never)}, ${rule.cooldown_seconds}, ${tx.json(rule.channels as never)}, ${secret}, ${rule.enabled}, ${builtin})
          returning *`;
        // An absence rule measures silence from its creation.
        if (rule.kind === 'absence') await tx`insert into alert_heartbeats (rule_id, last_match_at) values (${id}, now())`;
        return created!;
      }),
    );
    await this.record(row, 'alert_rule.created', by);
    return view(row);
  }

  async list(tenant: string): Promise<AlertRuleView[]> {
    return (await tenantRows<AlertRuleRow>(this.deps.sql, RULES, tenant)).map(view);
  }

  /** The rule, if it exists and `tenant` (a bound key's tenant, null for unbound) may see it. */
  get(id: string, tenant: string | null): Promise<AlertRuleRow> {
    return tenantRow<AlertRuleRow>(this.deps.sql, RULES, id, tenant);
  }

  async update(row: AlertRuleRow, input: AlertRuleInput, by: Changer): Promise<AlertRuleView> {
    if (input.kind !== undefined && input.kind !== row.kind) throw fieldInvalid('/kind', 'immutable', 'the kind of a rule cannot change: create another rule');
    const rule = await this.check(row.tenant_id, input, row);
    const secret = typeof input.secret === 'string' ? this.deps.secrets.seal(input.secret, row.id) : row.secret;
    const watches = (r: { filter: unknown; saved_search: unknown; params: unknown; outside_hours: unknown }) =>
      JSON.stringify([r.filter, r.saved_search, r.params, r.outside_hours]);
    const restart = watches(rule) !== watches(row);
    const { sql } = this.deps;
    const updated = await this.exclusive(rule.name, () =>
      sql.begin(async (tx) => {
        const [changed] = await tx<AlertRuleRow[]>`
          update alert_rules set name = ${rule.name}, filter = ${tx.json(rule.filter as never)}, saved_search = ${rule.saved_search},
            params = ${tx.json(rule.params as never)}, outside_hours = ${rule.outside_hours && tx.json(rule.outside_hours as never)}, cooldown_seconds = ${rule.cooldown_seconds}, channels = ${tx.json(rule.channels as never)},
            secret = ${secret}, enabled = ${rule.enabled}, updated_at = now()
          where id = ${row.id} returning *`;
        if (changed && restart) await resetState(tx as unknown as Sql, row.id, row.kind);
        return changed;
      }),
    );
    if (!updated) throw new TrailproofError('NOT_FOUND', `no alert rule "${row.id}"`);
    await this.record(updated, 'alert_rule.updated', by);
    return view(updated);
  }

  async delete(row: AlertRuleRow, by: Changer): Promise<void> {
    await this.deps.sql`delete from alert_rules where id = ${row.id}`;
    await this.record(row, 'alert_rule.deleted', by);
  }

  /** The whole rule `input` makes (over `current` for a change), validated; every error points at its field. */
  private async check(tenant: string, input: AlertRuleInput, current: AlertRuleRow | undefined) {
    const errors: ErrorDetail[] = [];
    const attempt = <T>(f: () => T, fallback: T): T => {
      try {
        return f();
      } catch (err) {
        if (!(err instanceof TrailproofError) || !err.details) throw err;
        errors.push(...err.details);
        return fallback;
      }
    };
    const name = input.name === undefined && current ? current.name : attempt(() => checkName(input.name), '');
    const kind = current?.kind ?? attempt(() => checkKind(input.kind), 'threshold' as RuleKind);
    const filter = input.filter === undefined ? (current?.filter ?? {}) : attempt(() => checkSavedFilter(input.filter, '/filter'), {});
    let savedSearch = current?.saved_search ?? null;
    if (input.saved_search !== undefined) {
      if (input.saved_search === null || input.saved_search === '') savedSearch = null;
      else if (typeof input.saved_search !== 'string' || !(await savedSearchExists(this.deps.sql, tenant, input.saved_search)))
        errors.push({ pointer: '/saved_search', code: 'not_found', message: 'saved_search must be the id of a saved search of the tenant' });
      else savedSearch = input.saved_search;
    }
    if (savedSearch !== null && Object.keys(filter).length > 0)
      errors.push({ pointer: '/filter', code: 'conflict', message: 'give either filter or saved_search, not both' });
    const params = input.params === undefined && current ? current.params : attempt(() => checkParams(kind, input.params), { period_seconds: 0 });
    let outsideHours = current?.outside_hours ?? null;
    if (input.outside_hours !== undefined) {
      try {
        outsideHours = await checkOutsideHours(this.deps.sql, input.outside_hours);
      } catch (err) {
        if (!(err instanceof TrailproofError) || !err.details) throw err;
        errors.push(...err.details);
      }
    }
    if (outsideHours !== null && kind === 'absence')
      errors.push({ pointer: '/outside_hours', code: 'conflict', message: 'an absence rule fires on silence, not on an event: it takes no outside_hours' });
    const cooldown =
      input.cooldown_seconds === undefined ? (current?.cooldown_seconds ?? 0) : attempt(() => seconds(input.cooldown_seconds, '/cooldown_seconds', 0), 0);
    const channels = input.channels === undefined ? (current?.channels ?? []) : attempt(() => this.checkChannels(input.channels), []);
    if (input.secret !== undefined && (typeof input.secret !== 'string' || input.secret.length < 16 || input.secret.length > 256))
      errors.push({ pointer: '/secret', code: 'invalid_value', message: 'secret must be 16–256 characters' });
    const hasSecret = typeof input.secret === 'string' || (current?.secret ?? null) !== null;
    if (channels.some((c) => c.type === 'webhook') && !hasSecret)
      errors.push({ pointer: '/secret', code: 'required', message: 'a webhook channel signs with the rule secret: give secret' });
    if (input.enabled !== undefined && typeof input.enabled !== 'boolean')
      errors.push({ pointer: '/enabled', code: 'invalid_type', message: 'enabled must be true or false' });
    if (errors.length > 0) throw new TrailproofError('REQUEST_INVALID', errors.map((e) => `${e.pointer}: ${e.message}`).join('; '), { details: errors });
    const enabled = typeof input.enabled === 'boolean' ? input.enabled : (current?.enabled ?? true);
    return { name, kind, filter, saved_search: savedSearch, params, outside_hours: outsideHours, cooldown_seconds: cooldown, channels, enabled };
  }

  private checkChannels(value: unknown): Channel[] {
    if (!Array.isArray(value) || value.length > MAX_CHANNELS)
      throw fieldInvalid('/channels', 'invalid_type', `channels must be a list of at most ${MAX_CHANNELS} channels`);
    return value.map((c: unknown, i): Channel => {
      const at = `/channels/${i}`;
      if (typeof c !== 'object' || c === null) throw fieldInvalid(at, 'invalid_type', 'a channel is an object with a type');
      const channel = c as Record<string, unknown>;
      const fields = (allowed: string[]) => {
        const extra = Object.keys(channel).find((k) => !allowed.includes(k));
        if (extra) throw fieldInvalid(`${at}/${extra}`, 'unknown_field', `a ${String(channel.type)} channel takes ${allowed.join(', ')}`);
      };
      if (channel.type === 'webhook' || channel.type === 'slack') {
        fields(['type', 'url']);
        return { type: channel.type, url: checkUrl(channel.url, `${at}/url`) };
      }
      if (channel.type === 'email') {
        fields(['type', 'to']);
        if (!this.deps.emailEnabled)
          throw fieldInvalid(`${at}/type`, 'unavailable', 'email channels need TRAILPROOF_SMTP_URL set on the server (docs/alerts.md)');
        const to = channel.to;
        if (!Array.isArray(to) || to.length === 0 || to.length > MAX_RECIPIENTS)
          throw fieldInvalid(`${at}/to`, 'invalid_type', `to must list 1–${MAX_RECIPIENTS} addresses`);
        to.forEach((a: unknown, j) => {
          if (typeof a !== 'string' || a.length > 254 || !EMAIL.test(a)) throw fieldInvalid(`${at}/to/${j}`, 'invalid_email', 'must be an email address');
        });
        return { type: 'email', to: to as string[] };
      }
      throw fieldInvalid(`${at}/type`, 'invalid_enum', 'type must be webhook, slack or email');
    });
  }

  private exclusive<T>(name: string, write: () => Promise<T>): Promise<T> {
    return uniqueOr(write, () => nameTaken('ALERT_RULE_EXISTS', `the tenant already has an alert rule named "${name}"`));
  }

  private async record(row: AlertRuleRow, action: string, by: Changer): Promise<void> {
    const v = view(row);
    await this.deps.audit.record({
      tenant: row.tenant_id,
      principal: by.principal,
      action,
      targets: [{ type: 'alert_rule', id: row.id, name: row.name }],
      metadata: {
        kind: v.kind,
        enabled: v.enabled,
        filter: JSON.stringify(v.saved_search ? { saved_search: v.saved_search } : v.filter),
        params: JSON.stringify(v.params),
        ...(v.outside_hours ? { outside_hours: JSON.stringify(v.outside_hours) } : {}),
        cooldown_seconds: v.cooldown_seconds,
        channels: v.channels.map((c) => c.type).join(','),
      },
      ...(by.context ? { context: by.context } : {}),
    });
  }
}

/** Forgets what the rule counted and saw (its watched events changed); an absence rule's silence starts now. */
async function resetState(sql: Sql, id: string, kind: RuleKind): Promise<void> {
  await sql`delete from alert_counts where rule_id = ${id}`;
  await sql`delete from alert_seen where rule_id = ${id}`;
  if (kind === 'absence')
    await sql`insert into alert_heartbeats (rule_id, last_match_at) values (${id}, now())
      on conflict (rule_id) do update set last_match_at = excluded.last_match_at`;
}

export function view(row: AlertRuleRow): AlertRuleView {
  return {
    id: row.id,
    tenant: row.tenant_id,
    name: row.name,
    kind: row.kind,
    filter: row.filter,
    saved_search: row.saved_search,
    params: row.params,
    outside_hours: row.outside_hours,
    cooldown_seconds: row.cooldown_seconds,
    channels: row.channels,
    has_secret: row.secret !== null,
    enabled: row.enabled,
    builtin: row.builtin,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    throw fieldInvalid('/name', 'pattern', 'name: 1–100 letters, digits, spaces and . _ : ( ) / -, starting with a letter or digit');
  return name;
}

function checkKind(kind: unknown): RuleKind {
  if (!(RULE_KINDS as readonly unknown[]).includes(kind)) throw fieldInvalid('/kind', 'invalid_enum', `kind must be ${RULE_KINDS.join(', ')}`);
  return kind as RuleKind;
}

function checkParams(kind: RuleKind, value: unknown): RuleParams {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fieldInvalid('/params', 'invalid_type', 'params must be an object');
  const p = value as Record<string, unknown>;
  const only = (allowed: string[]) => {
    const extra = Object.keys(p).find((k) => !allowed.includes(k));
    if (extra) throw fieldInvalid(`/params/${extra}`, 'unknown_field', `a ${kind} rule takes ${allowed.join(', ')}`);
  };
  if (kind === 'threshold') {
    only(['count', 'window_seconds', 'group_by']);
    if (!Number.isInteger(p.count) || (p.count as number) < 1 || (p.count as number) > 1_000_000)
      throw fieldInvalid('/params/count', 'out_of_range', 'count must be a whole number from 1 to 1000000');
    const groupBy = p.group_by ?? 'none';
    if (!(GROUP_FIELDS as readonly unknown[]).includes(groupBy))
      throw fieldInvalid('/params/group_by', 'invalid_enum', `group_by must be ${GROUP_FIELDS.join(', ')}`);
    return { count: p.count as number, window_seconds: seconds(p.window_seconds, '/params/window_seconds', 60), group_by: groupBy as 'actor' };
  }
  if (kind === 'first_seen') {
    only(['field']);
    if (!(SEEN_FIELDS as readonly unknown[]).includes(p.field)) throw fieldInvalid('/params/field', 'invalid_enum', `field must be ${SEEN_FIELDS.join(', ')}`);
    return { field: p.field as 'ip' };
  }
  only(['period_seconds']);
  return { period_seconds: seconds(p.period_seconds, '/params/period_seconds', 60) };
}

function seconds(value: unknown, pointer: string, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > MAX_SECONDS)
    throw fieldInvalid(pointer, 'out_of_range', `${pointer.split('/').pop()} must be a whole number of seconds from ${min} to ${MAX_SECONDS}`);
  return value as number;
}

function checkUrl(value: unknown, pointer: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' && value.length <= 2048 ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw fieldInvalid(pointer, 'invalid_url', 'must be an https:// (or http://) URL');
  if (url.username || url.password) throw fieldInvalid(pointer, 'invalid_url', 'must not carry credentials');
  return url.toString();
}
