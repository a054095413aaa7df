/**
 * The body of a c2sp.org/tlog-witness `add-checkpoint` request, and the `text/x.tlog.size` body of
 * its 409 answer. Shared by the witness (which parses requests) and the client (which writes them).
 *
 *   old <size>\n
 *   <base64 consistency proof hash>\n   (0 to 63 lines)
 *   \n
 *   <signed checkpoint note>
 */
import { TrailproofError } from '../errors.ts';
import { decodeBase64, encodeBase64, isNatural, parseDecimal } from '../ledger/encoding.ts';
import { HASH_SIZE } from '../ledger/hash.ts';
import { MAX_NOTE_SIZE } from '../ledger/note.ts';

/** "The client MUST NOT send more than 63 consistency proof lines." */
export const MAX_PROOF_LINES = 63;
/** Content type of the 409 answer's body: the witness's latest cosigned size. */
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';
/** Largest request body a witness reads: the old size line, 63 proof lines and the largest note. */
export const MAX_REQUEST_SIZE = 32 + MAX_PROOF_LINES * 46 + 1 + MAX_NOTE_SIZE;

export interface AddCheckpointBody {
  /** The tree size of the checkpoint the witness last cosigned, as the client believes. */
  oldSize: number;
  /** RFC 6962 consistency proof from `oldSize` to the checkpoint's size; empty when oldSize is 0. */
  proof: Buffer[];
  /** The signed checkpoint note, signatures included. */
  checkpoint: string;
}

export function formatAddCheckpointBody({ oldSize, proof, checkpoint }: AddCheckpointBody): string {
  if (!isNatural(oldSize)) throw new TrailproofError('INTERNAL', 'old size must be a non-negative integer');
  if (proof.length > MAX_PROOF_LINES) throw new TrailproofError('INTERNAL', `a consistency proof has at most ${MAX_PROOF_LINES} hashes`);
  return `old ${oldSize}\n${proof.map((hash) => `${encodeBase64(hash)}\n`).join('')}\n${checkpoint}`;
}

/**
 * Parses a request body strictly. Attacker-controlled: anything malformed throws REQUEST_INVALID
 * (400); the note itself is only split off here, and checked by the witness.
 */
export function parseAddCheckpointBody(body: Buffer | string): AddCheckpointBody {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const oldEnd = text.indexOf('\n');
  const oldLine = oldEnd < 0 ? text : text.slice(0, oldEnd);
  const oldSize = oldLine.startsWith('old ') ? parseDecimal(oldLine.slice(4)) : undefined;
  if (oldEnd < 0 || oldSize === undefined) throw malformed('the first line must be `old <size>` with a decimal size');
  const proof: Buffer[] = [];
  let at = oldEnd + 1;
  for (;;) {
    const end = text.indexOf('\n', at);
    if (end < 0) throw malformed('no empty line between the consistency proof and the checkpoint');
    const line = text.slice(at, end);
    at = end + 1;
    if (line === '') break;
    const hash = decodeBase64(line);
    if (!hash || hash.length !== HASH_SIZE) throw malformed(`consistency proof line ${proof.length + 1} is not the base64 of a 32-byte hash`);
    proof.push(hash);
    if (proof.length > MAX_PROOF_LINES) throw malformed(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  }
  const checkpoint = text.slice(at);
  if (checkpoint === '') throw malformed('no checkpoint after the empty line');
  return { oldSize, proof, checkpoint };
}

/** The 409 body: the size in decimal and a newline. */
export function formatTlogSize(size: number): string {
  return `${size}\n`;
}

/** The size in a 409 body, or undefined when the body is not exactly `<decimal>\n`. */
export function parseTlogSize(body: string): number | undefined {
  return body.endsWith('\n') ? parseDecimal(body.slice(0, -1)) : undefined;
}

function malformed(reason: string): TrailproofError {
  return new TrailproofError('REQUEST_INVALID', `malformed add-checkpoint request: ${reason}`);
}
