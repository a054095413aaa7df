/**
 * The real service in its own process: `node bin/trailproof.js serve` on a free port, driven over
 * HTTP, stopped by signal. bin/trailproof.js runs the compiled dist/, which the global setup
 * (test/global-setup.ts) brings up to date before any test. Used by the reliability and CLI suites, which need what `app.inject()`
 * cannot give: signals, SIGKILL mid-write, restarts on the same database, the embedded PostgreSQL.
 *
 * Every process started here is remembered; `killStartedProcesses()` (call it in afterAll/afterEach)
 * SIGKILLs whatever is still alive, so a failing test never leaves a server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { generateSignerKey } from '../../src/ledger/note.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/trailproof.js');

/** Environment variables of the test runner that must not leak into the service's configuration. */
const CONFIG_VARS = [
  'DATABASE_URL',
  'TRAILPROOF_DATA_DIR',
  'TRAILPROOF_ADMIN_KEY',
  'PORT',
  'HOST',
  'LOG_LEVEL',
  'TRAILPROOF_RATE_LIMIT',
  'TRAILPROOF_DB_POOL',
  'TRAILPROOF_BODY_IDLE_SECONDS',
  'TRAILPROOF_MAX_FUTURE_SKEW_SECONDS',
  'TRAILPROOF_LEDGER_KEY',
  'TRAILPROOF_LEDGER_KEY_FILE',
  'TRAILPROOF_LEDGER_HOST',
  'TRAILPROOF_LEDGER_VERIFIER_KEYS',
  'TRAILPROOF_CHECKPOINT_REISSUE_SECONDS',
  'TRAILPROOF_WITNESSES',
  'TRAILPROOF_VIEWER_SECRET',
  'TRAILPROOF_SECRET_KEY',
  'TRAILPROOF_STREAM_MAX_FAILURES',
  'TRAILPROOF_STREAM_TIMEOUT_SECONDS',
  'TRAILPROOF_STREAM_RETRY_MAX_SECONDS',
  'TRAILPROOF_STREAM_LEASE_SECONDS',
  'TRAILPROOF_ALERT_WEBHOOK',
];

/** The ledger signing key of every server this test process starts (unless a test passes its own). */
export const TEST_LEDGER_KEY = generateSignerKey('test.trailproof').signerKey;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  /**
   * Sends `signal` (none when null: the caller already did) and waits for the exit; after
   * `timeoutMs` the process is SIGKILLed and the promise rejects.
   */
  stop(signal?: NodeJS.Signals | null, timeoutMs?: number): Promise<Exit>;
}

export interface StartOptions {
  /** Extra arguments after `serve --port N` (e.g. `--data-dir`). */
  args?: string[];
  /** Configuration variables (DATABASE_URL, TRAILPROOF_ADMIN_KEY, LOG_LEVEL …). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

const started = new Set<ChildProcess>();

/** A fresh admin key (the service accepts any string of 32+ characters as TRAILPROOF_ADMIN_KEY). */
export function randomAdminKey(): string {
  return `test-admin-${randomBytes(24).toString('hex')}`;
}

export async function startServerProcess(options: StartOptions = {}): Promise<ServerProcess> {
  // The port is free when chosen but could be taken before the child binds it: retry on EADDRINUSE.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = spawnServer(port, options);
    try {
      await waitForReady(server, options.readyTimeoutMs ?? 60_000);
      return server;
    } catch (err) {
      await server.stop('SIGKILL').catch(() => {});
      if (attempt < 3 && server.output().includes('PORT_IN_USE')) continue;
      throw err;
    }
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** What the command wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the command has ended (rejects after `timeoutMs`, having SIGKILLed it). */
  done: Promise<CliResult>;
}

/** Starts a CLI command: `node bin/trailproof.js ...args`. */
export function startCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`trailproof ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      started.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs a CLI command to completion: `node bin/trailproof.js ...args`. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return startCli(args, env, timeoutMs).done;
}

/** SIGKILLs every process started here that is still running. */
export async function killStartedProcesses(): Promise<void> {
  await Promise.all(
    [...started].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  started.clear();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** fetch with a bearer key and a JSON body; never throws on an HTTP status. */
export async function request(url: string, key: string | null, method = 'GET', body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(url, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}

function spawnServer(port: number, options: StartOptions): ServerProcess {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), ...(options.args ?? [])], {
    cwd: ROOT,
    env: childEnv({ LOG_LEVEL: 'warn', TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY, ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    });
  });
  const stop = async (signal: NodeJS.Signals | null = 'SIGTERM', timeoutMs = 30_000): Promise<Exit> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    if (signal) child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`server did not exit within ${timeoutMs} ms of ${signal}\n${output}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { url: `http://127.0.0.1:${port}`, port, child, output: () => output, exited, stop };
}

/** Waits until the server answers /readyz; rejects with its output if it exits first or after `timeoutMs`. */
export async function waitForReady(server: Pick<ServerProcess, 'url' | 'exited' | 'output'>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: Exit | undefined;
  void server.exited.then((e) => (exit = e));
  for (;;) {
    if (exit) throw new Error(`server exited before it was ready (code ${exit.code}, signal ${exit.signal})\n${server.output()}`);
    try {
      const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${server.url}/readyz not ready after ${timeoutMs} ms\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The test runner's environment without the service's configuration variables, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONFIG_VARS) delete base[name];
  return { ...base, ...env };
}
