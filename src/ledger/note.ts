/**
 * c2sp.org/signed-note with Ed25519 (signature type 0x01): text ending in a newline, a blank line,
 * then one line per signature, `— <key name> base64(key ID || signature)`. Sign and open behave
 * like Go's golang.org/x/mod/sumdb/note (Sign, Open), so notes interoperate with every tlog tool.
 */
import { LedgerError } from './errors.ts';
import { decodeBase64, encodeBase64, isWellFormed } from './encoding.ts';
import { ed25519FromSeed, ed25519Verifier, randomBytes, ED25519_SEED_SIZE } from './crypto.ts';
import * as keyText from './key-text.ts';

/** Signature type of plain Ed25519 note signatures (c2sp.org/signed-note "Signature types"). */
export const ED25519_SIGNATURE_TYPE = 0x01;
/** Largest note accepted, in bytes: room for well over 16 signatures (the spec's floor), even post-quantum. */
export const MAX_NOTE_SIZE = 256 * 1024;
/** Most signature lines accepted in one note (Go accepts 100). */
export const MAX_NOTE_SIGNATURES = 100;

export interface NoteSigner {
  readonly name: string;
  /** Key ID as a big-endian uint32. */
  readonly keyId: number;
  /** The signature of the note text (UTF-8, final newline included), without the key ID. */
  sign(text: Buffer): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** Whether `signature` (without key ID) is a valid signature of the note text. Never throws. */
  verify(text: Buffer, signature: Buffer): boolean;
}

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  signature: Buffer;
}

export interface OpenedNote {
  /** The signed text, final newline included. */
  text: string;
  /** Signatures by known keys, all verified. */
  verified: NoteSignature[];
  /** Signatures by keys not among the verifiers: not checked, to be ignored (or carried over). */
  unverified: NoteSignature[];
}

/** A new Ed25519 key pair in Go `note` key text form; the signer key is secret. */
export function generateSignerKey(name: string): { signerKey: string; verifierKey: string } {
  const seed = randomBytes(ED25519_SEED_SIZE);
  return {
    signerKey: keyText.formatSignerKey(name, ED25519_SIGNATURE_TYPE, seed),
    verifierKey: keyText.formatVerifierKey(name, ED25519_SIGNATURE_TYPE, ed25519FromSeed(seed).publicKey),
  };
}

/** A signer from `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`, with its public verifier key text. */
export function parseSignerKey(text: string): NoteSigner & { readonly verifierKey: string } {
  const { name, keyId, seed } = keyText.parseSignerKey(text, [ED25519_SIGNATURE_TYPE]);
  const key = ed25519FromSeed(seed);
  return { name, keyId, verifierKey: keyText.formatVerifierKey(name, ED25519_SIGNATURE_TYPE, key.publicKey), sign: (msg) => key.sign(msg) };
}

/** A verifier from `<name>+<id>+<base64(0x01 || public key)>`. */
export function parseVerifierKey(text: string): NoteVerifier {
  const { name, keyId, publicKey } = keyText.parseVerifierKey(text, [ED25519_SIGNATURE_TYPE]);
  const verify = ed25519Verifier(publicKey);
  return { name, keyId, verify: (msg, sig) => verify(msg, sig) };
}

/**
 * The signed note of `text` (which must end in a newline): `keep` signatures first (as Go's Sign
 * keeps a note's existing ones), except those replaced by a signer with the same name and key ID,
 * then one new signature per signer.
 */
export function signNote(text: string, signers: readonly NoteSigner[], keep: readonly NoteSignature[] = []): string {
  checkNoteText(text);
  const message = Buffer.from(text, 'utf8');
  const fresh = signers.map((signer): NoteSignature => {
    if (!keyText.isValidKeyName(signer.name)) throw new LedgerError('INVALID_ARGUMENT', `invalid signer name ${JSON.stringify(signer.name)}`);
    return { name: signer.name, keyId: signer.keyId, signature: signer.sign(message) };
  });
  const kept = keep.filter((old) => !fresh.some((sig) => sameKey(sig, old)));
  return `${text}\n${[...kept, ...fresh].map(formatSignatureLine).join('')}`;
}

