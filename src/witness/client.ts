/**
 * The client side of c2sp.org/tlog-witness `add-checkpoint`: sends a signed checkpoint with a
 * consistency proof and returns the witness's cosignature lines.
 *
 * A 409 means the witness's latest cosigned size is not the `oldSize` we sent (say, its answer to
 * an earlier request was lost): the client reads that size from the body and, given a proof
 * provider, retries once from there. Everything the witness sends is attacker-controlled.
 *
 * Failures are TrailproofErrors: WITNESS_UNKNOWN_LOG (404), WITNESS_UNTRUSTED_SIGNATURE (403),
 * WITNESS_CONFLICT (409 we cannot resolve: see conflictKind),
 * LEDGER_PROOF_INVALID (422, or cosignatures that do not verify), REQUEST_INVALID (400) and
 * WITNESS_UNAVAILABLE (network, timeout, 5xx or any other answer: worth retrying later).
 */
import { TrailproofError } from '../errors.ts';
import { parseCheckpoint } from '../ledger/checkpoint.ts';
import { formatSignatureLine, openNote, type NoteVerifier } from '../ledger/note.ts';
import { formatAddCheckpointBody, parseTlogSize, TLOG_SIZE_CONTENT_TYPE } from './add-checkpoint-body.ts';

export interface AddCheckpointRequest {
  /** The size the witness last cosigned for this log, as far as we know (0: never). */
  oldSize: number;
  /** Consistency proof from `oldSize` to the checkpoint's size (empty for 0 or an equal size). */
  proof: Buffer[];
  /** The signed checkpoint note. */
  checkpointNote: string;
}

export interface AddCheckpointOptions {
  /** Consistency proof from `oldSize` (> 0) to the checkpoint's size; enables the retry after a 409. */
  proofFrom?: (oldSize: number) => Promise<Buffer[]>;
  /** When given, only this witness key's cosignatures are returned, each verified (the spec's client rule). */
  witnessKey?: NoteVerifier;
  /** Per HTTP request; default 10 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface AddCheckpointResult {
  /** Signature lines (`— <name> <base64>\n`), each a cosignature on the checkpoint. */
  cosignatures: string[];
  /** The old size the witness accepted (differs from the request's after a 409 retry). */
  oldSize: number;
}

export async function addCheckpoint(witnessUrl: string, request: AddCheckpointRequest, options: AddCheckpointOptions = {}): Promise<AddCheckpointResult> {
  const url = `${witnessUrl.replace(/\/+$/, '')}/add-checkpoint`;
  const size = checkpointSize(request.checkpointNote);
  let attempt = request;
  for (let retried = false; ; retried = true) {
    const answer = await post(url, formatAddCheckpointBody({ oldSize: attempt.oldSize, proof: attempt.proof, checkpoint: attempt.checkpointNote }), options);
    if (answer.status === 200) {
      return { cosignatures: cosignatureLines(answer.body, request.checkpointNote, options.witnessKey), oldSize: attempt.oldSize };
    }
    if (answer.status !== 409) throw statusError(answer.status, answer.body);
    const witnessSize = answer.contentType === TLOG_SIZE_CONTENT_TYPE ? parseTlogSize(answer.body) : undefined;
    if (witnessSize === undefined) throw unavailable(`409 without a ${TLOG_SIZE_CONTENT_TYPE} body`);
    if (witnessSize === attempt.oldSize) {
      throw conflict('fork', `the witness has cosigned another tree of size ${witnessSize}: the log forked`);
    }
    if (witnessSize > size) {
      throw conflict('witness_ahead', `the witness has cosigned size ${witnessSize}, larger than this checkpoint's ${size}`);
    }
    if (retried || !options.proofFrom) {
      throw conflict('old_size', `the witness's latest cosigned size is ${witnessSize}, not ${attempt.oldSize}`);
    }
    const proof = witnessSize === 0 || witnessSize === size ? [] : await options.proofFrom(witnessSize);
    attempt = { ...attempt, oldSize: witnessSize, proof };
  }
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

async function post(url: string, body: string, options: AddCheckpointOptions): Promise<Answer> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    // A redirect is outside the protocol (and would send the checkpoint elsewhere): not followed.
    const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8' }, signal, redirect: 'manual' });
    const text = await readLimited(res, MAX_ANSWER_SIZE);
    return { status: res.status, contentType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(), body: text };
  } catch (err) {
    if (options.signal?.aborted) throw err;
    if (err instanceof TrailproofError) throw err;
    throw unavailable(`cannot reach ${url}: ${(err as Error).message}`, err);
  }
}

