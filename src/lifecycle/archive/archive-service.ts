/**
 * The cold archive (docs/lifecycle.md#cold-archive): writes a tenant's leaves [from, to) to the
 * archive store as segments with manifests, records them, and reads them back (list, download,
 * one archived event with its payload opened and its inclusion proof). A lifecycle run archives a
 * range before it purges it; archiving a range again is harmless (same names, same bytes).
 */
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { TrailproofError } from '../../errors.ts';
import type { BundleCheckpoint } from '../../export/bundle-format.ts';
import { ENVELOPE_VERSION, envelopeText } from '../../ledger/envelope.ts';
import { leafHash } from '../../ledger/hash.ts';
import { canonicalJson } from '../../ledger/jcs.ts';
import { formatTlogProof } from '../../ledger/proof-text.ts';
import { nodeHashes, type HashReader } from '../../ledger/proofs.ts';
import { ledgerRange, rangeEvents } from '../../query/ledger-range.ts';
import type { Sql } from '../../store/db.ts';
import type { TenantKeys } from '../../tenant/tenant-keys.ts';
import type { Checkpointer } from '../../tlog/checkpointer.ts';
import type { LedgerKeys } from '../../tlog/keys.ts';
import { withCosignatures } from '../../witness/cosigned-note.ts';
import { eventSubjectHashes } from '../erasure-subject.ts';
import type { Archiver } from '../purge.ts';
import { policyOf } from '../retention-policy.ts';
import type { ArchiveStore } from './archive-store.ts';
import {
  leafText,
  MANIFEST_EXTENSION,
  SEGMENT_EXTENSION,
  SEGMENT_FORMAT,
  SEGMENT_VERSION,
  seal,
  segmentBase,
  unseal,
  type SealedPayload,
  type SegmentHeader,
  type SegmentLeaf,
  type SegmentManifest,
} from './segment-format.ts';
import { SegmentBytes } from './segment-bytes.ts';
import { inclusionFromSegment, segmentProofRanges } from './segment-proof.ts';
import { verifySegment, type SegmentReport } from './segment-verify.ts';

/** Most leaves in one segment: bounds the memory of writing and reading one. */
export const SEGMENT_MAX_LEAVES = 50_000;
/**
 * Leaves read, keyed and sealed per batch. Requests served beside an archive wait behind each
 * batch's work (its rows arriving, its key insert, its slices of sealing): small batches keep
 * those waits short, for a little more overhead per leaf.
 */
const BATCH = 500;
/** Leaves sealed between turns to the event loop: short enough not to hold up requests. */
const YIELD_EVERY = 200;
const DAY_MS = 86_400_000;

export interface ArchiveDeps {
  sql: Sql;
  store: ArchiveStore;
  tenantKeys: TenantKeys;
  ledgerKeys: LedgerKeys;
  checkpointer: Pick<Checkpointer, 'issue'>;
  hashReader(tenant: string): HashReader;
  /**
   * TRAILPROOF_DEFAULT_RETENTION_DAYS. With it, a segment written for a purge is kept (S3 Object
   * Lock, where the bucket has it) until the tenant's `days` have run out for its latest event.
   * Default: no retention date.
   */
  defaultDays?: number;
}

export interface ArchivedSegment {
  tenant: string;
  from: number;
  to: number;
  name: string;
  sha256: string;
  bytes: number;
  checkpoint_size: number;
  created_at: string;
  /** The period it holds: when its first and last events were received (null if the leaf is unknown). */
  first_received_at: string | null;
  last_received_at: string | null;
}

/** One archived event: the leaf's envelope in clear and its payload opened where its key remains. */
export interface ArchivedEventLine {
  tenant: string;
  /** The segment object holding it. */
  segment: string;
  envelope: { v: number; tenant: string; index: number; uid: string; received_at: string; commitment: string };
  /** The event as committed, and its salt (hex); null when erased or gone before it was archived. */
  event: unknown;
  salt: string | null;
  /** The payload was archived, and its key has since been destroyed (erasure). */
  erased: boolean;
}

