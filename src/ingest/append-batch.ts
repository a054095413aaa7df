/**
 * Appends a batch of validated events to their tenants' ledgers in ONE transaction (docs/architecture.md,
 * "The flow"): lock each tenant's head row, resolve idempotency keys, assign contiguous indices,
 * compute leaf hashes, insert events, targets, leaves and tile-level nodes, and move the heads.
 * Nothing is acknowledged before this transaction commits.
 *
 * Speed matters here (it bounds ingest), and so does what happens while a tenant's head is locked,
 * because a tenant's appends serialise on that lock. So the work that does not depend on the index
 * is done before the transaction, by `prepareAppend`: the body's canonical text (which serves the
 * commitment, the duplicate check and storage), the salt and commitment, the uid and the row's JSON
 * text. The group committer prepares a request as it arrives, while the previous transaction is in
 * PostgreSQL. Under the lock remain the envelope hashes, the tree and one statement that carries
 * every row in one JSON parameter (one value to serialise and for PostgreSQL to parse).
 */
import { canonicalBody, commitmentOfCanonical, envelopeText, SALT_SIZE } from '../ledger/envelope.ts';
import { leafHash } from '../ledger/hash.ts';
import { randomBytes } from '../ledger/crypto.ts';
import { appendLeaves } from '../ledger/merkle.ts';
import { TILE_HEIGHT } from '../ledger/tiles.ts';
import type { EventBody } from '../event/types.ts';
import { refusedByDatabase, withReservedConnection, type ReservedSql, type Sql } from '../store/db.ts';
import { uuidv7 } from './uid.ts';

export interface AppendItem {
  tenant: string;
  body: EventBody;
  /**
   * `async`: the item may be committed without waiting for the WAL flush (the service's own read
   * records, when so configured). A transaction skips the wait only if all its items allow it; a
   * later flushed commit makes it durable too, as WAL is flushed in order.
   */
  commit?: 'flush' | 'async';
  /**
   * The body's `occurred_at` is the time of receipt, filled in by the server because the client sent
   * none. A retry of such an event carries a later time, so its idempotency check compares what the
   * client sent: the body with the stored `occurred_at` in place of its own.
   */
  occurredAtFilled?: boolean;
}

export type AppendResult =
  | { status: 'created' | 'duplicate'; uid: string; seq: number; received_at: string }
  | { status: 'conflict'; uid: string; seq: number; received_at: string; fields: string[] }
  | { status: 'tenant_not_found' };

/** An item with everything that does not depend on its place in the tree worked out. */
export interface PreparedItem extends AppendItem {
  uid: string;
  /** RFC 8785 text of the body: what the commitment covers, and what is stored. */
  canonical: string;
  commitmentHex: string;
  /** Idempotency key (tenant + client id), when the event has an id. */
  key: string | undefined;
  /** The row's JSON text after its tenant, index and leaf hash (see insertRows). */
  rowTail: string;
}

interface NewRow {
  item: PreparedItem;
  seq: number;
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
  /** The stored body (undefined when its payload was purged). */
  body: EventBody | undefined;
}

/**
 * Does, for each item, the work that needs no lock: canonical text, salt, commitment, uid and the
 * row's JSON text. Throws EVENT_INVALID for a body with no canonical form (validation prevents it).
 */
export function prepareAppend(items: AppendItem[]): PreparedItem[] {
  const salts = randomBytes(SALT_SIZE * items.length);
  const json = JSON.stringify;
  return items.map((item, n) => {
    const { body } = item;
    const canonical = canonicalBody(body);
    const salt = salts.subarray(n * SALT_SIZE, (n + 1) * SALT_SIZE);
    const commitmentHex = commitmentOfCanonical(salt, Buffer.from(canonical)).toString('hex');
    const uid = uuidv7();
    // One row per distinct target, so a target lookup never returns an event twice.
    const targets = [...new Map(body.targets.map((t) => [`${t.type}\u0000${t.id}`, [t.type, t.id]])).values()];
    const rowTail =
      `"u":"${uid}","o":${json(body.occurred_at)},"c":"${commitmentHex}","i":${json(body.id ?? null)},"a":${json(body.action)},` +
      `"at":${json(body.actor.type)},"ai":${json(body.actor.id)},"oc":${json(body.outcome)},"ip":${json(body.context.ip ?? null)},` +
      `"salt":"${salt.toString('hex')}","tg":${json(targets)},"b":${canonical}}`;
    return { ...item, uid, canonical, commitmentHex, key: body.id === undefined ? undefined : idKey(item.tenant, body.id), rowTail };
  });
}