/** Most bytes read of an answer: a few signature lines, or a size. Attacker-controlled. */
const MAX_ANSWER_SIZE = 64 * 1024;

async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) {
      await res.body.cancel().catch(() => {});
      throw unavailable(`the witness's answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The answer's signature lines, appended to the checkpoint and opened as one note, so the same
 * code that checks every note checks these; with `witnessKey`, only its verified lines are kept.
 */
function cosignatureLines(body: string, checkpointNote: string, witnessKey: NoteVerifier | undefined): string[] {
  const lines = body.split('\n');
  if (lines.pop() !== '' || lines.length === 0 || !lines.every((line) => line.startsWith('\u2014 '))) {
    throw unavailable('the witness answered 200 without signature lines');
  }
  if (!witnessKey) return lines.map((line) => `${line}\n`);
  let verified: ReturnType<typeof openNote>['verified'];
  try {
    verified = openNote(`${checkpointNote}${lines.map((line) => `${line}\n`).join('')}`, [witnessKey]).verified;
  } catch (err) {
    throw new TrailproofError('LEDGER_PROOF_INVALID', `the witness's cosignature does not verify with its key ${witnessKey.name}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return verified.map(formatSignatureLine);
}

function checkpointSize(note: string): number {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new TrailproofError('INTERNAL', 'not a signed checkpoint note');
  return parseCheckpoint(note.slice(0, split + 1)).size;
}

function statusError(status: number, body: string): TrailproofError {
  const detail = describe(body);
  switch (status) {
    case 404:
      return new TrailproofError('WITNESS_UNKNOWN_LOG', `the witness does not know this log${detail}`);
    case 403:
      return new TrailproofError('WITNESS_UNTRUSTED_SIGNATURE', `the witness does not trust the checkpoint's signature${detail}`);
    case 422:
      return new TrailproofError('LEDGER_PROOF_INVALID', `the witness rejected the consistency proof${detail}`);
    case 400:
      return new TrailproofError('REQUEST_INVALID', `the witness rejected the request as malformed${detail}`);
    default:
      return unavailable(`the witness answered HTTP ${status}${detail}`);
  }
}

/** The witness's error message, if it sent Trailproof's JSON error shape; its text is never trusted further. */
function describe(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? `: ${message.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

/**
 * WITNESS_CONFLICT, with `details[0].code` saying which: `fork` (the witness holds another root for
 * the same size: evidence of a split view), `witness_ahead` (it cosigned a larger tree already;
 * nothing wrong) or `old_size` (it holds another size and no retry was possible).
 */
export type ConflictKind = 'fork' | 'witness_ahead' | 'old_size';

export function conflictKind(err: unknown): ConflictKind | undefined {
  return err instanceof TrailproofError && err.code === 'WITNESS_CONFLICT' ? (err.details?.[0]?.code as ConflictKind | undefined) : undefined;
}

function conflict(kind: ConflictKind, message: string): TrailproofError {
  return new TrailproofError('WITNESS_CONFLICT', message, { details: [{ pointer: '', code: kind, message }] });
}

function unavailable(message: string, cause?: unknown): TrailproofError {
  return new TrailproofError('WITNESS_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}
