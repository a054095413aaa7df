/**
 * Erasure of a person (docs/lifecycle.md "Erasure"): every event of a tenant whose actor, or one of
 * whose targets, is the subject loses its payload everywhere it is kept, while its leaf stays so the
 * tree and every other event still verify. It follows the removal protocol of payload-removal.ts:
 *
 *   1. under the tenant's lifecycle lock, find the events: in the database by actor or target id
 *      (and the keyed-hash form a redaction rule stored it as), in the archive by the subject's
 *      keyed hash (archive_event_keys.subjects);
 *   2. refuse (ERASURE_HELD) if a legal hold in force covers any of them;
 *   3. append `erasure.completed` records listing their indices, naming the subject only by its
 *      keyed hash (erasure-subject.ts);
 *   4. `trailproof_erase_payloads` (migration 0069) removes what each record lists: events and
 *      event_targets rows, and the archive keys (crypto-shredding the archived copies);
 *      `trailproof_erase_target_day_stats` (migration 0095) anonymises the daily target rollups.
 *
 * A crash between 3 and 4 leaves records whose removal the next erasure of the tenant finishes first.
 */
import type { Principal } from '../auth/api-keys.ts';
import type { MetaAudit, RequestContext } from '../audit/meta-audit.ts';
import { ERASURE_ACTION, ERASURE_RECORD_INDICES, parseErasureRecord, type ErasureRecord } from '../event/erasure-records.ts';
import { TrailproofError } from '../errors.ts';
import { uuidv7 } from '../ingest/uid.ts';
import type { RedactionService } from '../redaction/redaction-service.ts';
import type { Sql } from '../store/db.ts';
import type { TenantKeys } from '../tenant/tenant-keys.ts';
import { subjectHash, type ErasureSubject } from './erasure-subject.ts';
import { heldIndices, listHolds } from './legal-holds.ts';
import { withLifecycleLock } from './payload-removal.ts';

export interface ErasureDeps {
  sql: Sql;
  audit: MetaAudit;
  tenantKeys: TenantKeys;
  redaction: RedactionService;
}

/** An erasure as the API shows it: the subject only by its keyed hash. */
export interface Erasure {
  id: string;
  tenant: string;
  subject: ErasureRecord['subject'];
  reason: string;
  decided_at: string;
  /** When its first record was committed. */
  erased_at: string;
  /** Who asked for it (the key's id). */
  requested_by: string;
  /** Events whose payloads it erased. */
  events: number;
  /** Leaf indices of its `erasure.completed` records. */
  records: number[];
  /** `pending` while a crash left a record whose removal has not run yet. */
  status: 'completed' | 'pending';
}

/** Which erasure erased an event. */
export interface ErasedBy {
  erasure: string;
  record: number;
  erased_at: string;
}

/** Erases the subject's events in the tenant; the erasure once its removal is done. */
export async function eraseSubject(
  deps: ErasureDeps,
  input: { tenant: string; subject: ErasureSubject; reason: string; principal: Principal; context?: RequestContext },
): Promise<Erasure> {
  const { sql, tenant } = { sql: deps.sql, tenant: input.tenant };
  const id = `era_${uuidv7()}`;
  await withLifecycleLock(sql, tenant, async () => {
    await finishPending(deps, tenant);
    const subject = await subjectForms(deps, tenant, input.subject);
    const indices = await matchingIndices(sql, tenant, subject);
    await refuseHeld(deps, tenant, indices);
    const [now] = await sql<{ decided: Date }[]>`select clock_timestamp() as decided`;
    const parts = Math.max(1, Math.ceil(indices.length / ERASURE_RECORD_INDICES));
    for (let part = 1; part <= parts; part++) {
      const record: ErasureRecord = {
        erasure: id,
        subject: { kind: 'actor_id' in input.subject ? 'actor' : 'target', hash: subject.hash },
        reason: input.reason,
        decided_at: now!.decided.toISOString(),
        indices: indices.slice((part - 1) * ERASURE_RECORD_INDICES, part * ERASURE_RECORD_INDICES),
        part,
        parts,
      };
      const appended = await deps.audit.record({
        tenant,
        principal: input.principal,
        action: ERASURE_ACTION,
        targets: [{ type: 'erasure', id }],
        metadata: record as unknown as Record<string, unknown>,
        ...(input.context ? { context: input.context } : {}),
      });
      if (appended.status !== 'created') throw new TrailproofError('INTERNAL', `erasure record of ${tenant} not appended (${appended.status})`);
      await removeErased(sql, tenant, appended.seq, subject);
    }
  });
  const erasure = await getErasure(sql, id, tenant);
  if (!erasure) throw new TrailproofError('INTERNAL', `erasure ${id} has no record`);
  return erasure;
}

