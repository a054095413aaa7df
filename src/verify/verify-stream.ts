/** Runs the verification engine over a byte stream (a bundle file, standard input, an HTTP body). */
import { StringDecoder } from 'node:string_decoder';
import { BundleVerifier, type VerifierOptions } from './bundle-verifier.ts';
import type { VerifyReport } from './report.ts';

/** Splits `input` into lines and feeds them to a new verifier; line handling is synchronous per chunk. */
export async function verifyStream(input: AsyncIterable<Buffer | string>, options: VerifierOptions): Promise<VerifyReport> {
  const verifier = new BundleVerifier(options);
  await feedLines(input, (line) => verifier.line(line));
  return verifier.finish();
}

/** Calls `onLine` with every line of `input` (UTF-8), without the newline; a last line without one counts. */
export async function feedLines(input: AsyncIterable<Buffer | string>, onLine: (line: string) => void): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n', start)) {
      onLine(text.slice(start, newline));
      start = newline + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') onLine(rest);
}
