/**
 * Witness benchmark: a real `trailproof witness serve` process, logs pushing growing checkpoints
 * with consistency proofs over HTTP (each cosignature is an fsynced state update).
 *   npx tsx bench/witness.ts [--logs 16] [--checkpoints 200]
 * Prints add-checkpoint latency (one log at a time) and throughput (all logs concurrently).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseCosignatureVerifierKey } from '../src/ledger/cosignature.ts';
import { addCheckpoint } from '../src/witness/client.ts';
import { newCosignerKey, tempDir, TestLog } from '../src/witness/testing/test-log.ts';
import { percentiles, round, waitFor, writeResult } from './lib.ts';

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1]! : fallback);
const logCount = Number(arg('--logs', '16'));
const checkpoints = Number(arg('--checkpoints', '200'));

const logs = Array.from({ length: logCount }, (_, i) => new TestLog(`bench.test/t/log-${i}`));
const keys = newCosignerKey('bench.test/witness');
const witnessKey = parseCosignatureVerifierKey(keys.verifierKey);
const dir = await tempDir('trailproof-bench-witness-');
const port = 20000 + Math.floor(Math.random() * 20000);
const child = spawn(
  process.execPath,
  ['bin/trailproof.js', 'witness', 'serve', '--port', String(port), '--data-dir', path.join(dir, 'state'), ...logs.flatMap((l) => ['--log', l.logEntry])],
  {
    env: { ...process.env, TRAILPROOF_WITNESS_KEY: keys.signerKey, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const url = `http://127.0.0.1:${port}`;
try {
  await waitFor(`${url}/healthz`, 60_000);
  const cosigned = new Map<TestLog, number>();
  /** Grows `log` by 1..512 leaves and has the new checkpoint cosigned; returns the latency in ms. */
  const step = async (log: TestLog): Promise<number> => {
    const old = cosigned.get(log) ?? 0;
    const size = old + 1 + Math.floor(Math.random() * 512);
    log.growTo(size);
    const [note, proof] = await Promise.all([log.checkpoint(size), log.proof(old, size)]);
    const t0 = performance.now();
    await addCheckpoint(url, { oldSize: old, proof, checkpointNote: note }, { witnessKey });
    const ms = performance.now() - t0;
    cosigned.set(log, size);
    return ms;
  };

  const sequential: number[] = [];
  for (let i = 0; i < checkpoints; i++) sequential.push(await step(logs[0]!));

  const t0 = performance.now();
  const concurrent = (
    await Promise.all(
      logs.map(async (log) => {
        const samples: number[] = [];
        for (let i = 0; i < checkpoints; i++) samples.push(await step(log));
        return samples;
      }),
    )
  ).flat();
  const seconds = (performance.now() - t0) / 1000;

  const result = {
    logs: logCount,
    checkpoints_per_log: checkpoints,
    sequential_latency_ms: percentiles(sequential),
    concurrent_latency_ms: percentiles(concurrent),
    concurrent_cosignatures_per_s: round(concurrent.length / seconds, 0),
    largest_tree: Math.max(...cosigned.values()),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await writeResult('witness', result);
} finally {
  child.kill('SIGTERM');
}
