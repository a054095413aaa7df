/**
 * How values are spelled in the C2SP text formats, parsed strictly: attacker-controlled text gets
 * exactly one accepted spelling per value.
 */

/** Standard base64 with padding (RFC 4648 §4), as every C2SP format uses. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * The bytes `text` encodes, or undefined unless `text` is exactly their canonical base64. (Node's
 * own decoder skips characters it does not know and ignores padding bits.)
 */
export function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Rejects non-zero padding bits, which the pattern alone lets through.
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** A tree size, index or timestamp: a non-negative integer that a JavaScript number holds exactly. */
export function isNatural(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** "ASCII decimal with no leading zeroes" (tlog-checkpoint, tlog-proof) as a natural, or undefined. */
export function parseDecimal(text: string): number | undefined {
  return DECIMAL.test(text) && isNatural(Number(text)) ? Number(text) : undefined;
}

/** No lone UTF-16 surrogates, i.e. the string has a UTF-8 encoding. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;
/** A UTF-16 surrogate without its pair. */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