/** Prepares and appends the items in one transaction. */
export async function appendBatch(sql: Sql, items: AppendItem[]): Promise<AppendResult[]> {
  return appendPrepared(sql, prepareAppend(items));
}

/**
 * Appends prepared items in one transaction; one result per item, in order.
 *
 * Two round trips, not five: BEGIN travels with the head lock's SELECT, and COMMIT with the insert
 * (pipelined on one connection). Each wait for PostgreSQL is also a wait behind whatever else the
 * event loop has queued, so under load every round trip saved shortens the time a tenant's head
 * stays locked. If the insert fails, PostgreSQL answers the pipelined COMMIT by rolling back (the
 * transaction is already aborted), and the error is what this throws: nothing is acknowledged.
 *
 * One round trip for a small append (the service's own read records, single events) whose tenants'
 * heads this process committed last: the insert is computed from those heads and sent with BEGIN,
 * the lock and COMMIT at once, without looking up client ids first. If another process appended
 * since, the statement fails (its leaves collide with that process's, and it refuses to move a head
 * that is not at the size it was computed from); if a client id is already stored (a retry), the
 * unique index on client ids fails it. Nothing of it is then committed, and the append is done again
 * the two-trip way, which looks the ids up and answers duplicate or conflict. A tenant whose attempt
 * was refused is appended the two-trip way for a while (ONE_TRIP_PAUSE_MS): when several processes
 * write it, most attempts would be refused, each wasting an insert.
 */
export async function appendPrepared(sql: Sql, items: PreparedItem[]): Promise<AppendResult[]> {
  const tenants = [...new Set(items.map((i) => i.tenant))].sort();
  const { heads, paused } = writerStateOf(sql);
  const now = performance.now();
  if (items.length <= ONE_TRIP_MAX_ITEMS && tenants.every((t) => heads.has(t) && !((paused.get(t) ?? 0) > now))) {
    try {
      return await appendTransaction(
        sql,
        items,
        tenants,
        tenants.map((t) => heads.get(t)!),
      );
    } catch (err) {
      for (const t of tenants) paused.set(t, now + ONE_TRIP_PAUSE_MS);
      // A head moved by another process, a client id already stored, or an insert refused: the
      // two-trip way then reads heads and ids under the lock, and its error, if any, is the one to
      // report. Anything but a refusal (see refusedByDatabase) may hide a commit: not done again.
      if (!refusedByDatabase(err)) throw err;
    }
  }
  return appendTransaction(sql, items, tenants, undefined);
}

/** Appends at most this many items in one round trip (a refused attempt wastes its insert; retries of stored ids are refused). */
const ONE_TRIP_MAX_ITEMS = 16;

/** How long a tenant whose one-trip attempt was refused is appended the two-trip way. */
const ONE_TRIP_PAUSE_MS = 10_000;

/** Per database, what this process knows for one-trip appends. */
interface WriterState {
  /** Each tenant's ledger head as this process last committed it or read it under the lock. */
  heads: Map<string, HeadRow>;
  /** Tenants whose one-trip attempt was refused, until when (performance.now()). */
  paused: Map<string, number>;
}
const writerStates = new WeakMap<Sql, WriterState>();

function writerStateOf(sql: Sql): WriterState {
  let state = writerStates.get(sql);
  if (!state) writerStates.set(sql, (state = { heads: new Map(), paused: new Map() }));
  return state;
}