/** The tenant's erasures, newest first. */
export async function listErasures(sql: Sql, tenant: string): Promise<Erasure[]> {
  return erasures(sql, tenant, null);
}

/** One erasure, if it exists and (with `tenant`) belongs to that tenant. */
export async function getErasure(sql: Sql, id: string, tenant: string | null): Promise<Erasure | undefined> {
  return (await erasures(sql, tenant, id))[0];
}

/** The erasure that erased the tenant's event at `index`, if one did. */
export async function erasedBy(sql: Sql, tenant: string, index: number): Promise<ErasedBy | undefined> {
  const [row] = await sql<{ erasure: string; seq: number; received_at: Date }[]>`
    select body->'metadata'->>'erasure' as erasure, seq, received_at from events
    where tenant_id = ${tenant} and action = ${ERASURE_ACTION} and body->>'source' = 'trailproof'
      and body->'metadata'->'indices' @> to_jsonb(${index}::bigint)
    order by seq limit 1`;
  return row ? { erasure: row.erasure, record: row.seq, erased_at: row.received_at.toISOString() } : undefined;
}

interface SubjectForms {
  kind: 'actor' | 'target';
  /** The subject's keyed hash (erasure key). */
  hash: string;
  /** The ids as events may store them: as sent, and as a keyed-hash redaction rule stored them. */
  ids: string[];
  /** The target type, for a target. */
  type: string | null;
  /** The keyed hashes of those forms, as the archive's key index holds them. */
  archiveHashes: string[];
}

async function subjectForms(deps: ErasureDeps, tenant: string, subject: ErasureSubject): Promise<SubjectForms> {
  const hash = await deps.tenantKeys.hasher(tenant, 'erasure');
  const raw = 'actor_id' in subject ? subject.actor_id : subject.target.id;
  const filter = await deps.redaction.searchable(tenant, 'actor_id' in subject ? { actor: raw } : { targetId: raw });
  const hashed = 'actor_id' in subject ? filter.hashed?.actor : filter.hashed?.targetId;
  const ids = hashed === undefined ? [raw] : [raw, hashed];
  const of = (id: string): ErasureSubject => ('actor_id' in subject ? { actor_id: id } : { target: { type: subject.target.type, id } });
  return {
    kind: 'actor_id' in subject ? 'actor' : 'target',
    hash: subjectHash(hash, subject),
    ids,
    type: 'actor_id' in subject ? null : subject.target.type,
    archiveHashes: ids.map((id) => subjectHash(hash, of(id))),
  };
}

/**
 * Leaf indices of the subject's events, in the database or the archive, and of the service records
 * of reads and exports whose filter named the subject; never lifecycle records.
 */
