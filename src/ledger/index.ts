/** The ledger library: pure functions over hashes, notes and proofs (no database, no HTTP). */
export { leafHash, nodeHash, emptyRoot, isHash, HASH_SIZE } from './hash.ts';
export { commitment, commitmentOfCanonical, canonicalBody, envelopeBytes, eventLeafHash, newSalt, SALT_SIZE, ENVELOPE_VERSION } from './envelope.ts';
export { canonicalJson } from './jcs.ts';
export { LedgerError, isLedgerError, LEDGER_ERROR_CODES } from './errors.ts';
export type { LedgerErrorCode } from './errors.ts';
export type { Envelope } from './envelope.ts';
export { appendLeaves, rootFromFrontier, rootFromLeaves, TreeBuilder } from './merkle.ts';
export type { AppendResult, Frontier, TreeNode } from './merkle.ts';
export { inclusionProof, consistencyProof, rootAt } from './proofs.ts';
export type { HashReader, HashRange } from './proofs.ts';
export { verifyInclusion, verifyConsistency } from './verify-proof.ts';
export { MemoryHashStore } from './memory-hash-store.ts';
export {
  TILE_HEIGHT,
  TILE_WIDTH,
  MAX_TILE_LEVEL,
  MAX_ENTRY_SIZE,
  tileHashesPath,
  entryBundlePath,
  parseTilePath,
  tileRange,
  tileWidthAt,
  entryBundle,
  parseEntryBundle,
} from './tiles.ts';
export type { TilePath } from './tiles.ts';
export {
  ED25519_SIGNATURE_TYPE,
  MAX_NOTE_SIZE,
  MAX_NOTE_SIGNATURES,
  generateSignerKey,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  openNote,
  formatSignatureLine,
} from './note.ts';
export type { NoteSigner, NoteVerifier, NoteSignature, OpenedNote } from './note.ts';
export { isValidKeyName, keyId } from './key-text.ts';
export { formatCheckpoint, parseCheckpoint, openCheckpoint } from './checkpoint.ts';
export type { Checkpoint } from './checkpoint.ts';
export { COSIGNATURE_TYPE, generateCosignerKey, parseCosignerKey, parseCosignatureVerifierKey, cosignatureTimestamp } from './cosignature.ts';
export type { Cosigner } from './cosignature.ts';
export { TLOG_PROOF_HEADER, formatTlogProof, parseTlogProof, verifyTlogProof } from './proof-text.ts';
export type { TlogProof } from './proof-text.ts';
