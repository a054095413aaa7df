/** The client's read helpers and offline verifyProof() against a real Trailproof. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventReader, TrailproofClient, verifyProof, type StoredEvent } from '../../packages/client/src/index.ts';
import { parseSignerKey } from '../../src/ledger/note.ts';
import { createTestApp, TEST_LEDGER_KEY, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let url: string;
let reader: EventReader;
const ids: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('read-a');
  await t.createTenant('read-b');
  url = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const client = new TrailproofClient({ url, apiKey: await t.createKey('ingest', 'read-a') });
  for (let i = 0; i < 25; i++) ids.push(client.record({ action: 'doc.read', actor: { type: 'user', id: `u${i}` }, metadata: { i } })!);
  await client.close();
  reader = new EventReader({ url, apiKey: await t.createKey('read', 'read-a') });
});
afterAll(() => t.close());

describe('EventReader', () => {
  it('lists one page with a cursor and iterates over every page', async () => {
    const page = await reader.list({ action: 'doc.read', limit: 10 });
    expect(page.events).toHaveLength(10);
    expect(page.next_cursor).toEqual(expect.any(String));
    const all: StoredEvent[] = [];
    for await (const event of reader.all({ action: 'doc.read', limit: 7, sort: 'asc' })) all.push(event);
    expect(all.map((e) => e.id)).toEqual(ids);
  });

  it('tails the feed in commit order', async () => {
    const seen: StoredEvent[] = [];
    const controller = new AbortController();
    for await (const event of reader.feed({ limit: 10, wait: 0, signal: controller.signal })) {
      if (event.action === 'doc.read') seen.push(event);
      if (seen.length === ids.length) controller.abort();
    }
    expect(seen.map((e) => e.id)).toEqual(ids);
  });

  it('refuses a read of another tenant with READ_FAILED and the status', async () => {
    const other = new EventReader({ url, apiKey: await t.createKey('read', 'read-a'), tenant: 'read-b' });
    await expect(other.list()).rejects.toMatchObject({ code: 'READ_FAILED', status: 403 });
  });
});

describe('verifyProof', () => {
  const verifierKey = parseSignerKey(TEST_LEDGER_KEY).verifierKey;

  it('verifies an event proof offline, body included', async () => {
    const [first] = (await reader.list({ action: 'doc.read', limit: 1 })).events;
    const proof = await reader.proof(first!.uid);
    expect(verifyProof(proof, verifierKey)).toMatchObject({ ok: true, event_checked: true, uid: first!.uid });
  });

  it('fails for a modified body and for an untrusted key', async () => {
    const [first] = (await reader.list({ action: 'doc.read', limit: 1 })).events;
    const proof = await reader.proof(first!.uid);
    const modified = { ...proof, event: { ...(proof.event as object), action: 'doc.delete' } };
    expect(verifyProof(modified, verifierKey)).toMatchObject({ ok: false, error: expect.stringContaining('modified') });
    const otherKey = parseSignerKey((await import('../../src/ledger/note.ts')).generateSignerKey('test.trailproof').signerKey).verifierKey;
    expect(verifyProof(proof, otherKey).ok).toBe(false);
  });
});
