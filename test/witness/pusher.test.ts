/**
 * WitnessPusher against real witnesses on loopback ports and a real database: checkpoints rows go
 * in ledger_checkpoints as the checkpointer writes them, proofs come from a MemoryHashStore (the
 * reference HashReader), cosignatures must land in ledger_cosignatures and verify.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseVerifierKey } from '../../src/ledger/note.ts';
import { withCosignatures } from '../../src/witness/cosigned-note.ts';
import { parseWitnessList } from '../../src/witness/endpoints.ts';
import { WitnessPusher, type IssuedCheckpoint } from '../../src/witness/pusher.ts';
import { buildWitnessApp } from '../../src/witness/server.ts';
import { WitnessStateStore } from '../../src/witness/state-store.ts';
import { newCosignerKey, tempDir, TestLog } from '../../src/witness/testing/test-log.ts';
import { Witness } from '../../src/witness/witness.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/server-process.ts';
import { verifyCosignature, verifySignedNote } from '../independent/spec-verifier.ts';

interface RunningWitness {
  keys: ReturnType<typeof newCosignerKey>;
  url: string;
  store: WitnessStateStore;
  app: FastifyInstance;
  dataDir: string;
}

let db: TestDatabase;
let log: TestLog;
const running: RunningWitness[] = [];
let pusher: WitnessPusher | undefined;

async function startWitness(
  name: string,
  options: { port?: number; dataDir?: string; keys?: ReturnType<typeof newCosignerKey> } = {},
): Promise<RunningWitness> {
  const keys = options.keys ?? newCosignerKey(name);
  const dataDir = options.dataDir ?? (await tempDir());
  const store = new WitnessStateStore(dataDir);
  await store.open();
  const app = buildWitnessApp(new Witness({ cosigner: keys.cosigner, logs: new Map([[log.origin, [parseVerifierKey(log.verifierKey)]]]), store }));
  const url = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const witness = { keys, url, store, app, dataDir };
  running.push(witness);
  return witness;
}

async function stopWitness(witness: RunningWitness): Promise<void> {
  running.splice(running.indexOf(witness), 1);
  await witness.app.close();
  witness.store.close();
}

/** Issues a checkpoint of the test log at `size` as the checkpointer would: one ledger_checkpoints row. */
async function issue(size: number): Promise<IssuedCheckpoint> {
  log.growTo(size);
  const note = await log.checkpoint(size);
  const key = parseVerifierKey(log.verifierKey);
  const [row] = await db.sql<{ id: number }[]>`
    insert into ledger_checkpoints (tenant_id, size, root, note, key_name, key_id)
    values ('acme', ${size}, ${Buffer.from(note.split('\n')[2]!, 'base64')}, ${note}, ${key.name}, ${key.keyId.toString(16).padStart(8, '0')})
    returning id`;
  return { id: row!.id, tenant: 'acme', size, note };
}

async function cosignatures(witness: string) {
  return db.sql<{ checkpoint_id: number; size: number; note: string; signature: string }[]>`
    select s.checkpoint_id, c.size, c.note, s.signature from ledger_cosignatures s join ledger_checkpoints c on c.id = s.checkpoint_id
    where s.witness = ${witness} order by c.id`;
}

function newPusher(witnesses: RunningWitness[], options: { attempts?: number; initialDelayMs?: number } = {}): WitnessPusher {
  const list = witnesses.map((w) => `${w.url}/=${w.keys.verifierKey}`).join(',');
  pusher = new WitnessPusher({ sql: db.sql, witnesses: parseWitnessList(list), hashReader: () => log.tree, initialDelayMs: 50, maxDelayMs: 200, ...options });
  return pusher;
}

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`insert into tenants (id, name) values ('acme', 'Acme')`;
});

afterAll(async () => {
  await db.drop();
});

beforeEach(() => {
  log = new TestLog(`log.test/t/acme-${Math.random().toString(36).slice(2)}`);
});

afterEach(async () => {
  await pusher?.close(0);
  pusher = undefined;
  for (const witness of [...running]) await stopWitness(witness);
  await db.ownerSql.unsafe('alter table ledger_cosignatures disable trigger user; alter table ledger_checkpoints disable trigger user');
  await db.ownerSql`delete from ledger_cosignatures`;
  await db.ownerSql`delete from ledger_checkpoints`;
  await db.ownerSql.unsafe('alter table ledger_cosignatures enable trigger user; alter table ledger_checkpoints enable trigger user');
});

