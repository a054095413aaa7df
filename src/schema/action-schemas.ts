/**
 * Per-action schemas per tenant (docs/schemas.md), stored in `action_schemas` as immutable
 * versions. Ingest asks `check` for each event: the newest version of the event's action applies
 * (or the version named, for WorkOS-style events). The newest versions of a tenant are cached per
 * process for CACHE_MS, so a change reaches every server process within that time; compiled
 * versions are cached for good, since a version never changes.
 */
import { canonicalJson } from '../ledger/jcs.ts';
import { TrailproofError, type ErrorDetail } from '../errors.ts';
import type { EventBody } from '../event/types.ts';
import type { Sql } from '../store/db.ts';
import { compileDefinition, type EventChecker, type SchemaDefinition } from './definition.ts';

const CACHE_MS = 5_000;
/** Compiled versions kept per process; beyond this the oldest are compiled again when needed. */
const MAX_COMPILED = 1_000;

export interface ActionSchema {
  tenant: string;
  action: string;
  version: number;
  definition: SchemaDefinition;
  /** The schema as the WorkOS-compatible API was given it (docs/workos.md); absent otherwise. */
  workos?: unknown;
  created_by: string;
  created_at: string;
}

interface Row {
  tenant_id: string;
  action: string;
  version: number;
  definition: SchemaDefinition;
  workos: unknown;
  created_by: string;
  created_at: Date;
}

export class ActionSchemas {
  readonly #newest = new Map<string, { versions: Map<string, number>; until: number }>();
  readonly #compiled = new Map<string, EventChecker>();

  constructor(private readonly sql: Sql) {}

  /**
   * Stores the definition as the action's next version, unless it equals the newest one (then that
   * one is returned). `created` says whether a version was added.
   */
  async put(
    tenant: string,
    action: string,
    definition: SchemaDefinition,
    createdBy: string,
    workos?: unknown,
  ): Promise<{ schema: ActionSchema; created: boolean }> {
    return this.sql.begin(async (tx) => {
      // One writer per tenant and action at a time, so versions are consecutive.
      await tx`select pg_advisory_xact_lock(hashtextextended(${`action_schema:${tenant}:${action}`}, 0))`;
      const [newest] = await tx<Row[]>`
        select * from action_schemas where tenant_id = ${tenant} and action = ${action} order by version desc limit 1`;
      if (newest && canonicalJson(newest.definition) === canonicalJson(definition) && canonicalJson(newest.workos ?? null) === canonicalJson(workos ?? null)) {
        return { schema: toSchema(newest), created: false };
      }
      const version = (newest?.version ?? 0) + 1;
      const [row] = await tx<Row[]>`
        insert into action_schemas (tenant_id, action, version, definition, workos, created_by)
        values (${tenant}, ${action}, ${version}, ${tx.json(definition as Parameters<Sql['json']>[0])},
                ${workos === undefined ? null : tx.json(workos as Parameters<Sql['json']>[0])}, ${createdBy})
        returning *`;
      this.#newest.delete(tenant);
      return { schema: toSchema(row!), created: true };
    });
  }

  /** The newest version of each action's schema in the tenant, by action. */
  async list(tenant: string): Promise<ActionSchema[]> {
    const rows = await this.sql<Row[]>`
      select distinct on (action) * from action_schemas where tenant_id = ${tenant} order by action, version desc`;
    return rows.map(toSchema);
  }

  /** Every version of the action's schema, newest first. */
  async versions(tenant: string, action: string): Promise<ActionSchema[]> {
    const rows = await this.sql<Row[]>`
      select * from action_schemas where tenant_id = ${tenant} and action = ${action} order by version desc`;
    return rows.map(toSchema);
  }

  /** The newest version, or the one named; NOT_FOUND when there is none. */
  async get(tenant: string, action: string, version?: number): Promise<ActionSchema> {
    const [row] =
      version === undefined
        ? await this.sql<Row[]>`select * from action_schemas where tenant_id = ${tenant} and action = ${action} order by version desc limit 1`
        : await this.sql<Row[]>`select * from action_schemas where tenant_id = ${tenant} and action = ${action} and version = ${version}`;
    if (!row) throw notFound(action, version);
    return toSchema(row);
  }

  /**
   * The event's violations of its action's schema: of the newest version, or of `version` when
   * given (then a version that does not exist is itself an error, at `versionPointer`).
   */
  async check(tenant: string, event: EventBody, prefix: string, version?: { value: number; pointer: string }): Promise<ErrorDetail[]> {
    const number = version?.value ?? (await this.newestVersions(tenant)).get(event.action);
    if (number === undefined) return [];
    const key = `${tenant}\u0000${event.action}\u0000${number}`;
    let checker = this.#compiled.get(key);
    if (!checker) {
      const [row] = await this.sql<{ definition: SchemaDefinition }[]>`
        select definition from action_schemas where tenant_id = ${tenant} and action = ${event.action} and version = ${number}`;
      if (!row) {
        const message = `action "${event.action}" has no schema version ${number}`;
        return [{ pointer: version?.pointer ?? `${prefix}/action`, code: 'not_found', message }];
      }
      checker = compileDefinition(row.definition);
      if (this.#compiled.size >= MAX_COMPILED) this.#compiled.delete(this.#compiled.keys().next().value as string);
      this.#compiled.set(key, checker);
    }
    return checker(event, prefix);
  }

  private async newestVersions(tenant: string): Promise<Map<string, number>> {
    const cached = this.#newest.get(tenant);
    if (cached && cached.until > Date.now()) return cached.versions;
    const rows = await this.sql<{ action: string; version: number }[]>`
      select action, max(version) as version from action_schemas where tenant_id = ${tenant} group by action`;
    const versions = new Map(rows.map((r) => [r.action, r.version]));
    this.#newest.set(tenant, { versions, until: Date.now() + CACHE_MS });
    return versions;
  }
}

function toSchema(row: Row): ActionSchema {
  return {
    tenant: row.tenant_id,
    action: row.action,
    version: row.version,
    definition: row.definition,
    ...(row.workos === null ? {} : { workos: row.workos }),
    created_by: row.created_by,
    created_at: row.created_at.toISOString(),
  };
}

function notFound(action: string, version?: number): TrailproofError {
  return new TrailproofError('NOT_FOUND', version === undefined ? `action "${action}" has no schema` : `action "${action}" has no schema version ${version}`);
}
