/**
 * `trailproof verify-proof` and `verify` as processes: proofs served by the API check out offline
 * with the published key, tampered or mismatched inputs exit 1 with a reason, unusable input exits 2.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '../../src/ledger/note.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { killStartedProcesses, runCli } from '../helpers/server-process.ts';

let t: TestApp;
let dir: string;
let key: string;
let proof: { event: Record<string, unknown>; salt: string; envelope: Record<string, unknown>; proof: string };
const file = (name: string, content: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  t = await createTestApp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-verify-'));
  await t.createTenant('acme');
  const res = await t.request('POST', '/v1/events', {
    body: { events: Array.from({ length: 5 }, (_, i) => ({ tenant: 'acme', action: 'user.login', actor: { type: 'user', id: `u${i}`, name: 'Zoë' } })) },
  });
  const uid = (res.json().accepted as { uid: string }[])[3]!.uid;
  proof = (await t.request('GET', `/v1/events/${uid}/proof`)).json();
  key = (await t.app.inject({ method: 'GET', url: '/v1/ledger/key?tenant=acme' })).body;
}, 60_000);

afterAll(async () => {
  await killStartedProcesses();
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('trailproof verify-proof', () => {
  it('checks the proof JSON of GET /v1/events/{uid}/proof, event and salt included (exit 0)', async () => {
    const keyFile = file('acme.vkey', key);
    const run = await runCli(['verify-proof', file('proof.json', JSON.stringify(proof)), '--key', keyFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^OK: leaf 3 \(event [0-9a-f-]{36}\) is in the checkpoint of size \d+ of test\.trailproof\/t\/acme; the event matches its commitment/,
    );
  }, 60_000);

  it('checks a .tlog-proof with the envelope (exit 0), and says what it needs without one (exit 2)', async () => {
    const proofFile = file('event.tlog-proof', proof.proof);
    const envelope = file('envelope.json', JSON.stringify(proof.envelope));
    const event = file('event.json', JSON.stringify(proof.event));
    const ok = await runCli([
      'verify-proof',
      proofFile,
      '--key',
      key.split('\n')[0]!,
      '--envelope',
      envelope,
      '--event',
      event,
      '--salt',
      proof.salt,
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, index: 3, event_checked: true });
    const missing = await runCli(['verify-proof', proofFile, '--key', key.split('\n')[0]!]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--envelope/);
  }, 60_000);

  it("fails (exit 1) for an edited event, another leaf's envelope, or an untrusted key", async () => {
    const edited = await runCli([
      'verify-proof',
      file('edited.json', JSON.stringify({ ...proof, event: { ...proof.event, action: 'user.logout' } })),
      '--key',
      key.split('\n')[0]!,
    ]);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toMatch(/FAILED: .*commitment.*modified/);
    const moved = await runCli([
      'verify-proof',
      file('moved.json', JSON.stringify({ ...proof, envelope: { ...proof.envelope, index: 2 } })),
      '--key',
      key.split('\n')[0]!,
    ]);
    expect(moved.code).toBe(1);
    const stranger = generateSignerKey('test.trailproof').verifierKey;
    const untrusted = await runCli(['verify-proof', file('proof2.json', JSON.stringify(proof)), '--key', stranger]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(/FAILED: .*(not signed|known key)/);
  }, 60_000);
});

describe('trailproof verify', () => {
  it('exits 2 with a message when it cannot verify at all: malformed key, missing file', async () => {
    const badKey = await runCli(['verify', file('b.jsonl', '{}\n'), '--key', 'not-a-key']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/^error: .*KEY_INVALID/);
    const noFile = await runCli(['verify', path.join(dir, 'nope.jsonl'), '--key', key.split('\n')[0]!]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/^error: .*ENOENT/);
  }, 60_000);
});
