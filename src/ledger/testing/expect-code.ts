/** Test-only: assert that a call fails with a coded error of a given code (tests match codes, not messages). */
import { expect } from 'vitest';
import { TrailproofError, type ErrorCode } from '../../errors.ts';
import { LedgerError, type LedgerErrorCode } from '../errors.ts';

function expectCoded(error: unknown, code: ErrorCode | LedgerErrorCode): void {
  expect(error instanceof LedgerError || error instanceof TrailproofError, `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as LedgerError | TrailproofError).code).toBe(code);
}

export function expectCode(code: ErrorCode | LedgerErrorCode, run: () => unknown): void {
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expectCoded(error, code);
}

export async function expectCodeAsync(code: ErrorCode | LedgerErrorCode, run: () => Promise<unknown>): Promise<void> {
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expectCoded(error, code);
}
