/**
 * c2sp.org/tlog-checkpoint: the note text of a signed tree head,
 *
 *   <origin>\n<tree size, decimal>\n<root hash, base64>\n[<extension line>\n]…
 *
 * Trailproof signs it as a signed note (note.ts) with origin `<host>/t/<tenant>`.
 */
import { LedgerError } from './errors.ts';
import { decodeBase64, encodeBase64, isNatural, parseDecimal } from './encoding.ts';
import { isHash } from './hash.ts';
import { openNote } from './note.ts';
import type { NoteVerifier, OpenedNote } from './note.ts';

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
  /** Opaque extension lines, each non-empty (NOT RECOMMENDED by the spec; Trailproof writes none). */
  extensions?: string[];
}

/** The checkpoint's note text, final newline included. */
export function formatCheckpoint({ origin, size, root, extensions = [] }: Checkpoint): string {
  if (!isLine(origin)) throw new LedgerError('INVALID_ARGUMENT', 'checkpoint origin must be a non-empty line');
  if (!isNatural(size)) throw new LedgerError('INVALID_ARGUMENT', 'checkpoint size must be a non-negative integer');
  if (!isHash(root)) throw new LedgerError('INVALID_ARGUMENT', 'checkpoint root must be 32 bytes');
  if (!extensions.every(isLine)) throw new LedgerError('INVALID_ARGUMENT', 'checkpoint extension lines must be non-empty lines');
  return [origin, String(size), encodeBase64(root), ...extensions].map((line) => `${line}\n`).join('');
}

/** Parses a checkpoint note text strictly. Attacker-controlled: throws PROOF_INVALID. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw malformed('it must end in a newline');
  const [origin = '', sizeText = '', rootText = '', ...extensions] = text.slice(0, -1).split('\n');
  if (!isLine(origin)) throw malformed('the origin line is empty');
  const size = parseDecimal(sizeText);
  if (size === undefined) throw malformed('the tree size is not a decimal integer without leading zeros');
  const root = decodeBase64(rootText);
  if (!root || !isHash(root)) throw malformed('the root hash is not the base64 of 32 bytes');
  if (!extensions.every(isLine)) throw malformed('an extension line is empty');
  return { origin, size, root, ...(extensions.length > 0 ? { extensions } : {}) };
}

/**
 * Opens a signed checkpoint: `logVerifier`'s signature must be among the verified ones (others,
 * e.g. witness cosignatures, are checked when `cosigners` knows their keys) and the origin must be
 * `origin`. Throws PROOF_INVALID otherwise.
 */
export function openCheckpoint(
  signedNote: string | Uint8Array,
  origin: string,
  logVerifier: NoteVerifier,
  cosigners: readonly NoteVerifier[] = [],
): { checkpoint: Checkpoint; note: OpenedNote } {
  const note = openNote(signedNote, [logVerifier, ...cosigners]);
  if (!note.verified.some((sig) => sig.name === logVerifier.name && sig.keyId === logVerifier.keyId)) {
    throw new LedgerError('PROOF_INVALID', `checkpoint is not signed by the log key ${logVerifier.name}`);
  }
  const checkpoint = parseCheckpoint(note.text);
  if (checkpoint.origin !== origin) {
    throw new LedgerError('PROOF_INVALID', `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(origin)}`);
  }
  return { checkpoint, note };
}

function isLine(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && !value.includes('\n');
}

function malformed(reason: string): LedgerError {
  return new LedgerError('PROOF_INVALID', `malformed checkpoint: ${reason}`);
}