async function matchingIndices(sql: Sql, tenant: string, subject: SubjectForms): Promise<number[]> {
  const stored =
    subject.kind === 'actor'
      ? sql`select e.seq from events e where e.tenant_id = ${tenant} and e.actor_id = any(${subject.ids}::text[]) and not trailproof_lifecycle_record(e.action)`
      : sql`select t.seq from event_targets t join events e on e.tenant_id = t.tenant_id and e.occurred_at = t.occurred_at and e.seq = t.seq
            where t.tenant_id = ${tenant} and t.target_type = ${subject.type} and t.target_id = any(${subject.ids}::text[])
              and not trailproof_lifecycle_record(e.action)`;
  // A read's filter is stored as an object, or as its JSON text (stats, saved searches).
  const key = subject.kind === 'actor' ? 'actor' : 'targetId';
  const rows = await sql<{ seq: number }[]>`
    select seq from (${stored}) s
    union
    select e.seq from events e
    where e.tenant_id = ${tenant} and e.action like 'audit\_log.%' and e.body->>'source' = 'trailproof'
      and (e.body->'metadata'->'filter'->>${key} = any(${subject.ids}::text[])
           or (jsonb_typeof(e.body->'metadata'->'filter') = 'string' and exists (
                 select 1 from unnest(${subject.ids}::text[]) i
                 where strpos(e.body->'metadata'->>'filter', ${`"${key}":`} || to_jsonb(i)::text) > 0)))
    union
    select k.seq from archive_event_keys k
    where k.tenant_id = ${tenant} and k.subjects && ${subject.archiveHashes}::text[]
      and not exists (
        select 1 from ledger_leaves l join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
        where l.tenant_id = ${tenant} and l.seq = k.seq and trailproof_lifecycle_record(e.action))
    order by seq`;
  return rows.map((r) => Number(r.seq));
}

/**
 * Refuses the erasure when a hold in force covers one of its events: in the database by the hold's
 * own rule (trailproof_event_held), in the archive by the keyed hashes of the hold's actor and
 * target and the leaf's time.
 */
async function refuseHeld(deps: ErasureDeps, tenant: string, indices: number[]): Promise<void> {
  if (indices.length === 0) return;
  const held = new Set(await heldIndices(deps.sql, tenant, indices));
  const hash = await deps.tenantKeys.hasher(tenant, 'erasure');
  for (const hold of await listHolds(deps.sql, tenant, { active: true })) {
    const required = [
      ...(hold.filter.actor !== undefined ? [subjectHash(hash, { actor_id: hold.filter.actor })] : []),
      ...(hold.filter.target !== undefined ? [subjectHash(hash, { target: hold.filter.target })] : []),
    ];
    const since = hold.filter.since ?? null;
    const until = hold.filter.until ?? null;
    const rows = await deps.sql<{ seq: number }[]>`
      select k.seq from archive_event_keys k join ledger_leaves l on l.tenant_id = k.tenant_id and l.seq = k.seq
      where k.tenant_id = ${tenant} and k.seq = any(${indices}::int8[]) and k.subjects @> ${required}::text[]
        and (${since}::timestamptz is null or l.occurred_at >= ${since}::timestamptz)
        and (${until}::timestamptz is null or l.occurred_at < ${until}::timestamptz)`;
    for (const row of rows) held.add(Number(row.seq));
  }
  if (held.size === 0) return;
  const message = `${held.size} of the ${indices.length} events to erase are under a legal hold in force; release it first`;
  throw new TrailproofError('ERASURE_HELD', `the erasure is refused: ${message}`, {
    details: [{ pointer: '/subject', code: 'conflict', message }],
  });
}

/** Removes what the erasure record at `recordSeq` lists, and moves the subject's stats counts to an anonymous row. */
async function removeErased(sql: Sql, tenant: string, recordSeq: number, subject: Pick<SubjectForms, 'kind' | 'ids' | 'type'>): Promise<number> {
  const actors = subject.kind === 'actor' ? subject.ids : [];
  const targets = subject.kind === 'target' ? subject.ids : [];
  const [row] = await sql<{ removed: number }[]>`
    with r as (select trailproof_erase_payloads(${tenant}, ${recordSeq}, ${actors}::text[], ${subject.type}, ${targets}::text[]) as removed)
    select removed, trailproof_erase_target_day_stats(${tenant}, ${recordSeq}, ${actors}::text[], ${subject.type}, ${targets}::text[]) from r`;
  return Number(row!.removed);
}

/**
 * Finishes the removal of erasure records a crash left behind (no payload_removals row yet). The
 * subject's ids are not in the record, so its stats rows are found by their keyed hash.
 */