/** The transaction; with `assumed` heads, in one round trip (see appendPrepared). */
async function appendTransaction(sql: Sql, items: PreparedItem[], tenants: string[], assumed: HeadRow[] | undefined): Promise<AppendResult[]> {
  const known = writerStateOf(sql).heads;
  // Forgotten until this commits: if it fails, or its outcome is unknown, the next append reads them.
  for (const t of tenants) known.delete(t);
  return withReservedConnection(sql, async (connection) => {
    const begin = connection`begin`;
    if (items.every((i) => i.commit === 'async')) void connection`set local synchronous_commit = off`.catch(() => {});
    // Sorted lock order: two batches that share tenants can never deadlock.
    const heads = connection<HeadRow[]>`
      select tenant_id, size, frontier from ledger_heads where tenant_id = any(${tenants}) order by tenant_id for update`;
    let headRows: HeadRow[];
    let appended: Awaited<ReturnType<typeof appendLocked>>;
    if (assumed) {
      appended = await appendLocked(connection, items, assumed, false);
      const commit = connection`commit`;
      [, headRows] = await Promise.all([begin, heads, appended.write, commit]);
    } else {
      [, headRows] = await Promise.all([begin, heads]);
      appended = await appendLocked(connection, items, headRows, true);
      const commit = connection`commit`;
      await Promise.all([appended.write, commit]);
    }
    for (const head of headRows) known.set(head.tenant_id, head);
    for (const head of appended.heads) known.set(head.tenant, { tenant_id: head.tenant, size: head.size, frontier: head.frontier });
    return appended.results;
  });
}

/**
 * Under the head locks: idempotency, indices, leaf hashes, and the (unawaited) insert. Without
 * `lookUpIds`, client ids are taken to be new (ids repeated within the batch still count as
 * duplicates); a stored one then fails the insert on the unique index.
 */
async function appendLocked(
  tx: ReservedSql,
  items: PreparedItem[],
  headRows: HeadRow[],
  lookUpIds: boolean,
): Promise<{ results: AppendResult[]; write: Promise<unknown>; heads: TreeUpdate['heads'] }> {
  const sizes = new Map(headRows.map((h) => [h.tenant_id, h.size]));
  const existing = lookUpIds ? await existingIds(tx, items) : new Map<string, StoredId>();
  const receivedAt = new Date().toISOString();

  const results: AppendResult[] = [];
  const rows: NewRow[] = [];
  const seenInBatch = new Map<string, NewRow>();
  for (const item of items) {
    const size = sizes.get(item.tenant);
    if (size === undefined) {
      results.push({ status: 'tenant_not_found' });
      continue;
    }
    const { key } = item;
    const prior = key === undefined ? undefined : (existing.get(key) ?? storedIdOf(seenInBatch.get(key), receivedAt));
    if (prior) {
      const differing = differingFields(item, prior);
      const stored = { uid: prior.uid, seq: prior.seq, received_at: prior.received_at };
      results.push(differing.length === 0 ? { status: 'duplicate', ...stored } : { status: 'conflict', ...stored, fields: differing });
      continue;
    }
    sizes.set(item.tenant, size + 1);
    const envelope = envelopeText(item.tenant, size, item.uid, receivedAt, item.commitmentHex);
    const row: NewRow = { item, seq: size, leafHash: leafHash(Buffer.from(envelope)) };
    rows.push(row);
    if (key !== undefined) seenInBatch.set(key, row);
    results.push({ status: 'created', uid: item.uid, seq: size, received_at: receivedAt });
  }
  const tree = advanceHeads(rows, headRows);
  const write = rows.length > 0 ? insertRows(tx, rows, receivedAt, tree) : Promise.resolve();
  return { results, write, heads: tree.heads };
}

