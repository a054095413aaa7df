/**
 * c2sp.org/tlog-proof@v1: an offline-verifiable inclusion proof ("spicy signature"),
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64 opaque data>]
 *   index <leaf index>
 *   <base64 hash>…            (RFC 6962 inclusion proof, leaf's sibling first)
 *   <blank line>
 *   <signed checkpoint note, verbatim>
 *
 * Files of this format SHOULD use the extension `.tlog-proof`.
 */
import { LedgerError } from './errors.ts';
import { decodeBase64, encodeBase64, isNatural, parseDecimal } from './encoding.ts';
import { openCheckpoint } from './checkpoint.ts';
import type { Checkpoint } from './checkpoint.ts';
import { isHash } from './hash.ts';
import { MAX_NOTE_SIZE } from './note.ts';
import type { NoteVerifier, OpenedNote } from './note.ts';
import { verifyInclusion } from './verify-proof.ts';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
/** An inclusion proof in a tree of fewer than 2^53 leaves has at most 53 hashes. */
const MAX_PROOF_HASHES = 64;

export interface TlogProof {
  index: number;
  /** Inclusion proof hashes, from the leaf's sibling up to the root's child. */
  proof: Buffer[];
  /** The signed checkpoint note the proof is against, verbatim. */
  checkpoint: string;
  /** Opaque, unauthenticated application data (never trust it without checking); empty means none. */
  extra?: Buffer;
}

export function formatTlogProof({ index, proof, checkpoint, extra }: TlogProof): string {
  if (!isNatural(index)) throw new LedgerError('INVALID_ARGUMENT', 'proof index must be a non-negative integer');
  if (!proof.every(isHash)) throw new LedgerError('INVALID_ARGUMENT', 'proof hashes must be 32 bytes');
  if (checkpoint === '' || checkpoint.startsWith('\n')) throw new LedgerError('INVALID_ARGUMENT', 'proof needs a signed checkpoint');
  const lines = [
    TLOG_PROOF_HEADER,
    // "If no extra data is present, this line is omitted."
    ...(extra === undefined || extra.length === 0 ? [] : [`extra ${encodeBase64(extra)}`]),
    `index ${index}`,
    ...proof.map(encodeBase64),
    '',
  ];
  return `${lines.join('\n')}\n${checkpoint}`;
}

/** Parses a proof strictly. Attacker-controlled: throws PROOF_INVALID. */
export function parseTlogProof(text: string): TlogProof {
  if (text.length > MAX_PROOF_TEXT) throw malformed('too large');
  const lines = text.split('\n');
  let at = 0;
  const next = (): string => {
    const line = lines[at++];
    if (line === undefined) throw malformed('it ends too early');
    return line;
  };
  if (next() !== TLOG_PROOF_HEADER) throw malformed(`the first line must be ${TLOG_PROOF_HEADER}`);
  let line = next();
  let extra: Buffer | undefined;
  if (line.startsWith('extra ')) {
    extra = decodeBase64(line.slice('extra '.length));
    if (!extra || extra.length === 0) throw malformed('the extra line is not the base64 of some data');
    line = next();
  }
  const index = line.startsWith('index ') ? parseDecimal(line.slice('index '.length)) : undefined;
  if (index === undefined) throw malformed('the index line must be "index" and a decimal integer without leading zeros');
  const proof: Buffer[] = [];
  for (line = next(); line !== ''; line = next()) {
    const hash = decodeBase64(line);
    if (!hash || !isHash(hash)) throw malformed('a proof line is not the base64 of a 32-byte hash');
    if (proof.push(hash) > MAX_PROOF_HASHES) throw malformed('too many proof hashes');
  }
  const checkpoint = lines.slice(at).join('\n');
  if (checkpoint === '') throw malformed('the signed checkpoint is missing');
  return { index, proof, checkpoint, ...(extra ? { extra } : {}) };
}

/**
 * Verifies a proof for the entry whose leaf hash is `leafHash`: the checkpoint must be signed by
 * `logVerifier` for `origin` (cosignatures are checked when `cosigners` knows their keys) and the
 * inclusion proof must lead to its root. Throws PROOF_INVALID otherwise.
 */
export function verifyTlogProof(
  text: string,
  leafHash: Uint8Array,
  origin: string,
  logVerifier: NoteVerifier,
  cosigners: readonly NoteVerifier[] = [],
): { index: number; checkpoint: Checkpoint; note: OpenedNote; extra?: Buffer } {
  const { index, proof, checkpoint: signed, extra } = parseTlogProof(text);
  const { checkpoint, note } = openCheckpoint(signed, origin, logVerifier, cosigners);
  verifyInclusion(leafHash, index, checkpoint.size, proof, checkpoint.root);
  return { index, checkpoint, note, ...(extra ? { extra } : {}) };
}

/** Header, index, proof hashes and the largest note we open, with room to spare. */
const MAX_PROOF_TEXT = MAX_NOTE_SIZE + 8 * 1024;

function malformed(reason: string): LedgerError {
  return new LedgerError('PROOF_INVALID', `malformed tlog-proof: ${reason}`);
}
