/**
 * One owner per data directory. The owner of a data dir runs its embedded PostgreSQL: it starts the
 * server (or adopts one left running), and it alone stops it, when it leaves while no other process
 * uses the database. Every other process on the data dir is a member: it shares the running server
 * and never stops it. A `serve` owns its data dir alone (a second one is refused); CLI commands
 * share it with a server or with each other, and one of them owns it when no server runs.
 *
 * Ownership is a listening Unix socket whose address derives from the data dir's real path: the
 * kernel lets one process bind it at a time and frees it when that process ends, however it ends
 * (SIGKILL included), so no lock file goes stale and no recorded pid can be reused by another
 * program. On Linux the socket is in the abstract namespace (no file); elsewhere it is a file in the
 * temporary directory, which a process that finds nobody answering on it removes.
 *
 * Members stay connected to the owner while they use the database. When the owner leaves with
 * members left, it leaves the server running and closes their connections; they bind again, and
 * the first to bind owns the data dir (and stops the server when it leaves last). A `serve` that
 * finds a CLI command owning the data dir is handed it: the command becomes a member of the server.
 *
 * Messages are lines of JSON:
 *   member → owner  {"op":"join","user":…}
 *   owner → member  {"op":"wait","owner":…}      the owner is starting the server; `ready` follows
 *                   {"op":"ready","owner":…}     the server runs; stay connected while using it
 *                   {"op":"busy","owner":…}      to a `serve` when a `serve` owns the data dir
 *                   {"op":"released","owner":…}  to a `serve` when a CLI owner handed over: bind now
 *                   {"op":"retry"}               the owner is leaving (stopping the server): join again
 *                   {"op":"moved","handover":b}  the owner left, the server runs: join the next owner
 * Nothing in them is trusted for more than a message: the abstract namespace has no permissions, so
 * the database's port is read from its own `postmaster.pid`, never taken from the socket.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TrailproofError } from '../errors.ts';

/** A process using a data dir, as other processes on it describe it. */
export interface DataDirUser {
  pid: number;
  /** A `serve` owns its data dir alone; CLI commands share one. */
  role: 'serve' | 'cli';
  /** What the process runs, for messages: `serve`, `demo`, `keys create`, … */
  command: string;
  /** A server's HTTP address. */
  url?: string | undefined;
}

/** What an owner does with the embedded server. */
export interface OwnedServer {
  /** Makes sure the server runs (starts it, or adopts one left running); `previous`: the owner before, if known. */
  ensureRunning(previous: DataDirUser | undefined): Promise<void>;
  /** Stops the server: the owner leaves and no member is left. */
  stop(): Promise<void>;
}

export interface DataDirClaim {
  /** Whether this process owns the data dir at the moment (a member becomes owner when the owner leaves first). */
  readonly owner: boolean;
  /** Leaves the data dir; the owner stops the server unless members are left, who then elect the next owner. */
  release(): Promise<void>;
}

/** How long members handed over to a `serve` only join, so that the server, not one of them, binds next. */
const FOLLOW_MS = 3000;
/** How long a process waits for an owner that starts the server, or for a leaving one. */
const OWNER_TIMEOUT_MS = 180_000;
/** An owner answers a join at once (with `wait` at the latest). */
const ANSWER_TIMEOUT_MS = 10_000;

/** Becomes the owner of `dataDir` (an existing directory) or a member of its owner; throws DATA_DIR_IN_USE for a `serve` beside a `serve`. */
export async function claimDataDir(dataDir: string, user: DataDirUser, server: OwnedServer, log: (message: string) => void): Promise<DataDirClaim> {
  const claim = new Claim(dataDir, user, server, log);
  await claim.acquire(false);
  return claim;
}

/** `trailproof serve (pid 12, http://127.0.0.1:3700)`. */
export function describeUser(user: DataDirUser): string {
  return `trailproof ${user.command} (pid ${user.pid}${user.url ? `, ${user.url}` : ''})`;
}

type Message =
  | { op: 'join'; user: DataDirUser }
  | { op: 'wait' | 'ready' | 'busy' | 'released'; owner: DataDirUser }
  | { op: 'retry' }
  | { op: 'moved'; handover: boolean };

type JoinAnswer =
  | { kind: 'member'; socket: net.Socket; owner: DataDirUser; later: (handler: (message: Message) => void) => void }
  | { kind: 'busy'; owner: DataDirUser }
  | { kind: 'released'; owner: DataDirUser }
  | { kind: 'absent' }
  | { kind: 'again' };

