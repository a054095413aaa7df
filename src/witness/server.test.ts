/**
 * The witness's add-checkpoint over HTTP (Fastify inject), against c2sp.org/tlog-witness: every
 * status the spec names, cosignatures checked with the project's verifier and with the
 * independent one written from the spec (test/independent/spec-verifier.ts).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyCosignature as specVerifyCosignature, verifySignedNote as specVerifySignedNote } from '../../test/independent/spec-verifier.ts';
import { cosignatureTimestamp, parseCosignatureVerifierKey } from '../ledger/cosignature.ts';
import { openNote } from '../ledger/note.ts';
import { formatAddCheckpointBody } from './add-checkpoint-body.ts';
import { buildWitnessApp } from './server.ts';
import { WitnessStateStore } from './state-store.ts';
import { newCosignerKey, tempDir, TestLog } from './testing/test-log.ts';
import { Witness } from './witness.ts';
import { parseVerifierKey } from '../ledger/note.ts';

let dataDir: string;
let log: TestLog;
let keys: ReturnType<typeof newCosignerKey>;
let store: WitnessStateStore;
let app: FastifyInstance;
let now: number;

async function startWitness(logs: TestLog[] = [log]): Promise<void> {
  store = new WitnessStateStore(dataDir);
  await store.open();
  const witness = new Witness({
    cosigner: keys.cosigner,
    logs: new Map(logs.map((l) => [l.origin, [parseVerifierKey(l.verifierKey)]])),
    store,
    clock: () => now,
  });
  app = buildWitnessApp(witness);
}

async function stopWitness(): Promise<void> {
  await app.close();
  store.close();
}

function post(body: string, contentType?: string) {
  return app.inject({ method: 'POST', url: '/add-checkpoint', payload: body, headers: contentType ? { 'content-type': contentType } : {} });
}

async function add(oldSize: number, size: number, proof?: Buffer[], from: TestLog = log) {
  const checkpoint = await from.checkpoint(size);
  const res = await post(formatAddCheckpointBody({ oldSize, proof: proof ?? (await from.proof(oldSize, size)), checkpoint }));
  return { res, checkpoint };
}

beforeEach(async () => {
  dataDir = await tempDir();
  log = new TestLog().growTo(1000);
  keys = newCosignerKey();
  now = Date.UTC(2026, 10, 23, 12, 0, 0);
  await startWitness();
});

afterEach(async () => {
  await stopWitness();
});

describe('POST /add-checkpoint', () => {
  it('cosigns a consistent sequence of checkpoints, each cosignature valid for both verifiers', async () => {
    let previous = 0;
    for (const size of [1, 2, 7, 8, 255, 256, 257, 600, 600, 1000]) {
      const { res, checkpoint } = await add(previous, size);
      expect(res.statusCode, `${previous} → ${size}: ${res.body}`).toBe(200);
      expect(res.body).toMatch(/^\u2014 witness\.test\/w1 [A-Za-z0-9+/=]+\n$/);
      const cosigned = checkpoint + res.body;
      // Ours: the note opens with the witness key alone (the log's signature is just unknown).
      const opened = openNote(cosigned, [parseCosignatureVerifierKey(keys.verifierKey)]);
      expect(opened.verified).toHaveLength(1);
      expect(cosignatureTimestamp(opened.verified[0]!.signature)).toBe(now / 1000);
      // Independent, from the spec text: the cosignature and the log's own signature.
      expect(specVerifyCosignature(cosigned, keys.verifierKey).checkpoint.size).toBe(BigInt(size));
      specVerifySignedNote(cosigned, log.verifierKey);
      previous = size;
      now += 1000;
    }
  });

  it('answers 409 with the latest cosigned size as text/x.tlog.size when old is not that size', async () => {
    expect((await add(0, 10)).res.statusCode).toBe(200);
    for (const old of [0, 5, 11]) {
      const { res } = await add(old, 20);
      expect(res.statusCode, `old ${old}`).toBe(409);
      expect(res.headers['content-type']).toBe('text/x.tlog.size');
      expect(res.body).toBe('10\n');
    }
    // With the size from the 409, the same checkpoint goes through.
    expect((await add(10, 20)).res.statusCode).toBe(200);
  });

  it('answers 422 to a consistency proof that does not verify, and does not move', async () => {
    expect((await add(0, 100)).res.statusCode).toBe(200);
    const proof = await log.proof(100, 300);
    const tampered = proof.map((hash, i) => (i === 1 ? Buffer.from(hash.map((b) => b ^ 1)) : hash));
    expect((await add(100, 300, tampered)).res.statusCode).toBe(422);
    expect((await add(100, 300, proof.slice(1))).res.statusCode).toBe(422);
    expect((await add(100, 300, [...proof, proof[0]!])).res.statusCode).toBe(422);
    expect((await add(100, 300, [])).res.statusCode).toBe(422);
    // The proof of another pair of sizes.
    expect((await add(100, 300, await log.proof(99, 300))).res.statusCode).toBe(422);
    expect((await add(100, 300)).res.statusCode).toBe(200);
  });

  it('refuses a fork: same size with another root (409), or a larger tree that does not extend it (422), keeping the evidence', async () => {
    expect((await add(0, 50)).res.statusCode).toBe(200);
    // Same origin and key, other leaves: a split view.
    const fork = new TestLog(log.origin, { tag: 'forged', signerKey: log.signerKey }).growTo(1000);
    const sameSize = await add(50, 50, [], fork);
    expect(sameSize.res.statusCode).toBe(409);
    expect(sameSize.res.body).toBe('50\n');
    expect((await add(50, 80, await fork.proof(50, 80), fork)).res.statusCode).toBe(422);
    const evidence = await readdir(path.join(dataDir, 'evidence'));
    expect(evidence.map((f) => f.replace(/^.*-/, '')).sort()).toEqual(['fork.txt', 'inconsistent.txt']);
    // The honest log still goes on.
    expect((await add(50, 50)).res.statusCode).toBe(200);
    expect((await add(50, 80)).res.statusCode).toBe(200);
  });

  it('refuses a rollback: a smaller checkpoint with the true old size (400) or a smaller claimed old size (409)', async () => {
    expect((await add(0, 100)).res.statusCode).toBe(200);
    const rollback = await post(formatAddCheckpointBody({ oldSize: 100, proof: [], checkpoint: await log.checkpoint(60) }));
    expect(rollback.statusCode).toBe(400);
    const { res } = await add(40, 60);
    expect(res.statusCode).toBe(409);
    expect(res.body).toBe('100\n');
  });

  it('answers 404 for an unknown origin and 403 without a signature by a trusted key', async () => {
    const stranger = new TestLog('other.test/t/acme').growTo(5);
    expect((await add(0, 5, [], stranger)).res.statusCode).toBe(404);

    // Signed by another key with the same name as the trusted one: an unknown key, ignored.
    const impostor = new TestLog(log.origin).growTo(5);
    expect((await add(0, 5, [], impostor)).res.statusCode).toBe(403);
    // The trusted key's name and ID, with a broken signature.
    const good = await log.checkpoint(5);
    const broken = good.replace(/ ([A-Za-z0-9+/]{10})([A-Za-z0-9+/])/, (_m, head: string, c: string) => ` ${head}${c === 'A' ? 'B' : 'A'}`);
    expect(broken).not.toBe(good);
    const res = await post(formatAddCheckpointBody({ oldSize: 0, proof: [], checkpoint: broken }));
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: { code: 'WITNESS_UNTRUSTED_SIGNATURE' } });
  });

  it('answers 400 to malformed bodies, whatever the content type', async () => {
    const checkpoint = await log.checkpoint(5);
    const hash = (await log.proof(3, 5))[0]!.toString('base64');
    for (const body of [
      '',
      checkpoint,
      `old 05\n\n${checkpoint}`,
      `old -1\n\n${checkpoint}`,
      `old 3\n${hash}\n${checkpoint}`,
      `old 3\n${hash.slice(0, -2)}\n\n${checkpoint}`,
      `old 0\n\nlog.test/t/acme\n5\nnot base64\n\n\u2014 x AAAA\n`,
      `old 0\n\n${checkpoint.split('\n\n')[0]}\n`,
      `old 0\n${hash}\n\n${checkpoint}`,
      `old 3\n${Array(64).fill(hash).join('\n')}\n\n${checkpoint}`,
    ]) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body.slice(0, 40))).toBe(400);
      expect(res.json().error.code).toBe('REQUEST_INVALID');
    }
    expect((await post(`old 0\n\n${checkpoint}`, 'application/json')).statusCode).toBe(200);
  });

  it('serialises concurrent requests for one log: one winner per old size, never a rollback', async () => {
    expect((await add(0, 100)).res.statusCode).toBe(200);
    const sizes = [150, 400, 120, 1000, 700, 101, 999, 300];
    const results = await Promise.all(sizes.map((size) => add(100, size)));
    const statuses = results.map((r) => r.res.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(sizes.length - 1);
    const winner = sizes[statuses.indexOf(200)]!;
    for (const r of results) if (r.res.statusCode === 409) expect(r.res.body).toBe(`${winner}\n`);
    expect((await store.get(log.origin))?.size).toBe(winner);
  });

  it('keeps its state across a restart, and never states an earlier time than before', async () => {
    expect((await add(0, 10)).res.statusCode).toBe(200);
    expect((await add(10, 500)).res.statusCode).toBe(200);
    await stopWitness();
    now -= 3_600_000; // the clock stepped back an hour while the witness was down
    await startWitness();
    const stale = await add(0, 600);
    expect(stale.res.statusCode).toBe(409);
    expect(stale.res.body).toBe('500\n');
    const { res, checkpoint } = await add(500, 600);
    expect(res.statusCode).toBe(200);
    expect(specVerifyCosignature(checkpoint + res.body, keys.verifierKey).timestamp).toBe(BigInt(now / 1000 + 3600));
  });

  it('takes one lock per data directory', async () => {
    const second = new WitnessStateStore(dataDir);
    await expect(second.open()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('serves its verifier key at GET /', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(`${keys.verifierKey}\n`);
  });
});
