/**
 * The ledger's read API. Per tenant, a c2sp.org/tlog-tiles log at `/t/<tenant>/` (checkpoint, hash
 * tiles, entry bundles), so standard tlog clients can follow it; plus inclusion proofs in
 * c2sp.org/tlog-proof form, consistency proofs, the published verifier keys and a status summary.
 * Everything but the (public) verifier keys needs a read key for the tenant, like events do.
 */
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { readRecorded } from '../audit/recorded-read.ts';
import { TrailproofError } from '../errors.ts';
import { authenticate, principalOf, requestContext, tenantFor } from '../http/authenticate.ts';
import type { Services } from '../http/services.ts';
import { answer, media, NullableTimestamp, Timestamp } from '../http/responses.ts';
import { StoredEventSchema } from '../event/schema.ts';
import { encodeBase64 } from '../ledger/encoding.ts';
import { erasedBy } from '../lifecycle/erasure.ts';
import { consistencyProof, inclusionProof } from '../ledger/proofs.ts';
import { formatTlogProof } from '../ledger/proof-text.ts';
import { entryBundle, parseTilePath, tileWidthAt, TILE_WIDTH } from '../ledger/tiles.ts';
import { TENANT_ID_PATTERN } from '../tenant/tenant-repository.ts';
import { checkpointAtSize, latestCheckpoint, type CheckpointRow } from './checkpoint-store.ts';
import { readHashTile } from './hash-reader.ts';
import { findLeafByUid, latestAuditRun, latestCosignatures, readEnvelopes, readHead } from './ledger-repository.ts';
import { cosignedCheckpoint } from '../witness/cosignature-store.ts';
import { withCosignatures } from '../witness/cosigned-note.ts';

const TEXT = 'text/plain; charset=utf-8';
const BINARY = 'application/octet-stream';
/** c2sp.org/tlog-tiles: the checkpoint is mutable ("prevent caching beyond a few seconds"), tiles are not. */
const CHECKPOINT_CACHE = 'private, max-age=1';
const TILE_CACHE = 'private, max-age=31536000, immutable';

const read = { tags: ['ledger'], security: [{ bearer: [] }] };
const TenantParams = Type.Object({ tenant: Type.String({ description: 'Tenant id' }) });
const Size = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
const Note = Type.String({ description: 'A signed checkpoint (c2sp.org/tlog-checkpoint), with witness cosignatures when there are any' });
const InclusionProof = answer({
  event: StoredEventSchema,
  salt: Type.Union([Type.String({ description: 'hex' }), Type.Null()]),
  envelope: answer({ v: Type.Literal(1), tenant: Type.String(), index: Type.Integer(), uid: Type.String(), received_at: Timestamp, commitment: Type.String() }),
  leaf_index: Type.Integer(),
  checkpoint: Note,
  proof: Type.String({ description: 'The `.tlog-proof` file (c2sp.org/tlog-proof)' }),
});
const LedgerStatus = answer({
  tenant: Type.String(),
  origin: Type.String(),
  size: Type.Integer({ description: 'Tree size: events in the log' }),
  root: Type.String({ description: 'base64' }),
  checkpoint: Type.Union([
    answer({
      size: Type.Integer({ description: 'The tree size it signs' }),
      root: Type.String(),
      issued_at: Timestamp,
      key_name: Type.String(),
      key_id: Type.String(),
    }),
    Type.Null(),
  ]),
  checkpoint_lag: Type.Integer({ description: 'Events not yet in a checkpoint' }),
  read_records_pending: Type.Integer(),
  self_audit: Type.Union([
    answer({
      run: Type.Integer(),
      started_at: Timestamp,
      finished_at: NullableTimestamp,
      ok: Type.Union([Type.Boolean(), Type.Null()], { description: 'null while running' }),
      report: Type.Union([Type.Object({}, { additionalProperties: true, description: "This tenant's part of the run" }), Type.Null()]),
    }),
    Type.Null(),
  ]),
  witnesses: Type.Array(answer({ witness: Type.String(), checkpoint_size: Type.Integer(), received_at: Timestamp })),
});