/** An archived event with its inclusion proof: the JSON of GET /v1/events/{uid}/proof, so `trailproof verify-proof` checks it. */
export interface ArchivedEvent extends ArchivedEventLine {
  leaf_index: number;
  /** The segment's checkpoint note with its witness cosignatures. */
  checkpoint: string;
  /** The c2sp.org/tlog-proof text. */
  proof: string;
}

interface LeafRow {
  seq: number;
  uid: string;
  received_at: Date;
  commitment: Buffer;
  body: { actor: { id: string }; targets: { type: string; id: string }[] } | null;
  salt: Buffer | null;
}

export class ArchiveService implements Archiver {
  constructor(private readonly deps: ArchiveDeps) {}

  /**
   * The lifecycle's Archiver (purge.ts): archives the range before its purge. Names the segments
   * by the SHA-256 of their bytes, comma-separated in index order (a range longer than
   * SEGMENT_MAX_LEAVES gets several). Throws (nothing is purged) when the store is unavailable.
   */
  async archive(tenant: string, [from, to]: [number, number], progress?: (done: number) => void): Promise<{ segment: string }> {
    const retainUntil = await this.retainUntil(tenant, to);
    const manifests = await this.archiveRange(tenant, from, to, { ...(retainUntil ? { retainUntil } : {}), ...(progress ? { progress } : {}) });
    return { segment: manifests.map((m) => m.sha256).join(',') };
  }

  get location(): string {
    return this.deps.store.location;
  }

  /** Releases the store's connections. */
  async close(): Promise<void> {
    await this.deps.store.close?.();
  }

  /**
   * Archives leaves [from, to) of the tenant as segments of at most SEGMENT_MAX_LEAVES; returns their
   * manifests. `progress` hears how many of the range's leaves are sealed, after each batch.
   */
  async archiveRange(
    tenant: string,
    from: number,
    to: number,
    options: { retainUntil?: Date; progress?: (done: number) => void } = {},
  ): Promise<SegmentManifest[]> {
    const manifests: SegmentManifest[] = [];
    const sealed = (end: number) => options.progress?.(end - from);
    for (let start = from; start < to; start += SEGMENT_MAX_LEAVES) {
      manifests.push(await this.archiveSegment(tenant, start, Math.min(to, start + SEGMENT_MAX_LEAVES), { ...options, sealed }));
    }
    return manifests;
  }

  async list(tenant: string): Promise<ArchivedSegment[]> {
    type Row = Pick<ArchivedSegment, 'name' | 'bytes' | 'checkpoint_size'> & {
      from_seq: number;
      to_seq: number;
      sha256: Buffer;
      created_at: Date;
      first_received_at: Date | null;
      last_received_at: Date | null;
    };
    const rows = await this.deps.sql<Row[]>`
      select s.from_seq, s.to_seq, s.name, s.sha256, s.bytes, s.checkpoint_size, s.created_at,
        f.received_at as first_received_at, l.received_at as last_received_at
      from archive_segments s
      left join ledger_leaves f on f.tenant_id = s.tenant_id and f.seq = s.from_seq
      left join ledger_leaves l on l.tenant_id = s.tenant_id and l.seq = s.to_seq - 1
      where s.tenant_id = ${tenant} order by s.from_seq`;
    return rows.map((r) => ({
      tenant,
      from: r.from_seq,
      to: r.to_seq,
      name: r.name,
      sha256: r.sha256.toString('hex'),
      bytes: r.bytes,
      checkpoint_size: r.checkpoint_size,
      created_at: r.created_at.toISOString(),
      first_received_at: r.first_received_at?.toISOString() ?? null,
      last_received_at: r.last_received_at?.toISOString() ?? null,
    }));
  }

  /** The recorded segment holding leaf `seq`, if any. */
  async segmentOf(tenant: string, seq: number): Promise<ArchivedSegment | undefined> {
    return (await this.list(tenant)).find((s) => s.from <= seq && seq < s.to);
  }

