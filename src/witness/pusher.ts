/**
 * Sends every checkpoint the service issues to each configured witness (c2sp.org/tlog-witness
 * add-checkpoint) and stores the cosignatures that verify with that witness's key in
 * ledger_cosignatures.
 *
 * - The old size is the largest checkpoint that witness cosigned for the tenant, from
 *   ledger_cosignatures ⋈ ledger_checkpoints (0 if none); a witness that is elsewhere (an answer was
 *   lost, another process pushed) says so with a 409 and the client retries once from its size.
 * - One push at a time per (witness, tenant); checkpoints arriving meanwhile collapse into the
 *   newest, which supersedes the rest (a witness only keeps the latest anyway).
 * - Network failures are retried with exponential backoff until a newer checkpoint arrives or the
 *   attempts run out; refusals are logged (a fork as an error: it is evidence of tampering).
 * - `push` never waits for a witness, so ingest and checkpointing are never held up.
 */
import type { Logger } from 'pino';
import { isTrailproofError } from '../errors.ts';
import { consistencyProof, type HashReader } from '../ledger/proofs.ts';
import type { Sql } from '../store/db.ts';
import { addCheckpoint, conflictKind } from './client.ts';
import type { WitnessEndpoint } from './endpoints.ts';

/** What the pusher needs of an issued checkpoint (a ledger_checkpoints row). */
export interface IssuedCheckpoint {
  id: number;
  tenant: string;
  size: number;
  /** The signed note as stored. */
  note: string;
}

export interface WitnessPusherOptions {
  sql: Sql;
  witnesses: readonly WitnessEndpoint[];
  /** The stored tree of a tenant, for consistency proofs. */
  hashReader: (tenant: string) => HashReader;
  logger?: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** First retry delay; doubles up to `maxDelayMs`. Default 1,000 / 60,000. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Tries per checkpoint and witness before giving up on it (the next checkpoint tries again). Default 8. */
  attempts?: number;
  /** Per HTTP request; default 10,000. */
  timeoutMs?: number;
}

interface Slot {
  witness: WitnessEndpoint;
  pending?: IssuedCheckpoint;
  running?: Promise<void>;
}

export class WitnessPusher {
  readonly #options: WitnessPusherOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #abort = new AbortController();
  readonly #log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  #closing = false;

  constructor(options: WitnessPusherOptions) {
    this.#options = options;
    this.#log = options.logger ?? { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
  }

  /** Queues `checkpoint` for every witness and returns at once (a checkpoint listener). */
  push(checkpoint: IssuedCheckpoint): void {
    if (this.#closing) return;
    for (const witness of this.#options.witnesses) {
      const key = `${witness.name}\n${checkpoint.tenant}`;
      const slot = this.#slots.get(key) ?? { witness };
      this.#slots.set(key, slot);
      if (!slot.pending || isNewer(checkpoint, slot.pending)) slot.pending = checkpoint;
      slot.running ??= this.#drain(key, slot);
    }
  }

  /** Settles when nothing is queued or under way. */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.#slots.values()].map((slot) => slot.running).filter((r) => r !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Stops taking checkpoints, lets pushes under way finish for up to `graceMs` (so the checkpoints
   * issued at shutdown still get witnessed), then aborts the rest.
   */
  async close(graceMs = 5_000): Promise<void> {
    this.#closing = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.idle(), grace]);
    clearTimeout(timer);
    this.#abort.abort();
    await this.idle();
  }

  async #drain(key: string, slot: Slot): Promise<void> {
    try {
      while (slot.pending) {
        const checkpoint = slot.pending;
        slot.pending = undefined;
        await this.#pushWithRetries(slot, checkpoint);
      }
    } finally {
      slot.running = undefined;
      this.#slots.delete(key);
    }
  }

  async #pushWithRetries(slot: Slot, checkpoint: IssuedCheckpoint): Promise<void> {
    const { witness } = slot;
    const attempts = this.#options.attempts ?? 8;
    let delay = this.#options.initialDelayMs ?? 1_000;
    const context = { witness: witness.name, url: witness.url, tenant: checkpoint.tenant, size: checkpoint.size, checkpoint: checkpoint.id };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#pushOnce(witness, checkpoint);
        return;
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        const code = isTrailproofError(err) ? err.code : undefined;
        const message = err instanceof Error ? err.message : String(err);
        const kind = conflictKind(err);
        if (kind === 'witness_ahead') {
          this.#log.debug({ ...context }, 'witness has cosigned a newer checkpoint; skipping this one');
          return;
        }
        if (kind === 'fork' || code === 'LEDGER_PROOF_INVALID') {
          this.#log.error(
            { ...context, code, reason: message },
            'witness push failed: the witness saw a fork or a bad proof, or its cosignature did not verify',
          );
          return;
        }
        const retryable = code === 'WITNESS_UNAVAILABLE' || code === 'WITNESS_CONFLICT' || !isTrailproofError(err);
        if (!retryable || attempt >= attempts || slot.pending || this.#closing) {
          this.#log.warn(
            { ...context, code, reason: message, attempt },
            slot.pending ? 'witness push failed; a newer checkpoint takes over' : 'witness push failed',
          );
          return;
        }
        this.#log.info({ ...context, code, reason: message, attempt, retryInMs: delay }, 'witness push failed; retrying');
        await sleep(delay, this.#abort.signal);
        delay = Math.min(delay * 2, this.#options.maxDelayMs ?? 60_000);
      }
    }
  }

  async #pushOnce(witness: WitnessEndpoint, checkpoint: IssuedCheckpoint): Promise<void> {
    const { sql } = this.#options;
    const reader = this.#options.hashReader(checkpoint.tenant);
    const proofFrom = (size: number) => (size === 0 || size === checkpoint.size ? Promise.resolve([]) : consistencyProof(reader, size, checkpoint.size));
    const [cosigned] = await sql<{ size: number }[]>`
      select coalesce(max(c.size), 0)::int8 as size
      from ledger_cosignatures s join ledger_checkpoints c on c.id = s.checkpoint_id
      where s.witness = ${witness.name} and c.tenant_id = ${checkpoint.tenant}`;
    const oldSize = cosigned?.size ?? 0;
    if (oldSize > checkpoint.size) {
      this.#log.debug(
        { witness: witness.name, tenant: checkpoint.tenant, size: checkpoint.size },
        'witness has cosigned a newer checkpoint; skipping this one',
      );
      return;
    }
    const result = await addCheckpoint(
      witness.url,
      { oldSize, proof: await proofFrom(oldSize), checkpointNote: checkpoint.note },
      {
        proofFrom,
        witnessKey: witness.verifier,
        signal: this.#abort.signal,
        ...(this.#options.timeoutMs !== undefined ? { timeoutMs: this.#options.timeoutMs } : {}),
      },
    );
    // The client returned only lines that verify with this witness's key; one per checkpoint is kept.
    const line = result.cosignatures[0];
    if (line === undefined) return;
    await sql`
      insert into ledger_cosignatures (checkpoint_id, witness, signature)
      values (${checkpoint.id}, ${witness.name}, ${line.replace(/\n$/, '')})
      on conflict (checkpoint_id, witness) do nothing`;
    this.#log.debug({ witness: witness.name, tenant: checkpoint.tenant, size: checkpoint.size }, 'checkpoint cosigned');
  }
}

function isNewer(a: IssuedCheckpoint, b: IssuedCheckpoint): boolean {
  return a.size > b.size || (a.size === b.size && a.id > b.id);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