export function ledgerRoutes(services: Services) {
  const { sql, checkpointer, ledgerKeys } = services;

  /** The newest checkpoint; for a tenant that has none yet, one issued now. */
  const currentCheckpoint = async (tenant: string): Promise<CheckpointRow> => (await latestCheckpoint(sql, tenant)) ?? checkpointer.issue(tenant);

  return async function registerLedgerRoutes(app: FastifyInstance): Promise<void> {
    app.get(
      '/v1/ledger/key',
      {
        schema: {
          summary: 'Verifier keys of the checkpoint signatures (public)',
          description:
            "Go `note` verifier keys, one per line, current first. With `tenant`: the keys under that tenant's origin `<host>/t/<tenant>`, which its checkpoints are signed with.",
          tags: ['ledger'],
          querystring: Type.Object({ tenant: Type.Optional(Type.String({ pattern: TENANT_ID_PATTERN.source })) }),
          response: { 200: media(TEXT, 'Verifier keys, one per line') },
        },
      },
      async (request, reply) => {
        const { tenant } = request.query as { tenant?: string };
        // Public keys, and the answer is the same whether or not the tenant exists: no oracle.
        const keys = tenant === undefined ? ledgerKeys.verifierKeys : ledgerKeys.verifierKeysFor(tenant);
        return reply
          .type(TEXT)
          .header('cache-control', 'public, max-age=300')
          .send(keys.map((k) => `${k}\n`).join(''));
      },
    );

    app.get(
      '/t/:tenant/checkpoint',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          ...read,
          summary: 'The newest signed checkpoint (c2sp.org/tlog-checkpoint)',
          params: TenantParams,
          response: { 200: media(TEXT, 'The signed checkpoint note') },
        },
      },
      async (request, reply) => {
        const tenant = await tenantFor(services, request, (request.params as { tenant: string }).tenant);
        const checkpoint = await currentCheckpoint(tenant);
        // Served with the witnesses' cosignatures appended, as tlog-witness logs do (docs/witness.md).
        return reply
          .type(TEXT)
          .header('cache-control', CHECKPOINT_CACHE)
          .send(await cosignedCheckpoint(sql, checkpoint));
      },
    );

    app.get(
      '/t/:tenant/tile/*',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          ...read,
          summary: 'A hash tile or entry bundle (c2sp.org/tlog-tiles)',
          description:
            "`tile/<L>/<N>[.p/<W>]`: concatenated 32-byte hashes; `tile/entries/<N>[.p/<W>]`: the leaves' envelopes, each with a big-endian uint16 length. Only tiles within the newest checkpoint exist.",
          params: Type.Object({ tenant: Type.String(), '*': Type.String({ description: 'The rest of the tile path' }) }),
          response: { 200: media(BINARY, 'The tile', true) },
        },
      },
      async (request, reply) => {
        const params = request.params as { tenant: string; '*': string };
        const tenant = await tenantFor(services, request, params.tenant);
        const tile = parseTilePath(`tile/${params['*']}`);
        const level = tile.kind === 'hashes' ? tile.level : 0;
        const { size } = await currentCheckpoint(tenant);
        // A tile exists once a checkpoint covers all of it: hashes up to N·256 + W at its level.
        const available = tileWidthAt(level, tile.index, size);
        const width = tile.width === TILE_WIDTH && available < TILE_WIDTH ? 0 : tile.width;
        if (width === 0 || width > available)
          throw new TrailproofError('NOT_FOUND', `tile ${request.url.split('?')[0]} is beyond the newest checkpoint (size ${size})`);
        void reply.type(BINARY).header('cache-control', TILE_CACHE);
        if (tile.kind === 'hashes') return reply.send(await readHashTile(sql, tenant, level, tile.index, width));
        const start = tile.index * TILE_WIDTH;
        const bundle = entryBundle(await readEnvelopes(sql, tenant, start, start + width));
        // "Entry bundles SHOULD be compressed at the HTTP layer" (c2sp.org/tlog-tiles); hash tiles would not shrink.
        void reply.header('vary', 'accept-encoding');
        if (!acceptsGzip(request)) return reply.send(bundle);
        return reply.header('content-encoding', 'gzip').send(gzipSync(bundle));
      },
    );

    app.get(
      '/v1/events/:uid/proof',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          ...read,
          summary: 'Inclusion proof of one event (c2sp.org/tlog-proof)',
          description:
            'JSON with the event, its salt and envelope (to recompute the leaf) and the proof; with `format=tlog-proof` or `Accept: text/plain`, the `.tlog-proof` file itself.',
          params: Type.Object({ uid: Type.String() }),
          querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('tlog-proof')])) }),
          response: {
            200: {
              description: 'The proof as JSON, or the `.tlog-proof` file',
              content: { 'application/json': { schema: InclusionProof }, 'text/plain': { schema: Type.String() } },
            },
          },
        },
      },
      async (request, reply) => {
        const { uid } = request.params as { uid: string };
        const { found: leaf, recorded } = await readRecorded(services.readRecords, principalOf(request), uid, (id) => findLeafByUid(sql, id), {
          metadata: { view: 'inclusion_proof' },
          context: requestContext(request),
        });
        const { index } = leaf.envelope;
        const covered = leaf.checkpoint !== undefined && leaf.checkpoint.size > index;
        const proven = (async () => {
          const checkpoint = covered ? leaf.checkpoint! : await checkpointer.issue(leaf.tenant);
          return Promise.all([
            inclusionProof(services.hashReader(leaf.tenant, leaf.tile), index, checkpoint.size),
            // With cosignatures the proof is checkable offline against witnesses too (c2sp.org/tlog-witness).
            covered ? withCosignatures(checkpoint.note, leaf.cosignatures) : cosignedCheckpoint(sql, checkpoint),
          ]);
        })();
        const [[proof, note], erased] = await Promise.all([proven, leaf.body === null ? erasedBy(sql, leaf.tenant, index) : undefined, recorded]);
        const text = formatTlogProof({ index, proof, checkpoint: note });
        if (wantsTlogProof(request)) {
          return reply.type(TEXT).header('content-disposition', `attachment; filename="${leaf.envelope.uid}.tlog-proof"`).send(text);
        }
        return {
          event: leaf.body,
          salt: leaf.salt?.toString('hex') ?? null,
          ...(erased ? { erased } : {}),
          envelope: { v: 1, ...leaf.envelope, commitment: Buffer.from(leaf.envelope.commitment).toString('hex') },
          leaf_index: index,
          checkpoint: note,
          proof: text,
        };
      },
    );

    app.get(
      '/v1/ledger/consistency',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          ...read,
          summary: 'Consistency proof between two tree sizes (RFC 9162 §2.1.4)',
          querystring: Type.Object({
            tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })),
            from: Size('The older tree size, ≥ 1'),
            to: Type.Optional(Size("The newer tree size; default the newest checkpoint's")),
          }),
          response: {
            200: answer({
              tenant: Type.String(),
              from: Type.Integer(),
              to: Type.Integer(),
              proof: Type.Array(Type.String({ description: 'base64 hash' })),
              from_checkpoint: Type.Union([Note, Type.Null()]),
              to_checkpoint: Type.Union([Note, Type.Null()]),
            }),
          },
        },
      },
      async (request) => {
        const query = request.query as { tenant?: string; from: number; to?: number };
        const tenant = await tenantFor(services, request, query.tenant);
        const latest = await currentCheckpoint(tenant);
        const to = query.to ?? latest.size;
        if (to > latest.size) throw queryInvalid('/to', `must not exceed the newest checkpoint's size, ${latest.size}`);
        if (query.from < 1) throw queryInvalid('/from', 'must be at least 1: nothing is consistent with the empty tree');
        if (query.from > to) throw queryInvalid('/from', `must not exceed to (${to})`);
        const [proof, fromCheckpoint, toCheckpoint] = await Promise.all([
          consistencyProof(services.hashReader(tenant), query.from, to),
          checkpointAtSize(sql, tenant, query.from),
          to === latest.size ? latest : checkpointAtSize(sql, tenant, to),
        ]);
        return {
          tenant,
          from: query.from,
          to,
          proof: proof.map(encodeBase64),
          from_checkpoint: fromCheckpoint?.note ?? null,
          to_checkpoint: toCheckpoint?.note ?? null,
        };
      },
    );

    app.get(
      '/v1/ledger/status',
      {
        onRequest: authenticate(services, 'read'),
        schema: {
          ...read,
          summary: "The tenant's tree, newest checkpoint, self-audit result and witness cosignatures",
          querystring: Type.Object({ tenant: Type.Optional(Type.String({ description: 'Required with a key bound to no tenant' })) }),
          response: { 200: LedgerStatus },
        },
      },
      async (request) => {
        const tenant = await tenantFor(services, request, (request.query as { tenant?: string }).tenant);
        const [head, checkpoint, audit, cosignatures, pendingReads] = await Promise.all([
          readHead(sql, tenant),
          latestCheckpoint(sql, tenant),
          latestAuditRun(sql, tenant),
          latestCosignatures(sql, tenant),
          services.readRecords.pending(tenant),
        ]);
        if (!head) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${tenant}" does not exist`);
        return {
          tenant,
          origin: ledgerKeys.origin(tenant),
          size: head.size,
          root: encodeBase64(head.root),
          checkpoint: checkpoint
            ? {
                size: checkpoint.size,
                root: encodeBase64(checkpoint.root),
                issued_at: checkpoint.issued_at.toISOString(),
                key_name: checkpoint.key_name,
                key_id: checkpoint.key_id,
              }
            : null,
          checkpoint_lag: head.size - (checkpoint?.size ?? 0),
          // Records of reads committed but not yet in the tree (normally joined within ~50 ms).
          read_records_pending: pendingReads,
          self_audit: audit
            ? {
                run: audit.id,
                started_at: audit.started_at.toISOString(),
                finished_at: audit.finished_at?.toISOString() ?? null,
                // This tenant's verdict when the run covered it: the run's own `ok` also speaks for other tenants.
                ok: tenantVerdict(audit.report) ?? audit.ok,
                report: audit.report ?? null,
              }
            : null,
          witnesses: cosignatures.map((c) => ({ witness: c.witness, checkpoint_size: c.checkpoint_size, received_at: c.received_at.toISOString() })),
        };
      },
    );
  };
}

function tenantVerdict(report: unknown): boolean | undefined {
  const ok = typeof report === 'object' && report !== null ? (report as { ok?: unknown }).ok : undefined;
  return typeof ok === 'boolean' ? ok : undefined;
}

function wantsTlogProof(request: FastifyRequest): boolean {
  const { format } = request.query as { format?: string };
  if (format !== undefined) return format === 'tlog-proof';
  const accept = request.headers.accept ?? '';
  return accept.includes('text/plain') && !accept.includes('application/json');
}

function acceptsGzip(request: FastifyRequest): boolean {
  const accept = request.headers['accept-encoding'];
  return typeof accept === 'string' && /(^|,)\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*($|,))[\d.]+)?\s*($|,)/i.test(accept);
}

function queryInvalid(pointer: string, message: string): TrailproofError {
  return new TrailproofError('QUERY_INVALID', `${pointer.slice(1)} ${message}`, { details: [{ pointer, code: 'out_of_range', message }] });
}
