/**
 * The ledger library's errors (src/ledger/, src/tlog/): a stable code and a message, no HTTP status.
 * Callers branch on the code; src/http/error-handler.ts maps each code to the API's error.
 */

export const LEDGER_ERROR_CODES = [
  /** A proof, signature, note, checkpoint or entry bundle does not parse or does not verify. */
  'PROOF_INVALID',
  /** A signed note carries no signature by any of the keys it is checked with. */
  'UNKNOWN_KEY',
  /** An index or tree size outside the tree asked about, or not a non-negative integer. */
  'OUT_OF_RANGE',
  /** A key text, key name, key file or set of verifier keys is malformed or ambiguous. */
  'KEY_INVALID',
  /** A value has no RFC 8785 canonical JSON form (NaN, a lone surrogate, a non-JSON type). */
  'NOT_CANONICAL',
  /** A path that names no tile or entry bundle. */
  'NOT_A_TILE',
  /** The tenant whose log is asked for does not exist. */
  'TENANT_NOT_FOUND',
  /** The stored log contradicts itself (hashes missing, a root that does not match): nothing is signed. */
  'INCONSISTENT',
  /** The library was called with values its contract excludes: a bug in the caller. */
  'INVALID_ARGUMENT',
] as const;

export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

export class LedgerError extends Error {
  override readonly name = 'LedgerError';

  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `err` is a LedgerError, of one of `codes` when given. */
export function isLedgerError(err: unknown, ...codes: LedgerErrorCode[]): err is LedgerError {
  return err instanceof LedgerError && (codes.length === 0 || codes.includes(err.code));
}
