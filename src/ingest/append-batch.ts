/**
 * Appends a batch of validated events to their tenants' ledgers in ONE transaction (DESIGN.md,
 * "Sequencing"): lock each tenant's head row, resolve idempotency keys, assign contiguous indices,
 * compute salted commitments and leaf hashes, insert events, targets, leaves and tile-level nodes,
 * and move the heads. Nothing is acknowledged before this transaction commits.
 *
 * Speed matters here (it bounds ingest): each body is canonicalised once and that text serves the
 * commitment, the duplicate check and storage; randomness is drawn once per batch; and every row
 * travels to PostgreSQL in one JSON parameter of one statement, which costs far less to serialise
 * than a dozen escaped text arrays.
 */
import { canonicalBody, commitmentOfCanonical, eventLeafHash, SALT_SIZE } from '../ledger/envelope.ts';
import { randomBytes } from '../ledger/crypto.ts';
import { appendLeaves } from '../ledger/merkle.ts';
import { TILE_HEIGHT } from '../ledger/tiles.ts';
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

interface NewRow {
  tenant: string;
  seq: number;
  uid: string;
  body: EventBody;
  /** RFC 8785 text of the body: what the commitment covers. */
  canonical: string;
  salt: Buffer;
  commitment: Buffer;
  leafHash: Buffer;
}

interface HeadRow {
  tenant_id: string;
  size: number;
  frontier: Buffer[];
}

interface StoredId {
  uid: string;
  seq: number;
  received_at: string;
  /** Canonical text of the stored body ('' when its payload was purged). */
  canonical: string;
}

export async function appendBatch(sql: Sql, items: AppendItem[]): Promise<AppendResult[]> {
  return sql.begin((tx) => appendInTransaction(tx, items));
}

async function appendInTransaction(tx: TxSql, items: AppendItem[]): Promise<AppendResult[]> {
  const tenants = [...new Set(items.map((i) => i.tenant))].sort();
  // Sorted lock order: two batches that share tenants can never deadlock.
  const headRows = await tx<HeadRow[]>`
    select tenant_id, size, frontier from ledger_heads where tenant_id = any(${tenants}) order by tenant_id for update`;
  const sizes = new Map(headRows.map((h) => [h.tenant_id, h.size]));
  const existing = await existingIds(tx, items);
  const receivedAt = new Date().toISOString();
  const salts = randomBytes(SALT_SIZE * items.length);

  const results: AppendResult[] = [];
  const rows: NewRow[] = [];
  const seenInBatch = new Map<string, NewRow>();
  for (const [n, item] of items.entries()) {
    const size = sizes.get(item.tenant);
    if (size === undefined) {
      results.push({ status: 'tenant_not_found' });
      continue;
    }
    const canonical = canonicalBody(item.body);
    const key = item.body.id === undefined ? undefined : idKey(item.tenant, item.body.id);
    const prior = key === undefined ? undefined : (existing.get(key) ?? storedIdOf(seenInBatch.get(key), receivedAt));
    if (prior) {
      results.push({ status: prior.canonical === canonical ? 'duplicate' : 'conflict', uid: prior.uid, seq: prior.seq, received_at: prior.received_at });
      continue;
    }
    sizes.set(item.tenant, size + 1);
    const salt = salts.subarray(n * SALT_SIZE, (n + 1) * SALT_SIZE);
    const row: NewRow = { tenant: item.tenant, seq: size, uid: uuidv7(), body: item.body, canonical, salt, commitment: commitmentOfCanonical(salt, Buffer.from(canonical)), leafHash: Buffer.alloc(0) };
    row.leafHash = eventLeafHash({ tenant: row.tenant, index: row.seq, uid: row.uid, received_at: receivedAt, commitment: row.commitment });
    rows.push(row);
    if (key !== undefined) seenInBatch.set(key, row);
    results.push({ status: 'created', uid: row.uid, seq: row.seq, received_at: receivedAt });
  }
  if (rows.length > 0) await insertRows(tx, rows, receivedAt, advanceHeads(rows, headRows));
  return results;
}

/** Client ids already stored for these tenants, with the canonical form of the stored body. */
async function existingIds(tx: TxSql, items: AppendItem[]): Promise<Map<string, StoredId>> {
  const withId = items.filter((i) => i.body.id !== undefined);
  const found = new Map<string, StoredId>();
  if (withId.length === 0) return found;
  const rows = await tx<{ tenant_id: string; client_id: string; uid: string; seq: number; received_at: Date; body: EventBody | null }[]>`
    select l.tenant_id, l.client_id, l.uid, l.seq, l.received_at, e.body
    from unnest(${withId.map((i) => i.tenant)}::text[], ${withId.map((i) => i.body.id!)}::text[]) as k(tenant_id, client_id)
    join ledger_leaves l on l.tenant_id = k.tenant_id and l.client_id = k.client_id
    left join events e on e.tenant_id = l.tenant_id and e.seq = l.seq and e.occurred_at = l.occurred_at`;
  for (const r of rows) {
    // A purged payload (retention) cannot be compared: treat a replay as the duplicate it most likely is.
    const canonical = r.body === null ? '' : canonicalBody(r.body);
    found.set(idKey(r.tenant_id, r.client_id), { uid: r.uid, seq: r.seq, received_at: r.received_at.toISOString(), canonical });
  }
  return found;
}