  /** A recorded segment's bytes (and manifest), checked against the recorded digest. */
  async read(segment: ArchivedSegment): Promise<{ bytes: Buffer; manifest: SegmentManifest }> {
    const [bytes, manifestBytes] = await Promise.all([this.deps.store.get(segment.name), this.deps.store.get(manifestName(segment.name))]);
    if (!bytes || !manifestBytes)
      throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `${this.location}${segment.name} (or its manifest) is missing from the archive`);
    if (createHash('sha256').update(bytes).digest('hex') !== segment.sha256)
      throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `${this.location}${segment.name} is not the segment that was archived (its SHA-256 differs)`);
    return { bytes, manifest: JSON.parse(manifestBytes.toString('utf8')) as SegmentManifest };
  }

  /** Verifies a recorded segment in full: its tree against the checkpoint and every payload that still opens against its commitment. */
  async verify(segment: ArchivedSegment): Promise<SegmentReport> {
    const { bytes, manifest } = await this.read(segment);
    return verifySegment(bytes, { keys: this.deps.ledgerKeys.verifierKeysFor(segment.tenant), manifest, openPayload: await this.openerFor(segment) });
  }

  /** Opens the sealed payloads of a recorded segment's leaves whose keys remain (not erased). */
  openerFor(segment: ArchivedSegment): Promise<(leaf: SegmentLeaf) => SealedPayload | undefined> {
    return this.payloadOpener(segment.tenant, segment.from, segment.to);
  }

  /** One archived leaf with its payload opened (null when erased), and the segment's checkpoint. */
  async archivedLeaf(tenant: string, seq: number): Promise<{ leaf: SegmentLeaf; payload: SealedPayload | null; checkpoint: BundleCheckpoint } | undefined> {
    const segment = await this.segmentOf(tenant, seq);
    if (!segment) return undefined;
    const { bytes } = await this.read(segment);
    const { header, leaves } = parseSegment(bytes);
    const leaf = leaves[seq - header.from];
    if (!leaf || leaf.index !== seq) throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `${segment.name} does not hold leaf ${seq}`);
    const open = await this.payloadOpener(tenant, seq, seq + 1);
    const payload = leaf.sealed === null ? null : (open(leaf) ?? null);
    return { leaf, payload, checkpoint: header.checkpoint };
  }

  /**
   * An archived event as GET /v1/events/{uid}/proof gives a live one: its envelope, its payload
   * opened (null when erased or already gone when archived), and its inclusion proof in the
   * segment's checkpoint, computed from the segment alone. Undefined when no segment holds `seq`.
   */
  async archivedEvent(tenant: string, seq: number): Promise<ArchivedEvent | undefined> {
    const segment = await this.segmentOf(tenant, seq);
    if (!segment) return undefined;
    const { header, leaves } = parseSegment((await this.read(segment)).bytes);
    const leaf = leaves[seq - header.from];
    if (!leaf || leaf.index !== seq || leaves.length !== header.to - header.from)
      throw new TrailproofError('ARCHIVE_SEGMENT_INVALID', `${segment.name} does not hold leaf ${seq}`);
    const hashes = leaves.map((l) => leafHash(Buffer.from(envelopeText(tenant, l.index, l.uid, l.received_at, l.commitment))));
    const proof = inclusionFromSegment(
      header.from,
      header.to,
      segment.checkpoint_size,
      hashes,
      header.proof.map((h) => Buffer.from(h, 'hex')),
      seq,
    );
    const checkpoint = withCosignatures(header.checkpoint.note, header.checkpoint.cosignatures);
    const open = await this.payloadOpener(tenant, seq, seq + 1);
    return {
      ...openedEvent(tenant, segment.name, leaf, open),
      leaf_index: seq,
      checkpoint,
      proof: formatTlogProof({ index: seq, proof, checkpoint }),
    };
  }

  /** The archived events of leaves [from, to), in index order, their payloads opened; leaves in no segment are skipped. */
  async *exportRange(tenant: string, from: number, to: number): AsyncGenerator<ArchivedEventLine> {
    for (const segment of await this.list(tenant)) {
      if (segment.to <= from || segment.from >= to) continue;
      const { leaves } = parseSegment((await this.read(segment)).bytes);
      const start = Math.max(from, segment.from);
      const end = Math.min(to, segment.to);
      const open = await this.payloadOpener(tenant, start, end);
      for (const leaf of leaves.slice(start - segment.from, end - segment.from)) yield openedEvent(tenant, segment.name, leaf, open);
    }
  }

  private async archiveSegment(
    tenant: string,
    from: number,
    to: number,
    options: { retainUntil?: Date; sealed: (end: number) => void },
  ): Promise<SegmentManifest> {
    const { sql, store } = this.deps;
    const base = segmentBase(tenant, from, to);
    const name = `${base}.${SEGMENT_EXTENSION}`;
    const checkpoint = await this.coveringCheckpoint(tenant, to);
    const proof = await nodeHashes(this.deps.hashReader(tenant), segmentProofRanges(from, to, checkpoint.size), checkpoint.size);
    const header: SegmentHeader = {
      type: 'segment',
      format: SEGMENT_FORMAT,
      version: SEGMENT_VERSION,
      tenant,
      origin: this.deps.ledgerKeys.origin(tenant),
      from,
      to,
      checkpoint: { note: checkpoint.note, issued_at: checkpoint.issued_at.toISOString(), cosignatures: checkpoint.cosignatures },
      proof: proof.map((h) => h.toString('hex')),
    };
    const segment = new SegmentBytes();
    await segment.add(`${JSON.stringify(header)}\n`);
    const archiveHash = await this.deps.tenantKeys.hasher(tenant, 'archive');
    const subjectHash = await this.deps.tenantKeys.hasher(tenant, 'erasure');
    const subjectHashes = memoised(subjectHash);
    const read = (start: number) => {
      const end = Math.min(to, start + BATCH);
      const batch = leafRows(sql, tenant, start, end).then(async (rows) => {
        if (rows.length !== end - start) throw new TrailproofError('INTERNAL', `tenant ${tenant} has no leaves [${start}, ${end}) to archive`);
        return { rows, nonces: await this.eventNonces(tenant, rows, subjectHashes) };
      });
      batch.catch(() => {}); // surfaces at its await
      return { end, batch };
    };
    // The next batch is read, and its keys stored, while this one is sealed: database and CPU overlap.
    for (let next = read(from); ; ) {
      const { end } = next;
      const { rows, nonces } = await next.batch;
      if (end < to) next = read(end);
      const lines: string[] = [];
      for (const [i, row] of rows.entries()) {
        // Turns to the event loop now and then: the next batch's queries go out at once (the driver
        // writes them from a setImmediate callback) and run in PostgreSQL while this one is sealed,
        // and requests are served in between.
        if (i % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
        const present = row.body !== null && row.salt !== null;
        const nonce = nonces.get(row.seq);
        const sealed =
          present && nonce ? seal(eventKey(archiveHash, nonce), tenant, row.seq, { salt: row.salt!.toString('hex'), event: canonicalJson(row.body) }) : null;
        lines.push(leafText({ index: row.seq, uid: row.uid, received_at: row.received_at.toISOString(), commitment: row.commitment.toString('hex'), sealed }));
      }
      await segment.add(lines.join(''));
      options.sealed(end);
      if (end >= to) break;
    }
    const { bytes, sha256 } = await segment.end(`${JSON.stringify({ type: 'end', leaves: to - from })}\n`);
    const manifest: SegmentManifest = {
      format: 'trailproof-archive-manifest',
      version: SEGMENT_VERSION,
      tenant,
      from,
      to,
      segment: name,
      sha256,
      bytes: bytes.length,
      checkpoint: { size: checkpoint.size, note: checkpoint.note },
    };
    const put = options.retainUntil ? { retainUntil: options.retainUntil } : {};
    await store.put(name, bytes, put);
    await store.put(`${base}.${MANIFEST_EXTENSION}`, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), put);
    await sql`
      insert into archive_segments (tenant_id, from_seq, to_seq, name, sha256, bytes, checkpoint_size)
      values (${tenant}, ${from}, ${to}, ${name}, ${Buffer.from(manifest.sha256, 'hex')}, ${bytes.length}, ${checkpoint.size})
      on conflict (tenant_id, from_seq) do nothing`;
    return manifest;
  }

  /** When the tenant's `days` run out for leaf `to - 1` (the range's latest), if that is still ahead. */
  private async retainUntil(tenant: string, to: number): Promise<Date | undefined> {
    if (this.deps.defaultDays === undefined) return undefined;
    const { days } = await policyOf(this.deps.sql, tenant, this.deps.defaultDays);
    const [leaf] = await this.deps.sql<{ received_at: Date }[]>`
      select received_at from ledger_leaves where tenant_id = ${tenant} and seq = ${to - 1}`;
    const until = leaf ? new Date(leaf.received_at.getTime() + days * DAY_MS) : undefined;
    return until && until.getTime() > Date.now() ? until : undefined;
  }

  /** The earliest checkpoint holding leaf `to - 1`, issuing one when none does yet. Stable: the same range always gets the same one. */
  private async coveringCheckpoint(tenant: string, to: number): Promise<{ size: number; note: string; issued_at: Date; cosignatures: string[] }> {
    for (let attempt = 0; ; attempt++) {
      const [row] = await this.deps.sql<{ size: number; note: string; issued_at: Date; cosignatures: string[] }[]>`
        select c.size, c.note, c.issued_at,
               coalesce((select array_agg(s.signature order by s.witness) from ledger_cosignatures s where s.checkpoint_id = c.id), '{}') as cosignatures
        from ledger_checkpoints c where c.tenant_id = ${tenant} and c.size >= ${to} order by c.size, c.id limit 1`;
      if (row) return { ...row, cosignatures: row.cosignatures.map((l) => (l.endsWith('\n') ? l : `${l}\n`)) };
      if (attempt > 0) throw new TrailproofError('INTERNAL', `no checkpoint of ${tenant} covers index ${to - 1}`);
      await this.deps.checkpointer.issue(tenant);
    }
  }

  /**
   * Each archived event's nonce, made on first archiving and kept (so a second archiving gives the
   * same bytes): the fresh ones are stored and used as made; those stored before are read back.
   */
  private async eventNonces(tenant: string, rows: LeafRow[], subjectHash: (text: string) => string): Promise<Map<number, Buffer>> {
    const nonces = new Map<number, Buffer>();
    const fresh = rows.filter((r) => r.body !== null);
    if (fresh.length > 0) {
      const made = freshNonces(fresh.length);
      const subjects = fresh.map((r) => `{${eventSubjectHashes(subjectHash, { actor_id: r.body!.actor.id, targets: r.body!.targets }).join(',')}}`);
      const inserted = await this.deps.sql<{ seq: number }[]>`
        insert into archive_event_keys (tenant_id, seq, nonce, subjects)
        select ${tenant}, seq, decode(nonce, 'hex'), subjects::text[]
        from unnest(${fresh.map((r) => r.seq)}::int8[], ${made}::text[], ${subjects}::text[]) as k(seq, nonce, subjects)
        on conflict (tenant_id, seq) do nothing
        returning seq`;
      const position = new Map(fresh.map((r, i) => [r.seq, i]));
      for (const { seq } of inserted) nonces.set(seq, Buffer.from(made[position.get(seq)!]!, 'hex'));
      // Everything new: nothing stored before to read back.
      if (inserted.length === rows.length) return nonces;
    }
    const first = rows[0]!.seq;
    const last = rows.at(-1)!.seq;
    const stored = await this.deps.sql<{ seq: number; nonce: Buffer }[]>`
      select seq, nonce from archive_event_keys where tenant_id = ${tenant} and seq between ${first} and ${last}`;
    for (const r of stored) if (!nonces.has(r.seq)) nonces.set(r.seq, r.nonce);
    return nonces;
  }

  /** Opens archived payloads of leaves in [from, to) whose keys remain (not erased). */
  private async payloadOpener(tenant: string, from: number, to: number): Promise<(leaf: SegmentLeaf) => SealedPayload | undefined> {
    const archiveHash = await this.deps.tenantKeys.hasher(tenant, 'archive');
    const rows = await this.deps.sql<{ seq: number; nonce: Buffer }[]>`
      select seq, nonce from archive_event_keys where tenant_id = ${tenant} and seq >= ${from} and seq < ${to}`;
    const nonces = new Map(rows.map((r) => [r.seq, r.nonce]));
    return (leaf) => {
      const nonce = nonces.get(leaf.index);
      return nonce && leaf.sealed !== null ? unseal(eventKey(archiveHash, nonce), tenant, leaf.index, leaf.sealed) : undefined;
    };
  }
}

