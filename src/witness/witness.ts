/**
 * A c2sp.org/tlog-witness witness, without HTTP: checks an `add-checkpoint` request against the
 * latest checkpoint it cosigned for the log and, if the log only grew, records the new one and
 * returns its c2sp.org/tlog-cosignature (cosignature/v1) signature line.
 *
 * The checks, in the spec's order, and what each failure answers:
 *   body malformed                                  400 REQUEST_INVALID
 *   origin not configured                           404 WITNESS_UNKNOWN_LOG
 *   no signature by a key trusted for the origin    403 WITNESS_UNTRUSTED_SIGNATURE
 *   old size > checkpoint size                      400 REQUEST_INVALID
 *   old size ≠ latest cosigned size                 409 + latest size (text/x.tlog.size)
 *   old size 0 with a non-empty proof               400 REQUEST_INVALID
 *   same size, other root (a fork)                  409 + latest size
 *   consistency proof does not verify               422 LEDGER_PROOF_INVALID
 * Checking the old size and recording the new state happen under one per-origin lock, so two
 * concurrent requests can never roll the recorded tree back (the race the spec describes).
 */
import { TrailproofError } from '../errors.ts';
import { parseCheckpoint, type Checkpoint } from '../ledger/checkpoint.ts';
import type { Cosigner } from '../ledger/cosignature.ts';
import { constantTimeEqual } from '../ledger/crypto.ts';
import { formatSignatureLine, openNote, type NoteVerifier } from '../ledger/note.ts';
import { verifyConsistency } from '../ledger/verify-proof.ts';
import { parseAddCheckpointBody } from './add-checkpoint-body.ts';
import type { LogState, WitnessStateStore } from './state-store.ts';

export interface WitnessOptions {
  cosigner: Cosigner;
  /** Per log origin, the verifier keys trusted for its checkpoints (several during a key rotation). */
  logs: ReadonlyMap<string, readonly NoteVerifier[]>;
  store: WitnessStateStore;
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
  /** Told when a request showed log misbehaviour (its body is saved in the data dir). */
  onMisbehaviour?: (report: { origin: string; reason: 'fork' | 'inconsistent'; file: string }) => void;
}

export type AddCheckpointOutcome =
  /** 200: the cosignature line(s), each ending in a newline. */
  | { cosigned: true; signatures: string; checkpoint: Checkpoint }
  /** 409: the size of the latest cosigned checkpoint; `fork` when the request had that size but another root. */
  | { cosigned: false; size: number; fork: boolean };

export class Witness {
  readonly #options: WitnessOptions;
  readonly #clock: () => number;
  /** Tail of the queue of requests per origin. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(options: WitnessOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** The witness's public key, `<name>+<id>+<base64(0x04 || key)>`. */
  get verifierKey(): string {
    return this.#options.cosigner.verifierKey;
  }

  get origins(): string[] {
    return [...this.#options.logs.keys()];
  }

  async addCheckpoint(body: Buffer | string): Promise<AddCheckpointOutcome> {
    const request = parseAddCheckpointBody(body);
    const { text, checkpoint } = parseSignedCheckpoint(request.checkpoint);
    const verifiers = this.#options.logs.get(checkpoint.origin);
    if (!verifiers) throw new TrailproofError('WITNESS_UNKNOWN_LOG', `this witness does not know the log ${JSON.stringify(checkpoint.origin)}`);
    try {
      openNote(request.checkpoint, verifiers);
    } catch (err) {
      throw new TrailproofError(
        'WITNESS_UNTRUSTED_SIGNATURE',
        `no signature on the checkpoint verifies with a key trusted for ${JSON.stringify(checkpoint.origin)}`,
        { cause: err },
      );
    }
    if (request.oldSize > checkpoint.size) {
      throw new TrailproofError('REQUEST_INVALID', `old size ${request.oldSize} is larger than the checkpoint size ${checkpoint.size}`);
    }
    return this.#serialised(checkpoint.origin, async () => {
      const state = await this.#options.store.get(checkpoint.origin);
      const latest = state?.size ?? 0;
      if (request.oldSize !== latest) return { cosigned: false, size: latest, fork: false };
      if (request.oldSize === 0 && request.proof.length > 0) {
        throw new TrailproofError('REQUEST_INVALID', 'the consistency proof must be empty when the old size is 0');
      }
      if (state && state.size === checkpoint.size && !constantTimeEqual(state.root, checkpoint.root)) {
        await this.#misbehaviour(checkpoint.origin, 'fork', body);
        return { cosigned: false, size: latest, fork: true };
      }
      if (state && state.size > 0) {
        try {
          verifyConsistency(state.size, checkpoint.size, request.proof, state.root, checkpoint.root);
        } catch (err) {
          await this.#misbehaviour(checkpoint.origin, 'inconsistent', body);
          throw err;
        }
      }
      return this.#cosign(state, checkpoint, text, request.checkpoint);
    });
  }

  async #cosign(state: LogState | undefined, checkpoint: Checkpoint, text: string, note: string): Promise<AddCheckpointOutcome> {
    const { cosigner, store } = this.#options;
    // A later cosignature never states an earlier time than the previous one, even if the clock steps back.
    const cosignedAt = Math.max(Math.floor(this.#clock() / 1000), state?.cosignedAt ?? 0);
    const signature = cosigner.signAt(Buffer.from(text, 'utf8'), cosignedAt);
    await store.put({ origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.root, checkpoint: note, cosignedAt });
    return { cosigned: true, signatures: formatSignatureLine({ name: cosigner.name, keyId: cosigner.keyId, signature }), checkpoint };
  }

  async #misbehaviour(origin: string, reason: 'fork' | 'inconsistent', body: Buffer | string): Promise<void> {
    // The log signed this request: keep it, it may prove a split view (tlog-witness allows logging it).
    const file = await this.#options.store.saveEvidence(origin, reason, body.toString());
    this.#options.onMisbehaviour?.({ origin, reason, file });
  }

  #serialised<T>(origin: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(origin) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.catch(() => {});
    this.#queues.set(origin, tail);
    void tail.then(() => {
      if (this.#queues.get(origin) === tail) this.#queues.delete(origin);
    });
    return run;
  }
}

/** The note text (up to the last blank line) parsed as a checkpoint; malformed → 400. */
function parseSignedCheckpoint(note: string): { text: string; checkpoint: Checkpoint } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new TrailproofError('REQUEST_INVALID', 'malformed add-checkpoint request: the checkpoint has no signature lines');
  const text = note.slice(0, split + 1);
  try {
    return { text, checkpoint: parseCheckpoint(text) };
  } catch (err) {
    throw new TrailproofError('REQUEST_INVALID', `malformed add-checkpoint request: ${(err as Error).message}`, { cause: err });
  }
}