/** Client ids already stored for these tenants, with the canonical form of the stored body. */
async function existingIds(tx: ReservedSql, items: PreparedItem[]): Promise<Map<string, StoredId>> {
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
    const body = r.body ?? undefined;
    found.set(idKey(r.tenant_id, r.client_id), { uid: r.uid, seq: r.seq, received_at: r.received_at.toISOString(), canonical, body });
  }
  return found;
}

interface TreeUpdate {
  nodes: { tenant: string; level: number; idx: number; hash: Buffer }[];
  /** Each tenant's new head, and the size it grows from. */
  heads: { tenant: string; from: number; size: number; root: Buffer; frontier: Buffer[] }[];
}

/** Extends each tenant's tree with its new leaves: the tile-level nodes to store and the new heads. */
function advanceHeads(rows: NewRow[], headRows: HeadRow[]): TreeUpdate {
  const update: TreeUpdate = { nodes: [], heads: [] };
  for (const head of headRows) {
    const leaves = rows.filter((r) => r.item.tenant === head.tenant_id).map((r) => r.leafHash);
    if (leaves.length === 0) continue;
    const next = appendLeaves(head.size, head.frontier, leaves);
    for (const n of next.nodes) {
      if (n.level % TILE_HEIGHT === 0) update.nodes.push({ tenant: head.tenant_id, level: n.level, idx: n.index, hash: n.hash });
    }
    update.heads.push({ tenant: head.tenant_id, from: head.size, size: next.size, root: next.root, frontier: next.frontier });
  }
  return update;
}

/** One statement: events, targets, leaves, tile nodes and heads, all from JSON parameters. */
function insertRows(tx: ReservedSql, rows: NewRow[], receivedAt: string, tree: TreeUpdate): Promise<unknown> {
  const json = (value: unknown) => JSON.stringify(value);
  let events = '[';
  for (const [n, r] of rows.entries()) {
    events += `${n === 0 ? '' : ','}{"t":${json(r.item.tenant)},"s":${r.seq},"h":"${r.leafHash.toString('hex')}",${r.item.rowTail}`;
  }
  events += ']';
  const nodes = json(tree.nodes.map((n) => ({ t: n.tenant, l: n.level, i: n.idx, h: n.hash.toString('hex') })));
  const heads = json(
    tree.heads.map((h) => ({ t: h.tenant, from: h.from, size: h.size, root: h.root.toString('hex'), frontier: h.frontier.map((f) => f.toString('hex')) })),
  );
  return tx`
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
    from jsonb_to_recordset(${heads}::text::jsonb) as n(t text, "from" int8, size int8, root text, frontier jsonb)
    -- A head not at the size the rows were numbered from fails the statement, and so the transaction
    -- (the cast of a non-constant text, so that it is evaluated only for such a row).
    where head.tenant_id = n.t and (case when head.size = n."from" then true else (n.t || ': the ledger head moved')::boolean end)`;
}

/** A row appended earlier in the same batch, as an idempotency match. */
function storedIdOf(row: NewRow | undefined, receivedAt: string): StoredId | undefined {
  return row && { uid: row.item.uid, seq: row.seq, received_at: receivedAt, canonical: row.item.canonical, body: row.item.body };
}

/**
 * The top-level fields in which a replayed item differs from the stored event with its id, compared
 * as the client sent them: a server-filled `occurred_at` counts as the stored one. Empty for a
 * duplicate, and for a stored event whose payload was purged (a replay is then most likely one).
 */
function differingFields(item: PreparedItem, prior: StoredId): string[] {
  if (prior.canonical === '' || prior.body === undefined || prior.canonical === item.canonical) return [];
  const sent: EventBody = item.occurredAtFilled ? { ...item.body, occurred_at: prior.body.occurred_at } : item.body;
  if (item.occurredAtFilled && canonicalBody(sent) === prior.canonical) return [];
  const stored = prior.body as unknown as Record<string, unknown>;
  const replayed = sent as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(stored), ...Object.keys(replayed)])];
  return keys.filter((k) => canonicalBody(stored[k] ?? null) !== canonicalBody(replayed[k] ?? null));
}

function idKey(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}
