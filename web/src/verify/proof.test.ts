/**
 * The browser's verifier (WebCrypto only) against proofs served by a real Trailproof: accepts the
 * genuine proof, and names what does not match for each kind of tampering. Runs in Node, whose
 * globalThis.crypto.subtle is the same WebCrypto API (SHA-256, Ed25519).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/helpers/app.ts';
import { verifyProof, type ProofResponse } from './proof.ts';

let t: TestApp;
let proof: ProofResponse;
let keys: string[];
let shown: { uid: string; tenant: string; received_at: string };

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  const events = Array.from({ length: 13 }, (_, i) => ({
    tenant: 'acme',
    action: 'document.update',
    actor: { type: 'user', id: `u${i}` },
    changes: [{ field: 'title', before: 'a', after: `b${i}` }],
    metadata: { n: i, price: 1.5 },
  }));
  const res = await t.request('POST', '/v1/events', { body: { events } });
  const uid = (res.json().accepted as { uid: string }[])[6]!.uid;
  proof = (await t.request('GET', `/v1/events/${uid}/proof`)).json();
  keys = (await t.request('GET', '/v1/ledger/key?tenant=acme', { key: null })).body.trim().split('\n');
  const event = (await t.request('GET', `/v1/events/${uid}`)).json();
  shown = { uid: event.uid, tenant: event.tenant, received_at: event.received_at };
});
afterAll(() => t.close());

const clone = (): ProofResponse => structuredClone(proof);

describe('verifyProof (browser)', () => {
  it('verifies a genuine proof against the published key', async () => {
    expect(await verifyProof(proof, keys, shown)).toMatchObject({ ok: true, index: proof.leaf_index, origin: expect.stringMatching(/\/t\/acme$/) });
  });

  it('names a changed event body: commitment', async () => {
    const p = clone();
    (p.event as { actor: { id: string } }).actor.id = 'mallory';
    expect(await verifyProof(p, keys, shown)).toMatchObject({ ok: false, step: 'commitment' });
  });

  it('names a changed envelope: root', async () => {
    const p = clone();
    p.envelope.received_at = '2020-01-01T00:00:00.000Z';
    expect(await verifyProof(p, keys)).toMatchObject({ ok: false, step: 'root' });
  });

  it('names a wrong proof hash: root', async () => {
    const p = clone();
    const lines = p.proof.split('\n');
    lines[2] = Buffer.alloc(32, 7).toString('base64');
    p.proof = lines.join('\n');
    expect(await verifyProof(p, keys)).toMatchObject({ ok: false, step: 'root' });
  });

  it('names a checkpoint not signed by the key: signature', async () => {
    const p = clone();
    p.proof = p.proof.replace(/\n(\d+)\n/, (_, n: string) => `\n${Number(n) + 1}\n`);
    expect(await verifyProof(p, keys)).toMatchObject({ ok: false, step: 'signature' });
    const [name, id] = keys[0]!.split('+');
    const otherKey = `${name}+${id}+${Buffer.from([1, ...Buffer.alloc(32, 9)]).toString('base64')}`;
    expect(await verifyProof(proof, [otherKey])).toMatchObject({ ok: false, step: 'signature' });
  });

  it('names an event shown with another uid than the logged one', async () => {
    expect(await verifyProof(proof, keys, { ...shown, uid: '00000000-0000-7000-8000-000000000000' })).toMatchObject({ ok: false, step: 'event' });
  });
});