async function finishPending(deps: ErasureDeps, tenant: string): Promise<void> {
  const { sql } = deps;
  const pending = await sql<{ seq: number; metadata: unknown }[]>`
    select e.seq, e.body->'metadata' as metadata from events e
    where e.tenant_id = ${tenant} and e.action = ${ERASURE_ACTION} and e.body->>'source' = 'trailproof'
      and not exists (select 1 from payload_removals r where r.tenant_id = e.tenant_id and r.record_seq = e.seq)
    order by e.seq`;
  if (pending.length === 0) return;
  const hash = await deps.tenantKeys.hasher(tenant, 'erasure');
  for (const { seq, metadata } of pending) {
    const record = parseErasureRecord(metadata);
    if (!record) throw new TrailproofError('INTERNAL', `the erasure record at index ${seq} of ${tenant} is malformed; not erasing`);
    const forms: Pick<SubjectForms, 'kind' | 'ids' | 'type'> = { kind: record.subject.kind, ids: [], type: null };
    if (record.subject.kind === 'actor') {
      const actors = await sql<{ id: string }[]>`select distinct actor_id as id from stat_rollups where tenant_id = ${tenant}`;
      forms.ids = actors.map((a) => a.id).filter((id) => subjectHash(hash, { actor_id: id }) === record.subject.hash);
    } else {
      const targets = await sql<{ type: string; id: string }[]>`
        select distinct target_type as type, target_id as id from stat_target_rollups where tenant_id = ${tenant}`;
      const found = targets.find((t) => subjectHash(hash, { target: t }) === record.subject.hash);
      if (found) Object.assign(forms, { type: found.type, ids: [found.id] });
    }
    await removeErased(sql, tenant, seq, forms);
  }
}

interface ErasureRow {
  id: string;
  tenant_id: string;
  first: { actor: { id: string }; metadata: ErasureRecord };
  erased_at: Date;
  records: number[];
  events: number;
  removed: number;
}

async function erasures(sql: Sql, tenant: string | null, id: string | null): Promise<Erasure[]> {
  const rows = await sql<ErasureRow[]>`
    select e.body->'metadata'->>'erasure' as id, e.tenant_id,
           (array_agg(e.body order by e.seq))[1] as first,
           min(e.received_at) as erased_at,
           array_agg(e.seq order by e.seq) as records,
           sum(jsonb_array_length(e.body->'metadata'->'indices')) as events,
           count(r.record_seq) as removed
    from events e
    left join payload_removals r on r.tenant_id = e.tenant_id and r.record_seq = e.seq
    where e.action = ${ERASURE_ACTION} and e.body->>'source' = 'trailproof'
      and (${tenant}::text is null or e.tenant_id = ${tenant})
      and (${id}::text is null or e.body->'metadata'->>'erasure' = ${id})
    group by 1, 2
    order by min(e.seq) desc`;
  return rows.map((row) => ({
    id: row.id,
    tenant: row.tenant_id,
    subject: row.first.metadata.subject,
    reason: row.first.metadata.reason,
    decided_at: row.first.metadata.decided_at,
    erased_at: row.erased_at.toISOString(),
    requested_by: row.first.actor.id,
    events: Number(row.events),
    records: row.records.map(Number),
    status: Number(row.removed) === row.records.length ? 'completed' : 'pending',
  }));
}

/** The erasure of the event `uid` (of any tenant: the caller checks the tenant), if it was erased. */
export async function erasedEvent(sql: Sql, uid: string): Promise<({ tenant: string; index: number } & ErasedBy) | undefined> {
  const [leaf] = await sql<{ tenant_id: string; seq: number }[]>`select tenant_id, seq from ledger_leaves where uid = ${uid}`;
  const by = leaf ? await erasedBy(sql, leaf.tenant_id, Number(leaf.seq)) : undefined;
  return by ? { tenant: leaf!.tenant_id, index: Number(leaf!.seq), ...by } : undefined;
}
