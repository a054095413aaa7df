/** The add-checkpoint client against a real witness listening on a loopback port. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCosignature as specVerifyCosignature } from '../../test/independent/spec-verifier.ts';
import { parseCosignatureVerifierKey } from '../ledger/cosignature.ts';
import { parseVerifierKey } from '../ledger/note.ts';
import { expectCodeAsync } from '../ledger/testing/expect-code.ts';
import { addCheckpoint, conflictKind } from './client.ts';
import { withCosignatures } from './cosigned-note.ts';
import { buildWitnessApp } from './server.ts';
import { WitnessStateStore } from './state-store.ts';
import { newCosignerKey, tempDir, TestLog } from './testing/test-log.ts';
import { Witness } from './witness.ts';

let app: FastifyInstance;
let store: WitnessStateStore;
let url: string;
const keys = newCosignerKey('witness.test/client');
const witnessKey = parseCosignatureVerifierKey(keys.verifierKey);
const logs = Array.from({ length: 6 }, (_, i) => new TestLog(`log.test/t/client-${i}`).growTo(300));

beforeAll(async () => {
  store = new WitnessStateStore(await tempDir());
  await store.open();
  const witness = new Witness({ cosigner: keys.cosigner, logs: new Map(logs.map((l) => [l.origin, [parseVerifierKey(l.verifierKey)]])), store });
  app = buildWitnessApp(witness);
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  store.close();
});

describe('addCheckpoint', () => {
  it('returns the verified cosignature, which merges into the served checkpoint', async () => {
    const [log] = logs as [TestLog];
    const note = await log.checkpoint(10);
    const result = await addCheckpoint(url, { oldSize: 0, proof: [], checkpointNote: note }, { witnessKey });
    expect(result.oldSize).toBe(0);
    expect(result.cosignatures).toHaveLength(1);
    const merged = withCosignatures(note, result.cosignatures);
    expect(withCosignatures(merged, result.cosignatures)).toBe(merged);
    expect(specVerifyCosignature(merged, keys.verifierKey).checkpoint.size).toBe(10n);

    const next = await addCheckpoint(`${url}/`, { oldSize: 10, proof: await log.proof(10, 200), checkpointNote: await log.checkpoint(200) }, { witnessKey });
    expect(next.cosignatures).toHaveLength(1);
  });

  it('after a 409, retries once from the witness size with a proof from the provider', async () => {
    const log = logs[1]!;
    await addCheckpoint(url, { oldSize: 0, proof: [], checkpointNote: await log.checkpoint(77) });
    const asked: number[] = [];
    const result = await addCheckpoint(
      url,
      { oldSize: 0, proof: [], checkpointNote: await log.checkpoint(250) },
      {
        witnessKey,
        proofFrom: async (size) => {
          asked.push(size);
          return log.proof(size, 250);
        },
      },
    );
    expect(asked).toEqual([77]);
    expect(result.oldSize).toBe(77);
    expect(specVerifyCosignature(withCosignatures(await log.checkpoint(250), result.cosignatures), keys.verifierKey).checkpoint.size).toBe(250n);
    // Without a provider the conflict is reported.
    await expectCodeAsync('WITNESS_CONFLICT', async () => addCheckpoint(url, { oldSize: 3, proof: [], checkpointNote: await log.checkpoint(260) }));
  });

  it('reports a fork, a witness ahead of the checkpoint, a bad proof, an unknown log and an untrusted signature by code', async () => {
    const log = logs[2]!;
    await addCheckpoint(url, { oldSize: 0, proof: [], checkpointNote: await log.checkpoint(100) });
    const fork = new TestLog(log.origin, { tag: 'forged', signerKey: log.signerKey }).growTo(300);
    const proofFrom = (size: number) => fork.proof(size, 100);
    const kind = async (request: Promise<unknown>) =>
      conflictKind(
        await request.then(
          () => undefined,
          (err: unknown) => err,
        ),
      );
    expect(await kind(addCheckpoint(url, { oldSize: 100, proof: [], checkpointNote: await fork.checkpoint(100) }, { proofFrom }))).toBe('fork');
    expect(await kind(addCheckpoint(url, { oldSize: 0, proof: [], checkpointNote: await log.checkpoint(50) }, { proofFrom }))).toBe('witness_ahead');
    expect(await kind(addCheckpoint(url, { oldSize: 0, proof: [], checkpointNote: await log.checkpoint(150) }))).toBe('old_size');
    await expectCodeAsync('LEDGER_PROOF_INVALID', async () =>
      addCheckpoint(url, { oldSize: 100, proof: await fork.proof(100, 200), checkpointNote: await log.checkpoint(200) }),
    );
    await expectCodeAsync('WITNESS_UNKNOWN_LOG', async () =>
      addCheckpoint(url, { oldSize: 0, proof: [], checkpointNote: await new TestLog('nobody.test/t/x').growTo(1).checkpoint() }),
    );
    await expectCodeAsync('WITNESS_UNTRUSTED_SIGNATURE', async () =>
      addCheckpoint(url, { oldSize: 0, proof: [], checkpointNote: await new TestLog(log.origin).growTo(1).checkpoint() }),
    );
  });

  it('rejects cosignatures that do not verify with the expected witness key', async () => {
    const log = logs[3]!;
    const otherKey = parseCosignatureVerifierKey(newCosignerKey('witness.test/client').verifierKey);
    await expectCodeAsync('LEDGER_PROOF_INVALID', async () =>
      addCheckpoint(url, { oldSize: 0, proof: [], checkpointNote: await log.checkpoint(5) }, { witnessKey: otherKey }),
    );
  });

  it('reports an unreachable witness or an answer outside the protocol as WITNESS_UNAVAILABLE', async () => {
    const log = logs[4]!;
    const note = await log.checkpoint(5);
    const closed = await (async () => {
      const spare = buildWitnessApp(new Witness({ cosigner: keys.cosigner, logs: new Map(), store }));
      const spareUrl = await spare.listen({ port: 0, host: '127.0.0.1' });
      await spare.close();
      return spareUrl;
    })();
    await expectCodeAsync('WITNESS_UNAVAILABLE', () => addCheckpoint(closed, { oldSize: 0, proof: [], checkpointNote: note }));
    await expectCodeAsync('WITNESS_UNAVAILABLE', () => addCheckpoint(closed, { oldSize: 0, proof: [], checkpointNote: note }, { timeoutMs: 2000 }));
    // Not a witness: answers outside the protocol.
    for (const [status, type, body] of [
      [200, 'text/plain', 'hello\n'],
      [409, 'text/plain', '5\n'],
      [409, 'text/x.tlog.size', 'five\n'],
      [503, 'text/plain', ''],
      [307, 'text/plain', ''],
      [200, 'text/plain', `\u2014 w ${'A'.repeat(100_000)}\n`],
    ] as const) {
      const server = createServer((_req, res) => res.writeHead(status, { 'content-type': type, ...(status === 307 ? { location: url } : {}) }).end(body));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        await expectCodeAsync('WITNESS_UNAVAILABLE', () => addCheckpoint(`http://127.0.0.1:${port}`, { oldSize: 0, proof: [], checkpointNote: note }));
      } finally {
        server.close();
      }
    }
  });
});
