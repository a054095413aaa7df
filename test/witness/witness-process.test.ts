/**
 * `trailproof witness keygen` and `trailproof witness serve` as real processes: a log pushes a
 * sequence of checkpoints through the client, the witness is stopped (SIGTERM, then SIGKILL) and
 * restarted on the same data directory and still holds its place, refusing stale and forked trees.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCosignatureVerifierKey } from '../../src/ledger/cosignature.ts';
import { expectCodeAsync } from '../../src/ledger/testing/expect-code.ts';
import { addCheckpoint } from '../../src/witness/client.ts';
import { withCosignatures } from '../../src/witness/cosigned-note.ts';
import { tempDir, TestLog } from '../../src/witness/testing/test-log.ts';
import { verifyCosignature } from '../independent/spec-verifier.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { freePort, killStartedProcesses, randomAdminKey, request, runCli, startServerProcess } from '../helpers/server-process.ts';
import { verifySignedNote } from '../independent/spec-verifier.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/trailproof.js');
const children = new Set<ChildProcess>();

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await killStartedProcesses();
});

interface WitnessProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

async function startWitness(args: string[], env: Record<string, string> = {}, port?: number): Promise<WitnessProcess> {
  port ??= await freePort();
  const child = spawn(process.execPath, [BIN, 'witness', 'serve', '--port', String(port), ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`witness exited early:\n${output}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`witness not ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop: async (signal) => {
      child.kill(signal);
      const code = await exited;
      children.delete(child);
      return code;
    },
  };
}

describe('trailproof witness (process)', () => {
  it('cosigns a growing log, refuses stale, forked and rolled-back checkpoints, and keeps its state across restarts', async () => {
    const dir = await tempDir();
    const keyFile = path.join(dir, 'witness.key');
    const keygen = await runCli(['witness', 'keygen', '--name', 'witness.test/proc', '--out', keyFile]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const verifierKey = keygen.stdout.trim();
    expect((await readFile(keyFile, 'utf8')).startsWith('PRIVATE+KEY+witness.test/proc+')).toBe(true);
    expect(keygen.stdout).not.toContain('PRIVATE');
    const witnessKey = parseCosignatureVerifierKey(verifierKey);

    const log = new TestLog('log.test/t/proc').growTo(2000);
    const args = ['--data-dir', path.join(dir, 'state'), '--key', keyFile, '--log', log.logEntry];
    let witness = await startWitness(args);
    expect(await (await fetch(`${witness.url}/`)).text()).toBe(`${verifierKey}\n`);

    const push = async (oldSize: number, size: number) => {
      const note = await log.checkpoint(size);
      const result = await addCheckpoint(witness.url, { oldSize, proof: await log.proof(oldSize, size), checkpointNote: note }, { witnessKey });
      const cosigned = withCosignatures(note, result.cosignatures);
      expect(verifyCosignature(cosigned, verifierKey).checkpoint.size).toBe(BigInt(size));
    };
    await push(0, 3);
    await push(3, 700);

    expect(await witness.stop('SIGTERM')).toBe(0);
    witness = await startWitness(args);
    await push(700, 701);
    const stale = await fetch(`${witness.url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${await log.checkpoint(900)}` });
    expect(stale.status).toBe(409);
    expect(stale.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(await stale.text()).toBe('701\n');

    // A crash leaves the lock file behind; the next start takes it over.
    await witness.stop('SIGKILL');
    witness = await startWitness(args);
    const fork = new TestLog(log.origin, { tag: 'forged', signerKey: log.signerKey }).growTo(2000);
    await expectCodeAsync('WITNESS_CONFLICT', async () => addCheckpoint(witness.url, { oldSize: 701, proof: [], checkpointNote: await fork.checkpoint(701) }));
    await expectCodeAsync('LEDGER_PROOF_INVALID', async () =>
      addCheckpoint(witness.url, { oldSize: 701, proof: await fork.proof(701, 1500), checkpointNote: await fork.checkpoint(1500) }),
    );
    await expectCodeAsync('REQUEST_INVALID', async () => addCheckpoint(witness.url, { oldSize: 701, proof: [], checkpointNote: await log.checkpoint(500) }));
    await push(701, 2000);

    // A second witness on the same directory is refused while the first runs.
    const second = await startWitness(args).then(
      () => 'started',
      (err: Error) => err.message,
    );
    expect(second).toContain('another witness');
    expect(await witness.stop('SIGTERM')).toBe(0);
  });

  it('explains a missing key or log at start', async () => {
    const dir = await tempDir();
    const noKey = await runCli(['witness', 'serve', '--data-dir', dir, '--log', new TestLog().logEntry]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('TRAILPROOF_WITNESS_KEY');
    const badLog = await runCli(['witness', 'serve', '--data-dir', dir, '--log', 'log.test/t/acme=not-a-key'], { TRAILPROOF_WITNESS_KEY: 'x' });
    expect(badLog.code).toBe(1);
    expect(badLog.stderr).toContain('CONFIG_INVALID');
    expect(badLog.stderr).toContain('log.test/t/acme');
  });

  it('witnesses a real trailproof serve: checkpoints pushed (after the witness comes up late) and served cosigned', async () => {
    const db = await createTestDatabase();
    try {
      const dir = await tempDir();
      const keyFile = path.join(dir, 'witness.key');
      const verifierKey = (await runCli(['witness', 'keygen', '--name', 'witness.test/e2e', '--out', keyFile])).stdout.trim();
      const witnessPort = await freePort();
      const adminKey = randomAdminKey();
      // The witness is down when the service starts: its first pushes fail and are retried.
      const server = await startServerProcess({
        env: { DATABASE_URL: db.url, TRAILPROOF_ADMIN_KEY: adminKey, TRAILPROOF_WITNESSES: `http://127.0.0.1:${witnessPort}=${verifierKey}` },
      });
      expect((await request(`${server.url}/v1/tenants`, adminKey, 'POST', { id: 'acme', name: 'Acme' })).status).toBe(201);
      const logKey = (await request(`${server.url}/v1/ledger/key?tenant=acme`, null)).text.trim();
      const origin = logKey.split('+')[0]!;
      const events = Array.from({ length: 300 }, (_, i) => ({ tenant: 'acme', action: 'user.login', actor: { type: 'user', id: `u${i}` } }));
      expect((await request(`${server.url}/v1/events`, adminKey, 'POST', { events })).status).toBe(200);

      await startWitness(['--data-dir', path.join(dir, 'state'), '--key', keyFile, '--log', `${origin}=${logKey}`], {}, witnessPort);
      const deadline = Date.now() + 30_000;
      let served = '';
      for (;;) {
        served = (await request(`${server.url}/t/acme/checkpoint`, adminKey)).text;
        if (served.includes('\u2014 witness.test/e2e ') && served.split('\n')[1] === '300') break;
        if (Date.now() > deadline) throw new Error(`no cosigned checkpoint of size 300 after 30 s:\n${served}\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(verifyCosignature(served, verifierKey).checkpoint.size).toBe(300n);
      verifySignedNote(served, logKey);
      expect((await server.stop('SIGTERM')).code).toBe(0);
      expect(server.output()).not.toContain('PRIVATE+KEY');
    } finally {
      await db.drop();
    }
  });
});