class Claim implements DataDirClaim {
  readonly #dataDir: string;
  readonly #address: string;
  readonly #user: DataDirUser;
  readonly #server: OwnedServer;
  readonly #log: (message: string) => void;
  /** Set while this process owns the data dir. */
  #listener: net.Server | undefined;
  #phase: 'starting' | 'ready' | 'leaving' = 'starting';
  /** Members connected to this owner, and joins waiting for the server to start. */
  readonly #members = new Map<net.Socket, DataDirUser>();
  readonly #waiting = new Map<net.Socket, DataDirUser>();
  /** Set while this process is a member: its connection to the owner, and who that is. */
  #ownerConnection: net.Socket | undefined;
  #owner: DataDirUser | undefined;
  /** A member's joining again after its owner left. */
  #rejoining: Promise<void> | undefined;
  #releasing: Promise<void> | undefined;

  constructor(dataDir: string, user: DataDirUser, server: OwnedServer, log: (message: string) => void) {
    this.#dataDir = dataDir;
    this.#address = socketAddress(dataDir);
    this.#user = user;
    this.#server = server;
    this.#log = log;
  }

  get owner(): boolean {
    return this.#listener !== undefined;
  }

  /** Binds (then owns) or joins the owner, until one succeeds. `follow`: only join for FOLLOW_MS first. */
  async acquire(follow: boolean): Promise<void> {
    const started = Date.now();
    let delay = 10;
    for (;;) {
      if (Date.now() - started > OWNER_TIMEOUT_MS) {
        throw new TrailproofError('DATA_DIR_IN_USE', `the owner of the data dir ${this.#dataDir} did not let it go within ${OWNER_TIMEOUT_MS / 1000} s`);
      }
      if (!follow || Date.now() - started >= FOLLOW_MS) {
        const listener = await bind(this.#address);
        if (listener) return this.#own(listener);
      }
      const answer = await join(this.#address, this.#user, (owner) => this.#log(`waiting for ${describeUser(owner)} to start PostgreSQL`));
      if (answer.kind === 'member') return this.#join(answer);
      if (answer.kind === 'busy') {
        throw new TrailproofError(
          'DATA_DIR_IN_USE',
          `the data dir ${this.#dataDir} is in use by ${describeUser(answer.owner)}; stop that server first, or give this one another --data-dir`,
        );
      }
      if (answer.kind === 'released') {
        this.#owner = answer.owner;
        follow = false;
        continue;
      }
      // Nobody bound: a path socket left by an owner that died is removed (the abstract namespace has none).
      if (answer.kind === 'absent' && !isAbstract(this.#address)) fs.rmSync(this.#address, { force: true });
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, 200);
    }
  }

  release(): Promise<void> {
    return (this.#releasing ??= this.#release());
  }

  async #release(): Promise<void> {
    await this.#rejoining?.catch(() => {});
    if (this.#ownerConnection) {
      this.#ownerConnection.destroy();
      this.#ownerConnection = undefined;
      return;
    }
    const listener = this.#listener;
    if (!listener) return;
    this.#phase = 'leaving';
    for (const socket of this.#waiting.keys()) send(socket, { op: 'retry' }, true);
    this.#waiting.clear();
    if (this.#members.size > 0) {
      this.#log(`leaving PostgreSQL running for ${[...this.#members.values()].map(describeUser).join(', ')}`);
      this.#stopListening();
      for (const socket of this.#members.keys()) send(socket, { op: 'moved', handover: false }, true);
      this.#members.clear();
      return;
    }
    // Joins that arrive meanwhile are told to retry, so nobody starts using the server being stopped.
    try {
      await this.#server.stop();
    } finally {
      this.#stopListening();
    }
  }

  async #own(listener: net.Server): Promise<void> {
    this.#listener = listener;
    this.#phase = 'starting';
    listener.on('connection', (socket) => this.#onConnection(socket));
    const previous = this.#owner;
    this.#owner = undefined;
    try {
      await this.#server.ensureRunning(previous);
    } catch (err) {
      this.#phase = 'leaving';
      for (const socket of this.#waiting.keys()) send(socket, { op: 'retry' }, true);
      this.#waiting.clear();
      this.#stopListening();
      throw err;
    }
    this.#phase = 'ready';
    for (const [socket, user] of this.#waiting) this.#admit(socket, user);
    this.#waiting.clear();
  }

  #join(answer: Extract<JoinAnswer, { kind: 'member' }>): void {
    const { socket, owner } = answer;
    this.#ownerConnection = socket;
    this.#owner = owner;
    socket.unref();
    let handover = false;
    answer.later((message) => {
      if (message.op === 'moved') handover = message.handover;
    });
    socket.once('close', () => {
      if (this.#ownerConnection !== socket) return;
      this.#ownerConnection = undefined;
      if (this.#releasing) return;
      // The owner left (or died): bind or join whoever binds first.
      this.#rejoining = this.acquire(handover).catch((err: unknown) => {
        this.#log(`could not take over the data dir ${this.#dataDir}: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
  }

  #onConnection(socket: net.Socket): void {
    socket.unref();
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#members.delete(socket);
      this.#waiting.delete(socket);
    });
    onMessages(socket, (message) => {
      if (message.op !== 'join' || !validUser(message.user)) return void socket.destroy();
      if (this.#phase === 'leaving' || !this.#listener) return send(socket, { op: 'retry' }, true);
      if (this.#phase === 'starting') {
        send(socket, { op: 'wait', owner: this.#user });
        this.#waiting.set(socket, message.user);
        return;
      }
      this.#admit(socket, message.user);
    });
  }

  #admit(socket: net.Socket, user: DataDirUser): void {
    if (socket.destroyed) return;
    if (user.role === 'cli') {
      send(socket, { op: 'ready', owner: this.#user });
      this.#members.set(socket, user);
    } else if (this.#user.role === 'serve') {
      send(socket, { op: 'busy', owner: this.#user }, true);
    } else {
      this.#handOver(socket, user);
    }
  }

  /** A CLI owner gives the data dir to a `serve` and joins it as a member, with its own members. */
  #handOver(socket: net.Socket, server: DataDirUser): void {
    this.#stopListening();
    for (const member of this.#members.keys()) send(member, { op: 'moved', handover: true }, true);
    this.#members.clear();
    send(socket, { op: 'released', owner: this.#user }, true);
    this.#owner = server;
    this.#rejoining = this.acquire(true).catch((err: unknown) => {
      this.#log(`could not join ${describeUser(server)}: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** Frees the address at once (and removes a path socket's file); the members' connections stay open. */
  #stopListening(): void {
    this.#listener?.close();
    this.#listener = undefined;
  }
}

/** The data dir's socket: abstract on Linux, a file in the temporary directory elsewhere. */
function socketAddress(dataDir: string): string {
  const id = createHash('sha256').update(fs.realpathSync(dataDir)).digest('hex').slice(0, 32);
  return process.platform === 'linux' ? `\0trailproof-data-dir-${id}` : path.join(os.tmpdir(), `trailproof-${id}.sock`);
}

function isAbstract(address: string): boolean {
  return address.startsWith('\0');
}

/** Listens on `address`, or undefined when another process has it. */
function bind(address: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const listener = net.createServer();
    listener.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    listener.listen({ path: address }, () => {
      listener.removeAllListeners('error');
      listener.on('error', () => {});
      listener.unref();
      resolve(listener);
    });
  });
}

/** Connects to the owner and joins; a `member` answer keeps the connection open. */
function join(address: string, user: DataDirUser, onWait: (owner: DataDirUser) => void): Promise<JoinAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect({ path: address });
    let later: (message: Message) => void = () => {};
    let settled = false;
    const settle = (answer: JoinAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (answer.kind !== 'member') socket.destroy();
      resolve(answer);
    };
    let timer = setTimeout(() => settle({ kind: 'again' }), ANSWER_TIMEOUT_MS);
    socket.on('error', (err: NodeJS.ErrnoException) => settle(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? { kind: 'absent' } : { kind: 'again' }));
    socket.on('close', () => settle({ kind: 'again' }));
    socket.on('connect', () => send(socket, { op: 'join', user }));
    onMessages(socket, (message) => {
      if (settled) return later(message);
      if (message.op === 'wait' && validUser(message.owner)) {
        onWait(message.owner);
        clearTimeout(timer);
        timer = setTimeout(() => settle({ kind: 'again' }), OWNER_TIMEOUT_MS);
      } else if (message.op === 'ready' && validUser(message.owner)) {
        settle({ kind: 'member', socket, owner: message.owner, later: (handler) => (later = handler) });
      } else if (message.op === 'busy' && validUser(message.owner)) {
        settle({ kind: 'busy', owner: message.owner });
      } else if (message.op === 'released' && validUser(message.owner)) {
        settle({ kind: 'released', owner: message.owner });
      } else {
        settle({ kind: 'again' });
      }
    });
  });
}

function send(socket: net.Socket, message: Message, end = false): void {
  if (socket.destroyed) return;
  const line = `${JSON.stringify(message)}\n`;
  if (end) socket.end(line);
  else socket.write(line);
}

/** Calls `handle` with each JSON line read from `socket`; anything else closes it. */
function onMessages(socket: net.Socket, handle: (message: Message) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > 65_536) return void socket.destroy();
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      let message: Message;
      try {
        message = JSON.parse(line) as Message;
      } catch {
        return void socket.destroy();
      }
      if (typeof message !== 'object' || message === null) return void socket.destroy();
      handle(message);
    }
  });
}

function validUser(user: unknown): user is DataDirUser {
  const u = user as DataDirUser | null;
  return (
    typeof u === 'object' &&
    u !== null &&
    Number.isInteger(u.pid) &&
    (u.role === 'serve' || u.role === 'cli') &&
    typeof u.command === 'string' &&
    (u.url === undefined || typeof u.url === 'string')
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
