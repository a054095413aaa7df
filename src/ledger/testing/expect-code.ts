/** Test-only: assert that a call fails with a TrailproofError of a given code (tests match codes, not messages). */
import { expect } from 'vitest';
import { TrailproofError } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';

export function expectCode(code: ErrorCode, run: () => unknown): void {
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expect(error, `expected ${code}`).toBeInstanceOf(TrailproofError);
  expect((error as TrailproofError).code).toBe(code);
}

export async function expectCodeAsync(code: ErrorCode, run: () => Promise<unknown>): Promise<void> {
  const error = await run().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(TrailproofError);
  expect((error as TrailproofError).code).toBe(code);
}
