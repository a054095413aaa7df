/**
 * Strict standard base64 (RFC 4648 §4, with padding), the encoding every C2SP text format uses.
 * Node's own decoder skips characters it does not know; attacker-controlled text must not get that
 * leniency, so only the canonical encoding of some byte string is accepted.
 */

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The bytes `text` encodes, or undefined unless `text` is exactly their canonical base64. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Rejects non-zero padding bits, which the pattern alone lets through.
  return bytes.toString('base64') === text ? bytes : undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
