/**
 * End to end: a Trailproof app with TRAILPROOF_WITNESSES pointing at a witness on a loopback port.
 * Events are ingested, the checkpointer issues checkpoints, the pusher sends them with consistency
 * proofs read from the database's tiles, and the cosignatures land in ledger_cosignatures, each
 * verifiable by the independent spec verifier on the stored note.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { NoteVerifier } from '../../src/ledger/note.ts';
import { withCosignatures } from '../../src/witness/cosigned-note.ts';
import { buildWitnessApp } from '../../src/witness/server.ts';
import { WitnessStateStore } from '../../src/witness/state-store.ts';
import { newCosignerKey, tempDir } from '../../src/witness/testing/test-log.ts';
import { Witness } from '../../src/witness/witness.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { verifyCosignature, verifySignedNote } from '../independent/spec-verifier.ts';

let t: TestApp;
let witnessApp: FastifyInstance;
let store: WitnessStateStore;
const keys = newCosignerKey('witness.test/e2e');
// The witness learns the tenant's log key once the app (and so its ledger key) exists.
const trusted = new Map<string, NoteVerifier[]>();

beforeAll(async () => {
  store = new WitnessStateStore(await tempDir());
  await store.open();
  witnessApp = buildWitnessApp(new Witness({ cosigner: keys.cosigner, logs: trusted, store }));
  const url = await witnessApp.listen({ port: 0, host: '127.0.0.1' });
  t = await createTestApp({ TRAILPROOF_WITNESSES: `${url}/=${keys.verifierKey}` });
  await t.createTenant('acme');
  trusted.set(t.services.ledgerKeys.origin('acme'), t.services.ledgerKeys.verifiersFor('acme'));
});

afterAll(async () => {
  await t.close();
  await witnessApp.close();
  store.close();
});

async function ingest(n: number, from: number): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => ({ tenant: 'acme', action: 'document.read', actor: { type: 'user', id: `u${from + i}` } }));
  const res = await t.request('POST', '/v1/events', { body: { events } });
  expect(res.statusCode).toBe(200);
}

describe('a witnessed ledger', () => {
  it('gets every checkpoint cosigned, with consistency proofs built from the stored tiles', async () => {
    const pusher = t.services.witnessPusher!;
    expect(pusher).toBeDefined();
    const sizes = [];
    for (const batch of [300, 700, 1]) {
      await ingest(batch, sizes.at(-1) ?? 0);
      const checkpoint = await t.services.checkpointer.issue('acme');
      sizes.push(checkpoint.size);
      await pusher.idle();
    }
    expect(sizes).toEqual([300, 1000, 1001]);

    const rows = await t.db.sql<{ size: number; note: string; witness: string; signature: string }[]>`
      select c.size, c.note, s.witness, s.signature from ledger_cosignatures s join ledger_checkpoints c on c.id = s.checkpoint_id
      where c.tenant_id = 'acme' order by c.id`;
    expect(rows.map((r) => [r.size, r.witness])).toEqual(sizes.map((size) => [size, 'witness.test/e2e']));
    const [logKey] = t.services.ledgerKeys.verifierKeysFor('acme');
    for (const row of rows) {
      const served = withCosignatures(row.note, [row.signature]);
      expect(verifyCosignature(served, keys.verifierKey).checkpoint.size).toBe(BigInt(row.size));
      verifySignedNote(served, logKey!);
    }
    expect((await store.get(t.services.ledgerKeys.origin('acme')))?.size).toBe(1001);
  });

  it('serves the checkpoint and inclusion proofs with the cosignatures appended, also on a re-issued checkpoint', async () => {
    const readKey = await t.createKey('read', 'acme');
    const [logKey] = t.services.ledgerKeys.verifierKeysFor('acme');
    const served = await t.request('GET', '/t/acme/checkpoint', { key: readKey });
    expect(served.statusCode).toBe(200);
    expect(served.body).toMatch(/\n\u2014 witness\.test\/e2e \S+\n$/);
    expect(verifyCosignature(served.body, keys.verifierKey).checkpoint.size).toBe(1001n);
    verifySignedNote(served.body, logKey!);

    // A re-issued checkpoint (same text, a new row nothing was pushed for) carries the same cosignature.
    const [latest] = await t.db.sql<{ tenant_id: string; size: number; root: Buffer; note: string; key_name: string; key_id: string }[]>`
      select tenant_id, size, root, note, key_name, key_id from ledger_checkpoints where tenant_id = 'acme' order by id desc limit 1`;
    await t.db.sql`insert into ledger_checkpoints ${t.db.sql(latest!)}`;
    expect((await t.request('GET', '/t/acme/checkpoint', { key: readKey })).body).toBe(served.body);

    const [leaf] = await t.db.sql<{ uid: string }[]>`select uid::text from ledger_leaves where tenant_id = 'acme' and seq = 500`;
    const proof = await t.request('GET', `/v1/events/${leaf!.uid}/proof`, { key: readKey });
    expect(proof.statusCode).toBe(200);
    expect(proof.json().checkpoint).toBe(served.body);
    expect(proof.json().proof.endsWith(served.body)).toBe(true);
  });

  it('rejects a malformed TRAILPROOF_WITNESSES at start with CONFIG_INVALID', () => {
    expect(() => loadConfig({ TRAILPROOF_WITNESSES: 'https://w.example/=not-a-key' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(loadConfig({}).witnesses).toEqual([]);
  });
});
