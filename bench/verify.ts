/**
 * `trailproof verify` throughput (issue 3 asks ≥ 200,000 events/s): a bundle of N demo events with a
 * checkpoint every K leaves, generated once with the ledger library into bench/.data and reused;
 * then a real `trailproof verify` process is timed end to end (start-up included), as it runs by
 * default (worker threads hashing leaves ahead of the engine) and with `--workers 0` (one thread),
 * and the engine alone in this process (no process start-up), in one thread and with the workers.
 *   npx tsx bench/verify.ts [--events 1000000] [--every 1000]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { demoEvents } from '../src/demo/generator.ts';
import { checkpointLine, endLine, headerLine, leafLine } from '../src/export/bundle-format.ts';
import { formatCheckpoint } from '../src/ledger/checkpoint.ts';
import { commitmentOfCanonical, eventLeafHash, SALT_SIZE } from '../src/ledger/envelope.ts';
import { canonicalJson } from '../src/ledger/jcs.ts';
import { TreeBuilder } from '../src/ledger/merkle.ts';
import { generateSignerKey, parseSignerKey, signNote } from '../src/ledger/note.ts';
import { randomBytes } from 'node:crypto';
import { verifyStream } from '../src/verify/verify-stream.ts';
import { round, writeResult } from './lib.ts';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const events = arg('--events', 1_000_000);
const every = arg('--every', 1_000);
const dir = path.resolve('bench/.data');
const bundle = path.join(dir, `verify-${events}-${every}.tpbundle.jsonl`);
const keyFile = `${bundle}.vkey`;

if (!fs.existsSync(bundle) || !fs.existsSync(keyFile)) await generate();
const verifierKey = fs.readFileSync(keyFile, 'utf8').trim();
const bytes = fs.statSync(bundle).size;

// The engine alone, in this process (no start-up), after one warm-up pass over a slice.
// CPU time too: on a shared machine the wall clock also counts waiting for a core.
const engineStart = performance.now();
const cpuStart = process.cpuUsage();
const inProcess = await verifyStream(fs.createReadStream(bundle, { highWaterMark: 1 << 20 }), { keys: [verifierKey] });
const engineSeconds = (performance.now() - engineStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
const engineCpuSeconds = (cpu.user + cpu.system) / 1e6;
if (!inProcess.ok) throw new Error(`the generated bundle does not verify: ${JSON.stringify(inProcess.first)}`);

// The engine fed by worker threads, in this process (their start-up included, the process's not).
const workers = Math.min(4, os.availableParallelism());
const parallelStart = performance.now();
const parallelCpuStart = process.cpuUsage();
const parallel = await verifyStream(fs.createReadStream(bundle, { highWaterMark: 1 << 20 }), { keys: [verifierKey] }, { workers });
const parallelSeconds = (performance.now() - parallelStart) / 1000;
const parallelCpu = process.cpuUsage(parallelCpuStart);
if (JSON.stringify(parallel) !== JSON.stringify(inProcess)) throw new Error('the reports with and without worker threads differ');

// The command a user runs: by default, and in one thread.
const cli = (extra: string[]) => {
  const start = performance.now();
  const out = execFileSync(process.execPath, ['bin/trailproof.js', 'verify', bundle, '--key', keyFile, '--json', ...extra], { maxBuffer: 1 << 24 }).toString();
  const seconds = (performance.now() - start) / 1000;
  const report = JSON.parse(out) as { ok: boolean; leaves: number; checkpoints: { verified: number } };
  if (!report.ok || report.leaves !== events) throw new Error(`trailproof verify did not verify the bundle: ${out.slice(0, 500)}`);
  return { seconds, report };
};
const { seconds: cliSeconds, report } = cli([]);
const { seconds: oneThreadSeconds } = cli(['--workers', '0']);

const result = {
  events,
  checkpoints: report.checkpoints.verified,
  bundleMiB: round(bytes / 2 ** 20, 1),
  cliSeconds: round(cliSeconds),
  cliEventsPerSecond: Math.round(events / cliSeconds),
  cliWorkers: os.availableParallelism() < 2 ? 0 : workers,
  oneThreadSeconds: round(oneThreadSeconds),
  oneThreadEventsPerSecond: Math.round(events / oneThreadSeconds),
  engineSeconds: round(engineSeconds),
  engineEventsPerSecond: Math.round(events / engineSeconds),
  engineCpuSeconds: round(engineCpuSeconds),
  engineEventsPerCpuSecond: Math.round(events / engineCpuSeconds),
  engineWithWorkersSeconds: round(parallelSeconds),
  engineWithWorkersEventsPerSecond: Math.round(events / parallelSeconds),
  engineWithWorkersCpuSeconds: round((parallelCpu.user + parallelCpu.system) / 1e6),
  loadAverage: round(os.loadavg()[0]!, 1),
  cpus: os.cpus().length,
};
process.stdout.write(
  `trailproof verify: ${events} events (${result.bundleMiB} MiB, ${result.checkpoints} checkpoints) in ${result.cliSeconds} s = ${result.cliEventsPerSecond} events/s with ${result.cliWorkers} workers ` +
    `(--workers 0: ${result.oneThreadEventsPerSecond} events/s; engine alone in this process: ${result.engineWithWorkersEventsPerSecond} events/s with ${workers} workers, ` +
    `${result.engineEventsPerSecond} events/s in one thread, ${result.engineEventsPerCpuSecond} events per CPU-second; load ${result.loadAverage} on ${result.cpus} CPUs)\n`,
);
await writeResult('verify', result);

/** Streams a bundle of demo events to disk, signing a checkpoint every `every` leaves. */
async function generate(): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const tenant = 'bench';
  const origin = `bench.trailproof/t/${tenant}`;
  const keys = generateSignerKey(origin);
  const signer = parseSignerKey(keys.signerKey);
  const out = fs.createWriteStream(`${bundle}.tmp`);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve)));
  const tree = new TreeBuilder();
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  let checkpoints = 0;
  const sign = () => {
    checkpoints += 1;
    return checkpointLine({
      note: signNote(formatCheckpoint({ origin, size: tree.size, root: tree.root() }), [signer]),
      issued_at: new Date().toISOString(),
      cosignatures: [],
    });
  };
  await write(headerLine({ tenant, origin, verifier_keys: [keys.verifierKey], size: events, created_at: new Date().toISOString() }));
  let chunk = '';
  let index = 0;
  for (const body of demoEvents(events, { from: new Date(start), to: new Date(start + 86_400_000 * 30) })) {
    const salt = randomBytes(SALT_SIZE);
    const event = canonicalJson(body);
    const c = commitmentOfCanonical(salt, Buffer.from(event));
    const received_at = new Date(start + index).toISOString();
    const uid = `${(start + index)
      .toString(16)
      .padStart(12, '0')
      .replace(/^(.{8})(.{4})$/, '$1-$2')}-7000-8000-${index.toString(16).padStart(12, '0')}`;
    chunk += leafLine({ index, uid, received_at, commitment: c.toString('hex'), salt: salt.toString('hex'), event });
    tree.push(eventLeafHash({ tenant, index, uid, received_at, commitment: c }));
    index += 1;
    if (index % every === 0 || index === events) chunk += sign();
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk + endLine({ leaves: events, checkpoints }));
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  fs.renameSync(`${bundle}.tmp`, bundle);
  fs.writeFileSync(keyFile, `${keys.verifierKey}\n`);
}