/**
 * Parses a signed note and checks its signatures. Attacker-controlled: throws PROOF_INVALID for a
 * malformed note or a signature by a known key that does not verify, UNKNOWN_KEY for no verified signature.
 * Unknown keys' signatures are returned unverified (c2sp.org/signed-note "Signatures").
 * `signaturesChecked`: this very note was opened with these very verifiers before (by a
 * verification worker thread, src/verify/leaf-precompute.ts), so its signatures are not checked again.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[], signaturesChecked = false): OpenedNote {
  const message = decodeNote(note);
  const split = message.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signatures');
  const text = message.slice(0, split + 1);
  const lines = message.slice(split + 2).split('\n');
  if (lines.pop() !== '' || lines.length === 0) throw malformed('signature lines must end in a newline');
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);

  const textBytes = Buffer.from(text, 'utf8');
  const opened: OpenedNote = { text, verified: [], unverified: [] };
  const seenUnverified = new Set<string>();
  for (const line of lines) {
    const sig = parseSignatureLine(line);
    const verifier = findVerifier(verifiers, sig);
    if (!verifier) {
      // Repeated identical unknown lines collapse into one, as in Go.
      if (!seenUnverified.has(line)) opened.unverified.push(sig);
      seenUnverified.add(line);
    } else if (!opened.verified.some((known) => sameKey(known, sig))) {
      if (!signaturesChecked && !verifier.verify(textBytes, sig.signature)) throw invalid(`signature by ${sig.name} does not verify`);
      opened.verified.push(sig);
    }
  }
  if (opened.verified.length === 0) throw new LedgerError('UNKNOWN_KEY', 'note has no signature by a known key');
  return opened;
}

/** `— <name> base64(key ID || signature)` and a newline. */
export function formatSignatureLine({ name, keyId, signature }: NoteSignature): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(keyId);
  return `${SIGNATURE_PREFIX}${name} ${encodeBase64(Buffer.concat([id, signature]))}\n`;
}

/** Valid UTF-8 of at most MAX_NOTE_SIZE bytes, without control characters other than newline. */
function decodeNote(note: string | Uint8Array): string {
  const size = typeof note === 'string' ? Buffer.byteLength(note, 'utf8') : note.length;
  if (size > MAX_NOTE_SIZE) throw malformed(`larger than ${MAX_NOTE_SIZE} bytes`);
  let text: string;
  if (typeof note === 'string') {
    text = note;
    if (!isWellFormed(text)) throw malformed('not valid UTF-8');
  } else {
    try {
      text = UTF8.decode(note);
    } catch {
      throw malformed('not valid UTF-8');
    }
  }
  if (CONTROL.test(text)) throw malformed('contains a control character');
  return text;
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw malformed('signature line does not start with an em dash and a space');
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const bytes = space < 0 ? undefined : decodeBase64(rest.slice(space + 1));
  if (!keyText.isValidKeyName(name) || !bytes || bytes.length < 5) throw malformed('malformed signature line');
  return { name, keyId: bytes.readUInt32BE(0), signature: bytes.subarray(4) };
}

/** The one verifier for a signature's key name and ID; two would mean a broken configuration. */
function findVerifier(verifiers: readonly NoteVerifier[], sig: NoteSignature): NoteVerifier | undefined {
  const matches = verifiers.filter((v) => sameKey(v, sig));
  if (matches.length > 1) throw new LedgerError('KEY_INVALID', `ambiguous verifier key ${sig.name}+${sig.keyId.toString(16)}`);
  return matches[0];
}

function checkNoteText(text: string): void {
  if (!text.endsWith('\n') || CONTROL.test(text) || !isWellFormed(text)) {
    throw new LedgerError('INVALID_ARGUMENT', 'note text must be UTF-8 ending in a newline, without control characters');
  }
}

function sameKey(a: { name: string; keyId: number }, b: { name: string; keyId: number }): boolean {
  return a.name === b.name && a.keyId === b.keyId;
}

function malformed(reason: string): LedgerError {
  return invalid(`malformed note: ${reason}`);
}

function invalid(message: string): LedgerError {
  return new LedgerError('PROOF_INVALID', message);
}

const SIGNATURE_PREFIX = '\u2014 ';
const CONTROL = /[\u0000-\u0009\u000B-\u001F]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
