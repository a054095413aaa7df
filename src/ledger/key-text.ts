/**
 * The key text formats of Go's golang.org/x/mod/sumdb/note, used by every C2SP signed-note tool:
 *
 *   verifier key  <name>+<key ID, 8 hex digits>+<base64(signature type || public key)>
 *   signer key    PRIVATE+KEY+<name>+<key ID>+<base64(signature type || private key)>
 *
 * with key ID = SHA-256(name || 0x0A || signature type || public key)[:4] (c2sp.org/signed-note
 * "Signatures"). Only Ed25519 keys (32-byte seeds and public keys) are supported here.
 *
 * Key texts come from configuration: malformed ones throw KEY_INVALID, and no message ever
 * echoes a signer key.
 */
import { LedgerError } from './errors.ts';
import { decodeBase64, encodeBase64, isWellFormed } from './encoding.ts';
import { ED25519_PUBLIC_KEY_SIZE, ED25519_SEED_SIZE, ed25519FromSeed, sha256 } from './crypto.ts';

export interface VerifierKeyText {
  name: string;
  keyId: number;
  /** Signature type byte (c2sp.org/signed-note "Signature types"). */
  type: number;
  publicKey: Buffer;
}

export interface SignerKeyText extends VerifierKeyText {
  seed: Buffer;
}

/**
 * Key names (and checkpoint origins that double as key names): non-empty, valid UTF-8, no Unicode
 * space (Go's unicode.IsSpace), no `+`, and, as notes forbid them anyway, no ASCII control character.
 */
export function isValidKeyName(name: string): boolean {
  return name !== '' && isWellFormed(name) && !INVALID_NAME_CHARS.test(name);
}

/** SHA-256(name || 0x0A || type || publicKey)[:4], as a big-endian uint32. */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  return sha256(Buffer.from(`${name}\n`, 'utf8'), Buffer.from([type]), publicKey).readUInt32BE(0);
}

export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  checkName(name);
  return `${name}+${hex8(keyId(name, type, publicKey))}+${encodeBase64(Buffer.concat([Buffer.from([type]), publicKey]))}`;
}

export function formatSignerKey(name: string, type: number, seed: Uint8Array): string {
  checkName(name);
  const id = keyId(name, type, ed25519FromSeed(seed).publicKey);
  return `PRIVATE+KEY+${name}+${hex8(id)}+${encodeBase64(Buffer.concat([Buffer.from([type]), seed]))}`;
}

/** Parses a verifier key whose signature type is one of `types`, checking its key ID. */
export function parseVerifierKey(text: string, types: readonly number[]): VerifierKeyText {
  const [name = '', idText = '', keyText = ''] = splitKeyText(text, 3);
  const { type, key: publicKey } = decodeKey(name, idText, keyText, types, ED25519_PUBLIC_KEY_SIZE, 'verifier');
  checkKeyId(name, idText, type, publicKey, 'verifier');
  return { name, keyId: keyId(name, type, publicKey), type, publicKey };
}

/** Parses a signer key whose signature type is one of `types`, checking its key ID. */
export function parseSignerKey(text: string, types: readonly number[]): SignerKeyText {
  const [private1, private2, name = '', idText = '', keyText = ''] = splitKeyText(text, 5);
  if (private1 !== 'PRIVATE' || private2 !== 'KEY') throw invalidKey('signer', 'it must start with PRIVATE+KEY+');
  const { type, key: seed } = decodeKey(name, idText, keyText, types, ED25519_SEED_SIZE, 'signer');
  const { publicKey } = ed25519FromSeed(seed);
  checkKeyId(name, idText, type, publicKey, 'signer');
  return { name, keyId: keyId(name, type, publicKey), type, publicKey, seed };
}

/** The first `count - 1` `+`-separated fields and the rest (base64 may itself contain `+`). */
function splitKeyText(text: string, count: number): string[] {
  const fields: string[] = [];
  let rest = text;
  for (let i = 1; i < count; i++) {
    const plus = rest.indexOf('+');
    if (plus < 0) throw invalidKey(count === 5 ? 'signer' : 'verifier', `it must have ${count} fields separated by +`);
    fields.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  return [...fields, rest];
}

function decodeKey(name: string, idText: string, keyText: string, types: readonly number[], size: number, kind: KeyKind): { type: number; key: Buffer } {
  if (!isValidKeyName(name)) throw invalidKey(kind, 'its name is empty or contains a space, + or control character');
  if (!/^[0-9a-fA-F]{8}$/.test(idText)) throw invalidKey(kind, 'its key ID must be 8 hex digits');
  const bytes = decodeBase64(keyText);
  if (!bytes) throw invalidKey(kind, 'its key is not canonical base64 (remove surrounding whitespace)');
  const type = bytes[0];
  if (type === undefined || !types.includes(type)) throw invalidKey(kind, `its signature type must be one of ${types.join(', ')}`);
  if (bytes.length !== 1 + size) throw invalidKey(kind, `its key must be ${size} bytes`);
  return { type, key: bytes.subarray(1) };
}

function checkKeyId(name: string, idText: string, type: number, publicKey: Uint8Array, kind: KeyKind): void {
  if (Number.parseInt(idText, 16) !== keyId(name, type, publicKey)) throw invalidKey(kind, 'its key ID does not match its key');
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) throw new LedgerError('KEY_INVALID', `invalid key name ${JSON.stringify(name)}`);
}

type KeyKind = 'signer' | 'verifier';

function invalidKey(kind: KeyKind, reason: string): LedgerError {
  return new LedgerError('KEY_INVALID', `malformed ${kind} key: ${reason}`);
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}

// Go's unicode.IsSpace (the Unicode White_Space property), `+`, and C0 controls.
const INVALID_NAME_CHARS = /[\u0000-\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000+]/;