/** The tenant's leaves [start, end) with their events' payloads (null where gone), in index order. */
async function leafRows(sql: Sql, tenant: string, start: number, end: number): Promise<LeafRow[]> {
  const range = await ledgerRange(sql, tenant, start, end);
  if (!range) return [];
  const { from, where } = rangeEvents(sql, tenant, range, sql`e.body, e.salt`, { everyLeaf: true });
  return sql<LeafRow[]>`select l.seq, l.uid, l.received_at, l.commitment, e.body, e.salt from ${from} where ${where} order by l.seq`;
}

/** `n` random 16-byte nonces, hex: one draw from the system's generator for the lot. */
function freshNonces(n: number): string[] {
  const bytes = randomBytes(16 * n).toString('hex');
  return Array.from({ length: n }, (_, i) => bytes.slice(32 * i, 32 * i + 32));
}

/** `hash` remembering its answers: an actor or target recurs across the events of a segment. */
function memoised(hash: (text: string) => string): (text: string) => string {
  const known = new Map<string, string>();
  return (text) => {
    let hex = known.get(text);
    if (hex === undefined) known.set(text, (hex = hash(text)));
    return hex;
  };
}

/** An archived event's key: HMAC(tenant archive key, nonce). */
function eventKey(archiveHash: (text: string) => string, nonce: Buffer): Buffer {
  return Buffer.from(archiveHash(nonce.toString('hex')), 'hex');
}

