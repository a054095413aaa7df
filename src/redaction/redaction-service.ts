/**
 * Redaction per tenant: its settings (stored in `redaction_rules`, the defaults when none), its
 * keyed hash, and the two uses of both: redacting an event before it is appended, and turning a
 * searched value into the form a keyed-hash rule stored it as. Settings are cached per process for
 * CACHE_MS, so a change reaches every server process within that time.
 */
import { canonicalJson } from '../ledger/jcs.ts';
import type { EventBody } from '../event/types.ts';
import type { EventFilter } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';
import type { TenantKeys } from '../tenant/tenant-keys.ts';
import { redactedForm, redactEvent, rulesInForce, type Redacted } from './redact.ts';
import type { RedactionRule, RedactionSettings } from './rules.ts';

const CACHE_MS = 5_000;

const NEEDS_KEY = new Error('redaction needs the tenant key');
const needsKey = (): never => {
  throw NEEDS_KEY;
};

export const DEFAULT_SETTINGS: RedactionSettings = Object.freeze({ defaults: true, rules: [] });

interface Entry {
  settings: RedactionSettings;
  rules: readonly RedactionRule[];
  until: number;
}

export class RedactionService {
  readonly #cache = new Map<string, Entry>();

  constructor(
    private readonly sql: Sql,
    private readonly keys: TenantKeys,
  ) {}

  async settings(tenant: string): Promise<RedactionSettings> {
    return (await this.entry(tenant)).settings;
  }

  /** Replaces the tenant's settings; returns whether they changed. */
  async replace(tenant: string, settings: RedactionSettings): Promise<boolean> {
    const before = await this.load(tenant);
    const rules = this.sql.json(settings.rules as unknown as Parameters<Sql['json']>[0]);
    await this.sql`
      insert into redaction_rules (tenant_id, defaults, rules) values (${tenant}, ${settings.defaults}, ${rules})
      on conflict (tenant_id) do update set defaults = excluded.defaults, rules = excluded.rules, updated_at = now()`;
    this.#cache.delete(tenant);
    return canonicalJson(before) !== canonicalJson(settings);
  }

  /** The event as the tenant's rules let it be stored, and the pointers of what they took out. */
  async redact(tenant: string, body: EventBody): Promise<Redacted> {
    const { rules } = await this.entry(tenant);
    if (rules.length === 0) return { body, redacted: [] };
    // Most events hold nothing to hash: the tenant's key is fetched (or made) only when one does.
    try {
      return redactEvent(body, rules, needsKey);
    } catch (err) {
      if (err !== NEEDS_KEY) throw err;
    }
    return redactEvent(body, rules, await this.keys.hasher(tenant, 'redaction'));
  }

  /**
   * The filter with the keyed-hash forms (`hmac:…`) of its searched values, so that a search by an
   * original value also finds the events that hold its hash: the actor and target id when a rule
   * hashes those fields, the full-text query when any rule hashes.
   */
  async searchable(tenant: string, filter: EventFilter): Promise<EventFilter> {
    if (filter.actor === undefined && filter.targetId === undefined && filter.q === undefined) return filter;
    const { rules } = await this.entry(tenant);
    const hashing = rules.filter((r) => r.action === 'hash');
    if (hashing.length === 0) return filter;
    const hash = await this.keys.hasher(tenant, 'redaction');
    const hashesPath = (pattern: RegExp) => hashing.some((r) => 'path' in r && pattern.test(r.path));
    const hashed: NonNullable<EventFilter['hashed']> = {};
    if (filter.actor !== undefined && hashesPath(/^actor\.id$/)) hashed.actor = redactedForm(hash, filter.actor);
    if (filter.targetId !== undefined && hashesPath(/^targets\.(\*|\d+)\.id$/)) hashed.targetId = redactedForm(hash, filter.targetId);
    if (filter.q !== undefined) hashed.q = redactedForm(hash, filter.q);
    return Object.keys(hashed).length === 0 ? filter : { ...filter, hashed };
  }

  private async entry(tenant: string): Promise<Entry> {
    const cached = this.#cache.get(tenant);
    if (cached && cached.until > Date.now()) return cached;
    const settings = await this.load(tenant);
    const entry = { settings, rules: rulesInForce(settings), until: Date.now() + CACHE_MS };
    this.#cache.set(tenant, entry);
    return entry;
  }

  private async load(tenant: string): Promise<RedactionSettings> {
    const [row] = await this.sql<{ defaults: boolean; rules: RedactionRule[] }[]>`
      select defaults, rules from redaction_rules where tenant_id = ${tenant}`;
    return row ? { defaults: row.defaults, rules: row.rules } : DEFAULT_SETTINGS;
  }
}
