/**
 * Appends a batch of validated events to their tenants' ledgers in ONE transaction (DESIGN.md,
 * "Sequencing"): lock each tenant's head row, resolve idempotency keys, assign contiguous indices,
 * compute salted commitments and leaf hashes, insert events, targets, leaves and tile-level nodes,
 * and move the heads. Nothing is acknowledged before this transaction commits.
 */
import canonicalize from 'canonicalize';
import { commitment, eventLeafHash, newSalt } from '../ledger/envelope.ts';
import { appendLeaves } from '../ledger/merkle.ts';
import type { EventBody } from '../event/types.ts';
import type { Sql, TxSql } from '../store/db.ts';
import { uuidv7 } from './uid.ts';

export interface AppendItem {
  tenant: string;
  body: EventBody;
}

export type AppendResult =
  | { status: 'created' | 'duplicate'; uid: string; seq: number; received_at: string }
  | { status: 'conflict'; uid: string; seq: number; received_at: string }
  | { status: 'tenant_not_found' };

/** Levels of the tree whose complete-subtree hashes are stored (C2SP tlog-tiles: tile height 8). */
const TILE_HEIGHT = 8;

interface NewRow {
  tenant: string;
  seq: number;
  uid: string;
  body: EventBody;
  salt: Buffer;
  commitment: Buffer;
  leafHash: Buffer;
}

interface Head {
  size: number;
  frontier: Buffer[];
}

export async function appendBatch(sql: Sql, items: AppendItem[]): Promise<AppendResult[]> {
  return sql.begin((tx) => appendInTransaction(tx, items));
}

async function appendInTransaction(tx: TxSql, items: AppendItem[]): Promise<AppendResult[]> {
  const tenants = [...new Set(items.map((i) => i.tenant))].sort();
  // Sorted lock order: two batches that share tenants can never deadlock.
  const headRows = await tx<{ tenant_id: string; size: number; frontier: Buffer[] }[]>`
    select tenant_id, size, frontier from ledger_heads where tenant_id = any(${tenants}) order by tenant_id for update`;
  const heads = new Map<string, Head>(headRows.map((h) => [h.tenant_id, { size: h.size, frontier: h.frontier }]));
  const existing = await existingIds(tx, items);
  const receivedAt = new Date().toISOString();

  const results: AppendResult[] = [];
  const rows: NewRow[] = [];
  const seenInBatch = new Map<string, { row: NewRow; jcs: string }>();
  for (const item of items) {
    const head = heads.get(item.tenant);
    if (!head) {
      results.push({ status: 'tenant_not_found' });
      continue;
    }
    const key = item.body.id === undefined ? undefined : idKey(item.tenant, item.body.id);
    if (key !== undefined) {
      const prior = existing.get(key) ?? seenInBatch.get(key);
      if (prior) {
        const same = prior.jcs === canonicalize(item.body);
        const ref = 'row' in prior ? { uid: prior.row.uid, seq: prior.row.seq, received_at: receivedAt } : prior;
        results.push({ status: same ? 'duplicate' : 'conflict', uid: ref.uid, seq: ref.seq, received_at: ref.received_at });
        continue;
      }
    }
    const salt = newSalt();
    const row: NewRow = { tenant: item.tenant, seq: head.size++, uid: uuidv7(), body: item.body, salt, commitment: commitment(salt, item.body), leafHash: Buffer.alloc(0) };
    row.leafHash = eventLeafHash({ tenant: row.tenant, index: row.seq, uid: row.uid, received_at: receivedAt, commitment: row.commitment });
    rows.push(row);
    if (key !== undefined) seenInBatch.set(key, { row, jcs: canonicalize(item.body)! });
    results.push({ status: 'created', uid: row.uid, seq: row.seq, received_at: receivedAt });
  }
  if (rows.length === 0) return results;

  await insertEvents(tx, rows, receivedAt);
  await advanceHeads(tx, rows, headRows);
  return results;
}

/** Client ids already stored for these tenants, with the canonical form of the stored body. */
async function existingIds(tx: TxSql, items: AppendItem[]): Promise<Map<string, { uid: string; seq: number; received_at: string; jcs: string }>> {
  const withId = items.filter((i) => i.body.id !== undefined);
  const found = new Map<string, { uid: string; seq: number; received_at: string; jcs: string }>();
  if (withId.length === 0) return found;
  const rows = await tx<{ tenant_id: string; client_id: string; uid: string; seq: number; received_at: Date; body: EventBody | null }[]>`
    select l.tenant_id, l.client_id, l.uid, l.seq, l.received_at, e.body
    from unnest(${withId.map((i) => i.tenant)}::text[], ${withId.map((i) => i.body.id!)}::text[]) as k(tenant_id, client_id)
    join ledger_leaves l on l.tenant_id = k.tenant_id and l.client_id = k.client_id
    left join events e on e.tenant_id = l.tenant_id and e.seq = l.seq and e.occurred_at = l.occurred_at`;
  for (const r of rows) {
    // A purged payload (retention) cannot be compared: treat a replay as the duplicate it most likely is.
    const jcs = r.body === null ? '' : canonicalize(r.body)!;
    found.set(idKey(r.tenant_id, r.client_id), { uid: r.uid, seq: r.seq, received_at: r.received_at.toISOString(), jcs });
  }
  return found;
}