/** An archived leaf's envelope and opened payload. */
function openedEvent(tenant: string, segment: string, leaf: SegmentLeaf, open: (leaf: SegmentLeaf) => SealedPayload | undefined): ArchivedEventLine {
  const payload = leaf.sealed === null ? undefined : open(leaf);
  return {
    tenant,
    segment,
    envelope: { v: ENVELOPE_VERSION, tenant, index: leaf.index, uid: leaf.uid, received_at: leaf.received_at, commitment: leaf.commitment },
    event: payload ? (JSON.parse(payload.event) as unknown) : null,
    salt: payload?.salt ?? null,
    erased: leaf.sealed !== null && payload === undefined,
  };
}

function manifestName(segmentName: string): string {
  return segmentName.replace(`.${SEGMENT_EXTENSION}`, `.${MANIFEST_EXTENSION}`);
}

/** A segment's header and leaves (the caller verified or trusts its bytes). */
export function parseSegment(bytes: Uint8Array): { header: SegmentHeader; leaves: SegmentLeaf[] } {
  const lines = gunzipSync(bytes).toString('utf8').trimEnd().split('\n');
  return { header: JSON.parse(lines[0]!) as SegmentHeader, leaves: lines.slice(1, -1).map((l) => JSON.parse(l) as SegmentLeaf) };
}