describe('WitnessPusher', () => {
  it('pushes each checkpoint to every witness with a proof from the size it last cosigned, and stores verified cosignatures', async () => {
    const [w1, w2] = [await startWitness('witness.test/w1'), await startWitness('witness.test/w2')];
    const p = newPusher([w1, w2]);
    for (const size of [3, 3, 260, 1000]) {
      p.push(await issue(size));
      await p.idle();
    }
    for (const w of [w1, w2]) {
      const rows = await cosignatures(w.keys.cosigner.name);
      expect(rows.map((r) => r.size)).toEqual([3, 3, 260, 1000]);
      for (const row of rows) {
        const served = withCosignatures(row.note, [row.signature]);
        expect(verifyCosignature(served, w.keys.verifierKey).checkpoint.size).toBe(BigInt(row.size));
        verifySignedNote(served, log.verifierKey);
      }
      expect((await w.store.get(log.origin))?.size).toBe(1000);
    }
  });

  it('collapses a burst into the newest checkpoint, and picks up where a witness is after lost answers', async () => {
    const w1 = await startWitness('witness.test/w1');
    const p = newPusher([w1]);
    p.push(await issue(10));
    await p.idle();
    // The witness moved on without our knowing (an answer lost): it has 400, we think 10.
    log.growTo(400);
    const lost = await (
      await fetch(`${w1.url}/add-checkpoint`, {
        method: 'POST',
        body: `old 10\n${(await log.proof(10, 400)).map((h) => `${h.toString('base64')}\n`).join('')}\n${await log.checkpoint(400)}`,
      })
    ).text();
    expect(lost).toMatch(/^\u2014 /);
    const burst = [await issue(500), await issue(600), await issue(700)];
    for (const checkpoint of burst) p.push(checkpoint);
    await p.idle();
    const rows = await cosignatures('witness.test/w1');
    // 10, then the first of the burst (its push had started), then straight to the newest.
    expect(rows.map((r) => r.size)).toEqual([10, 500, 700]);
  });

  it('retries an unreachable witness with backoff and delivers once it is back', async () => {
    const port = await freePort();
    const dataDir = await tempDir();
    const keys = newCosignerKey('witness.test/late');
    const p = new WitnessPusher({
      sql: db.sql,
      witnesses: parseWitnessList(`http://127.0.0.1:${port}=${keys.verifierKey}`),
      hashReader: () => log.tree,
      initialDelayMs: 100,
      maxDelayMs: 300,
      attempts: 40,
    });
    pusher = p;
    p.push(await issue(42));
    await new Promise((r) => setTimeout(r, 400));
    expect(await cosignatures('witness.test/late')).toHaveLength(0);
    await startWitness('witness.test/late', { port, dataDir, keys });
    await p.idle();
    expect((await cosignatures('witness.test/late')).map((r) => r.size)).toEqual([42]);
  });

  it('stores nothing when the witness refuses (fork) or its cosignature does not verify', async () => {
    const w1 = await startWitness('witness.test/w1');
    const p = newPusher([w1]);
    p.push(await issue(20));
    await p.idle();
    // A forked tree under the same key, pushed with the proof the pusher builds from it.
    log = new TestLog(log.origin, { tag: 'forged', signerKey: log.signerKey });
    p.push(await issue(20));
    p.push(await issue(30));
    await p.idle();
    expect((await cosignatures('witness.test/w1')).map((r) => r.size)).toEqual([20]);

    // A witness configured with the wrong key: its cosignatures are not stored.
    const impostor = await startWitness('witness.test/w1');
    const wrong = new WitnessPusher({
      sql: db.sql,
      witnesses: parseWitnessList(`${impostor.url}=${w1.keys.verifierKey}`),
      hashReader: () => log.tree,
      attempts: 1,
    });
    wrong.push(await issue(40));
    await wrong.idle();
    await wrong.close(0);
    expect((await cosignatures('witness.test/w1')).map((r) => r.size)).toEqual([20]);
  });

  it('closes promptly while a witness is unreachable, without pushing more', async () => {
    const port = await freePort();
    const p = new WitnessPusher({
      sql: db.sql,
      witnesses: parseWitnessList(`http://127.0.0.1:${port}=${newCosignerKey().verifierKey}`),
      hashReader: () => log.tree,
      initialDelayMs: 60_000,
    });
    p.push(await issue(5));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await p.close(100);
    expect(Date.now() - started).toBeLessThan(5_000);
    p.push(await issue(6));
    await p.idle();
  });
});

describe('TRAILPROOF_WITNESSES', () => {
  const key = newCosignerKey('witness.example/w1').verifierKey;
  const key2 = newCosignerKey('witness.example/w2').verifierKey;

  it('takes <url>=<key> entries separated by commas or whitespace', () => {
    const list = parseWitnessList(`https://w1.example/prefix/=${key},\n http://127.0.0.1:9000=${key2}`);
    expect(list.map((w) => [w.url, w.name])).toEqual([
      ['https://w1.example/prefix', 'witness.example/w1'],
      ['http://127.0.0.1:9000', 'witness.example/w2'],
    ]);
    expect(parseWitnessList(undefined)).toEqual([]);
    expect(parseWitnessList('  ')).toEqual([]);
  });

  it.each([
    ['no key', 'https://w1.example/', /must be <url>=<witness verifier key>/],
    ['not a URL', `w1.example=${key}`, /is not a URL/],
    ['ftp', `ftp://w1.example/=${key}`, /http:\/\/ or https:\/\//],
    ['credentials', `https://user:pw@w1.example/=${key}`, /must not contain credentials/],
    ['query', `https://w1.example/?a=1=${key}`, /without \?query/],
    ['bad key', 'https://w1.example/=witness.example/w1+00000000+AAAA', /key of witness https:\/\/w1.example\/ is invalid/],
    ['duplicate name', `https://w1.example/=${key} https://w2.example/=${key}`, /two witnesses are named/],
  ])('rejects %s with CONFIG_INVALID', (_name, value, message) => {
    expect(() => parseWitnessList(value)).toThrow(message);
    try {
      parseWitnessList(value);
    } catch (err) {
      expect((err as { code: string }).code).toBe('CONFIG_INVALID');
    }
  });
});
