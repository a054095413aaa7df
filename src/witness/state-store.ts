/**
 * What a witness remembers per log: the latest checkpoint it cosigned (c2sp.org/tlog-witness: "the
 * witness is only required to keep track of the latest checkpoint it observed and verified").
 *
 * One JSON file per origin under `<data dir>/logs/`, named by the SHA-256 of the origin (origins are
 * attacker-chosen text, never a path). Every update is written to a temporary file, fsynced, renamed
 * over the old one and the directory fsynced, so a crash leaves the old state or the new one, never
 * a mix; the witness answers only after `put` resolves ("MUST persist the new checkpoint before
 * responding"). A lock file keeps a second witness process off the same directory: two processes
 * could each accept one branch of a fork.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TrailproofError } from '../errors.ts';
import { sha256 } from '../ledger/crypto.ts';
import { decodeBase64, encodeBase64, isNatural } from '../ledger/encoding.ts';
import { isHash } from '../ledger/hash.ts';

export interface LogState {
  origin: string;
  /** Size and root of the latest cosigned checkpoint. */
  size: number;
  root: Buffer;
  /** That checkpoint as received, signatures included: evidence of what the log signed. */
  checkpoint: string;
  /** Time of the latest cosignature (unix seconds); later ones never go below it. */
  cosignedAt: number;
}

export class WitnessStateStore {
  readonly #dir: string;
  readonly #lockPath: string;
  readonly #cache = new Map<string, LogState | undefined>();
  #locked = false;

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, 'logs');
    this.#lockPath = path.join(dataDir, 'witness.lock');
  }

  /** Creates the directory and takes the lock; throws CONFIG_INVALID if another live witness holds it. */
  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    takeLock(this.#lockPath);
    this.#locked = true;
    HELD_LOCKS.add(this.#lockPath);
  }

  close(): void {
    if (!this.#locked) return;
    this.#locked = false;
    HELD_LOCKS.delete(this.#lockPath);
    try {
      unlinkSync(this.#lockPath);
    } catch {
      // already gone
    }
  }

  async get(origin: string): Promise<LogState | undefined> {
    if (this.#cache.has(origin)) return this.#cache.get(origin);
    let text: string;
    try {
      text = await readFile(this.#file(origin), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.#cache.set(origin, undefined);
      return undefined;
    }
    const state = parseState(text, origin, this.#file(origin));
    this.#cache.set(origin, state);
    return state;
  }

  async put(state: LogState): Promise<void> {
    const file = this.#file(state.origin);
    const temp = `${file}.${process.pid}.tmp`;
    const json = JSON.stringify({
      origin: state.origin,
      size: state.size,
      root: encodeBase64(state.root),
      checkpoint: state.checkpoint,
      cosignedAt: state.cosignedAt,
    });
    // The cache changes only once the file is durable: a failed write must not leave memory ahead.
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${json}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, file);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    await fsyncDirectory(this.#dir);
    this.#cache.set(state.origin, state);
  }

  /** Keeps the body of a request that showed log misbehaviour (a fork or a bad proof). */
  async saveEvidence(origin: string, reason: string, body: string): Promise<string> {
    const dir = path.join(path.dirname(this.#dir), 'evidence');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${originId(origin).slice(0, 16)}-${reason}.txt`);
    await writeFile(file, body, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') await writeFile(`${file}.${process.hrtime.bigint()}`, body, { mode: 0o600 });
      else throw err;
    });
    return file;
  }

  #file(origin: string): string {
    return path.join(this.#dir, `${originId(origin)}.json`);
  }
}

function originId(origin: string): string {
  return sha256(Buffer.from(origin, 'utf8')).toString('hex');
}

function parseState(text: string, origin: string, file: string): LogState {
  let value: Partial<Record<keyof LogState, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch (err) {
    throw corrupt(file, 'not JSON', err);
  }
  const root = typeof value.root === 'string' ? decodeBase64(value.root) : undefined;
  if (value.origin !== origin) throw corrupt(file, 'it belongs to another origin');
  if (!isNatural(value.size) || !root || !isHash(root) || typeof value.checkpoint !== 'string' || !isNatural(value.cosignedAt)) {
    throw corrupt(file, 'a field is missing or malformed');
  }
  return { origin, size: value.size, root, checkpoint: value.checkpoint, cosignedAt: value.cosignedAt };
}

/**
 * A witness state file that does not parse is never treated as "no state": that would let the
 * log start over from any tree. The operator has to look at it.
 */
function corrupt(file: string, reason: string, cause?: unknown): TrailproofError {
  return new TrailproofError('INTERNAL', `witness state ${file} is unreadable (${reason}); refusing to cosign for this log`, { cause });
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Lock files this process holds (a lock with our own pid but not in here is from an earlier life of that pid). */
const HELD_LOCKS = new Set<string>();

/** Creates the lock file with our pid; a lock left by a process that is gone is taken over. */
function takeLock(lockPath: string): void {
  if (HELD_LOCKS.has(lockPath)) throw new TrailproofError('CONFIG_INVALID', `this process already runs a witness on ${lockPath}`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new TrailproofError('CONFIG_INVALID', `another witness (pid ${pid}) is using this data directory (${lockPath})`);
    }
    unlinkSync(lockPath);
  }
  throw new TrailproofError('CONFIG_INVALID', `could not take the witness lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