interface TreeUpdate {
  nodes: { tenant: string; level: number; idx: number; hash: Buffer }[];
  heads: { tenant: string; size: number; root: Buffer; frontier: Buffer[] }[];
}

/** Extends each tenant's tree with its new leaves: the tile-level nodes to store and the new heads. */
function advanceHeads(rows: NewRow[], headRows: HeadRow[]): TreeUpdate {
  const update: TreeUpdate = { nodes: [], heads: [] };
  for (const head of headRows) {
    const leaves = rows.filter((r) => r.tenant === head.tenant_id).map((r) => r.leafHash);
    if (leaves.length === 0) continue;
    const next = appendLeaves(head.size, head.frontier, leaves);
    for (const n of next.nodes) {
      if (n.level % TILE_HEIGHT === 0) update.nodes.push({ tenant: head.tenant_id, level: n.level, idx: n.index, hash: n.hash });
    }
    update.heads.push({ tenant: head.tenant_id, size: next.size, root: next.root, frontier: next.frontier });
  }
  return update;
}

/**
 * One statement: events, targets (one row per distinct target of an event, so a target lookup
 * never returns an event twice), leaves, tile nodes and heads, all from JSON parameters.
 */
async function insertRows(tx: TxSql, rows: NewRow[], receivedAt: string, tree: TreeUpdate): Promise<void> {
  const json = (value: unknown) => JSON.stringify(value);
  let events = '[';
  for (const [n, r] of rows.entries()) {
    const { body } = r;
    const targets = [...new Map(body.targets.map((t) => [`${t.type}\u0000${t.id}`, [t.type, t.id]])).values()];
    events += `${n === 0 ? '' : ','}{"t":${json(r.tenant)},"s":${r.seq},"u":"${r.uid}","o":${json(body.occurred_at)},"c":"${r.commitment.toString('hex')}",`
      + `"h":"${r.leafHash.toString('hex')}","i":${json(body.id ?? null)},"a":${json(body.action)},"at":${json(body.actor.type)},`
      + `"ai":${json(body.actor.id)},"oc":${json(body.outcome)},"ip":${json(body.context.ip ?? null)},"salt":"${r.salt.toString('hex')}",`
      + `"tg":${json(targets)},"b":${r.canonical}}`;
  }
  events += ']';
  const nodes = json(tree.nodes.map((n) => ({ t: n.tenant, l: n.level, i: n.idx, h: n.hash.toString('hex') })));
  const heads = json(tree.heads.map((h) => ({ t: h.tenant, size: h.size, root: h.root.toString('hex'), frontier: h.frontier.map((f) => f.toString('hex')) })));
  await tx`
    with x as (
      select * from jsonb_to_recordset(${events}::text::jsonb) as x(t text, s int8, u uuid, o timestamptz, c text, h text, i text,
        a text, at text, ai text, oc text, ip inet, salt text, tg jsonb, b jsonb)
    ), leaves as (
      insert into ledger_leaves (tenant_id, seq, uid, received_at, commitment, leaf_hash, client_id, occurred_at)
      select t, s, u, ${receivedAt}::timestamptz, decode(c, 'hex'), decode(h, 'hex'), i, o from x
    ), events as (
      insert into events (tenant_id, seq, uid, occurred_at, received_at, action, actor_type, actor_id, outcome, ip, body, salt)
      select t, s, u, o, ${receivedAt}::timestamptz, a, at, ai, oc, ip, b, decode(salt, 'hex') from x
    ), targets as (
      insert into event_targets (tenant_id, target_type, target_id, occurred_at, seq)
      select x.t, e.pair->>0, e.pair->>1, x.o, x.s from x cross join jsonb_array_elements(x.tg) as e(pair)
    ), nodes as (
      insert into ledger_nodes (tenant_id, level, idx, hash)
      select t, l, i, decode(h, 'hex') from jsonb_to_recordset(${nodes}::text::jsonb) as n(t text, l int2, i int8, h text)
    )
    update ledger_heads as head set size = n.size, root = decode(n.root, 'hex'), updated_at = now(),
      frontier = (select coalesce(array_agg(decode(f, 'hex') order by k), '{}') from jsonb_array_elements_text(n.frontier) with ordinality as f(f, k))
    from jsonb_to_recordset(${heads}::text::jsonb) as n(t text, size int8, root text, frontier jsonb)
    where head.tenant_id = n.t`;
}

/** A row appended earlier in the same batch, as an idempotency match. */
function storedIdOf(row: NewRow | undefined, receivedAt: string): StoredId | undefined {
  return row && { uid: row.uid, seq: row.seq, received_at: receivedAt, canonical: row.canonical };
}

function idKey(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}