async function insertEvents(tx: TxSql, rows: NewRow[], receivedAt: string): Promise<void> {
  const col = <T>(f: (r: NewRow) => T) => rows.map(f);
  await tx`
    insert into ledger_leaves (tenant_id, seq, uid, received_at, commitment, leaf_hash, client_id, occurred_at)
    select t, s, u, ${receivedAt}::timestamptz, decode(c, 'hex'), decode(h, 'hex'), i, o
    from unnest(${col((r) => r.tenant)}::text[], ${col((r) => r.seq)}::int8[], ${col((r) => r.uid)}::uuid[],
                ${col((r) => r.commitment.toString('hex'))}::text[], ${col((r) => r.leafHash.toString('hex'))}::text[],
                ${col((r) => r.body.id ?? null)}::text[], ${col((r) => r.body.occurred_at)}::timestamptz[]) as x(t, s, u, c, h, i, o)`;
  await tx`
    insert into events (tenant_id, seq, uid, occurred_at, received_at, action, actor_type, actor_id, outcome, ip, body, salt)
    select t, s, u, o, ${receivedAt}::timestamptz, a, at, ai, oc, ip, b::jsonb, decode(salt, 'hex')
    from unnest(${col((r) => r.tenant)}::text[], ${col((r) => r.seq)}::int8[], ${col((r) => r.uid)}::uuid[],
                ${col((r) => r.body.occurred_at)}::timestamptz[], ${col((r) => r.body.action)}::text[],
                ${col((r) => r.body.actor.type)}::text[], ${col((r) => r.body.actor.id)}::text[],
                ${col((r) => r.body.outcome)}::text[], ${col((r) => r.body.context.ip ?? null)}::inet[],
                ${col((r) => JSON.stringify(r.body))}::text[], ${col((r) => r.salt.toString('hex'))}::text[])
         as x(t, s, u, o, a, at, ai, oc, ip, b, salt)`;
  // One row per distinct target of an event, so a target lookup never returns an event twice.
  const targets = rows.flatMap((r) =>
    [...new Map(r.body.targets.map((t) => [`${t.type}\u0000${t.id}`, t])).values()].map((t) => [r.tenant, t.type, t.id, r.body.occurred_at, r.seq] as const),
  );
  if (targets.length > 0) {
    await tx`
      insert into event_targets (tenant_id, target_type, target_id, occurred_at, seq)
      select * from unnest(${targets.map((t) => t[0])}::text[], ${targets.map((t) => t[1])}::text[], ${targets.map((t) => t[2])}::text[],
                           ${targets.map((t) => t[3])}::timestamptz[], ${targets.map((t) => t[4])}::int8[])`;
  }
}

/** Extends each tenant's tree with its new leaves, stores tile-level nodes and moves the head. */
async function advanceHeads(tx: TxSql, rows: NewRow[], headRows: { tenant_id: string; size: number; frontier: Buffer[] }[]): Promise<void> {
  const nodes: { tenant: string; level: number; idx: number; hash: Buffer }[] = [];
  const updates: { tenant: string; size: number; root: Buffer; frontier: Buffer[] }[] = [];
  for (const head of headRows) {
    const leaves = rows.filter((r) => r.tenant === head.tenant_id).map((r) => r.leafHash);
    if (leaves.length === 0) continue;
    const next = appendLeaves(head.size, head.frontier, leaves);
    for (const n of next.nodes) if (n.level % TILE_HEIGHT === 0) nodes.push({ tenant: head.tenant_id, level: n.level, idx: n.index, hash: n.hash });
    updates.push({ tenant: head.tenant_id, size: next.size, root: next.root, frontier: next.frontier });
  }
  if (nodes.length > 0) {
    await tx`
      insert into ledger_nodes (tenant_id, level, idx, hash)
      select t, l, i, decode(h, 'hex') from unnest(${nodes.map((n) => n.tenant)}::text[], ${nodes.map((n) => n.level)}::int2[],
        ${nodes.map((n) => n.idx)}::int8[], ${nodes.map((n) => n.hash.toString('hex'))}::text[]) as x(t, l, i, h)`;
  }
  for (const u of updates) {
    const frontier = u.frontier.map((h) => h.toString('hex'));
    await tx`
      update ledger_heads set size = ${u.size}, root = ${u.root}, updated_at = now(),
        frontier = coalesce((select array_agg(decode(f, 'hex') order by n) from unnest(${frontier}::text[]) with ordinality as x(f, n)), '{}')
      where tenant_id = ${u.tenant}`;
  }
}

function idKey(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}
