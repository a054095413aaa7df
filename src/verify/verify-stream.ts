/** Runs the verification engine over a byte stream (a bundle file, standard input, an HTTP body). */
import { BundleVerifier, type VerifierOptions } from './bundle-verifier.ts';
import type { VerifyReport } from './report.ts';

/** Splits `input` into lines and feeds them to a new verifier; line handling is synchronous per chunk. */
export async function verifyStream(input: AsyncIterable<Buffer | string>, options: VerifierOptions): Promise<VerifyReport> {
  const verifier = new BundleVerifier(options);
  await feedLineBytes(input, (bytes, start, end) => verifier.lineBytes(bytes, start, end));
  return verifier.finish();
}

/** Calls `onLine` with the byte range of every line of `input`, without the newline; a last line without one counts. */
export async function feedLineBytes(input: AsyncIterable<Buffer | string>, onLine: (bytes: Buffer, start: number, end: number) => void): Promise<void> {
  let rest: Buffer | undefined;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const buffer = rest ? Buffer.concat([rest, bytes]) : bytes;
    let start = 0;
    for (let newline = buffer.indexOf(0x0a); newline >= 0; newline = buffer.indexOf(0x0a, start)) {
      onLine(buffer, start, newline);
      start = newline + 1;
    }
    rest = start < buffer.length ? buffer.subarray(start) : undefined;
  }
  if (rest) onLine(rest, 0, rest.length);
}
