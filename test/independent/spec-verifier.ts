/**
 * Independent, spec-derived verifier for Trailproof transparency logs.
 *
 * Written only from the specification texts, to cross-check the prover in
 * src/ledger/ (nothing here is imported from or modelled on that code):
 *   - RFC 6962 §2.1 / RFC 9162 §2.1   Merkle hash trees, inclusion (§2.1.3.2)
 *                                      and consistency (§2.1.4.2) verification
 *   - c2sp.org/signed-note            notes, signatures, key IDs
 *   - golang.org/x/mod/sumdb/note     verifier key text form "<name>+<hash>+<keydata>"
 *   - c2sp.org/tlog-checkpoint        checkpoint note text
 *   - c2sp.org/tlog-proof             offline inclusion proof text format
 *   - c2sp.org/tlog-tiles             tile paths and tile contents
 *   - c2sp.org/tlog-cosignature       Ed25519 cosignature/v1 (key type 0x04)
 *
 * Only node:crypto is used. Integers that can reach 2^64 (sizes, indexes,
 * timestamps) are bigints.
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]*)$/; // "ASCII decimal with no leading zeroes"

// ---------------------------------------------------------------- hashing ---

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 §2.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export const hashLeaf = (data: Uint8Array): Buffer => sha256(Uint8Array.of(0x00), data);
/** RFC 6962 §2.1: SHA-256(0x01 || left || right). */
export const hashChildren = (l: Uint8Array, r: Uint8Array): Buffer => sha256(Uint8Array.of(0x01), l, r);

const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

function toU64(x: bigint | number): bigint | null {
  if (typeof x === 'number') return Number.isSafeInteger(x) && x >= 0 ? BigInt(x) : null;
  return x >= 0n && x <= U64_MAX ? x : null;
}

const hashesOk = (hs: readonly Uint8Array[]): boolean => hs.every((h) => h.length === 32);

// ------------------------------------------------- RFC 9162 §2.1.3.2 ---

/** Verifies an inclusion proof, following RFC 9162 §2.1.3.2 step by step. */
export function verifyInclusion(leafHash: Uint8Array, index: bigint | number, size: bigint | number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const leafIndex = toU64(index);
  const treeSize = toU64(size);
  if (leafIndex === null || treeSize === null) return false;
  if (leafHash.length !== 32 || root.length !== 32 || !hashesOk(proof)) return false;
  // 1. If leaf_index is greater than or equal to tree_size, fail.
  if (leafIndex >= treeSize) return false;
  // 2. Set fn to leaf_index and sn to tree_size - 1.  3. Set r to hash.
  let fn = leafIndex;
  let sn = treeSize - 1n;
  let r: Uint8Array = leafHash;
  // 4. For each value p in the inclusion_path array:
  for (const p of proof) {
    // a. If sn is 0, stop the iteration and fail.
    if (sn === 0n) return false;
    // b. If LSB(fn) is set, or if fn is equal to sn, then:
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r); // i. r = HASH(0x01 || p || r)
      // ii. If LSB(fn) is not set, right-shift fn and sn until LSB(fn) is set or fn is 0.
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = hashChildren(r, p); // Otherwise: r = HASH(0x01 || r || p)
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. Succeed iff sn is 0 and r equals root_hash.
  return sn === 0n && eq(r, root);
}

// ------------------------------------------------- RFC 9162 §2.1.4.2 ---

/**
 * Verifies a consistency proof (RFC 9162 §2.1.4.2). RFC 6962 §2.1.2 / RFC 9162
 * §2.1.4.1 only define PROOF(m, D[n]) for 0 < m < n, so size1 = 0 is rejected.
 * For size1 = size2 (outside the RFC algorithm, whose step 1 rejects an empty
 * path) a tree head is consistent with itself: the proof must be empty and the
 * roots byte-identical.
 */
export function verifyConsistency(size1: bigint | number, size2: bigint | number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): boolean {
  const first = toU64(size1);
  const second = toU64(size2);
  if (first === null || second === null) return false;
  if (first === 0n || second < first) return false;
  if (first === second) return proof.length === 0 && eq(root1, root2);
  if (root1.length !== 32 || root2.length !== 32 || !hashesOk(proof)) return false;
  // 1. If consistency_path is an empty array, fail.
  if (proof.length === 0) return false;
  // 2. If first is an exact power of 2, prepend first_hash to consistency_path.
  const path: Uint8Array[] = (first & (first - 1n)) === 0n ? [root1, ...proof] : [...proof];
  // 3. Set fn to first - 1 and sn to second - 1.
  let fn = first - 1n;
  let sn = second - 1n;
  // 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5. Set both fr and sr to the first value in consistency_path.
  let fr = path[0] as Uint8Array;
  let sr = fr;
  // 6. For each subsequent value c in consistency_path:
  for (const c of path.slice(1)) {
    if (sn === 0n) return false; // a.
    if ((fn & 1n) === 1n || fn === sn) {
      // b. i. fr = HASH(0x01 || c || fr)   ii. sr = HASH(0x01 || c || sr)
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      // iii. If LSB(fn) is not set, right-shift until LSB(fn) is set or fn is 0.
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = hashChildren(sr, c); // Otherwise: sr = HASH(0x01 || sr || c)
    }
    // c. Finally, right-shift both fn and sn one time.
    fn >>= 1n;
    sn >>= 1n;
  }
  // 7. fr == first_hash, sr == second_hash and sn == 0.
  return eq(fr, root1) && eq(sr, root2) && sn === 0n;
}

// ------------------------------------------------------------- encodings ---

/** Strict standard base64 with padding (RFC 4648 §4), canonical only. */
function b64(s: string, what: string): Buffer {
  const buf = Buffer.from(s, 'base64');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0 || buf.toString('base64') !== s) {
    throw new Error(`${what}: not canonical standard base64`);
  }
  return buf;
}

function u64(s: string, what: string): bigint {
  if (!DECIMAL.test(s)) throw new Error(`${what}: not an ASCII decimal without leading zeroes`);
  const v = BigInt(s);
  if (v > U64_MAX) throw new Error(`${what}: exceeds uint64`);
  return v;
}

// --------------------------------------------------- signed notes / keys ---

/** signed-note: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or plus". */
const validName = (n: string): boolean => n !== '' && !/[\p{White_Space}+]/u.test(n);

export interface VerifierKey {
  name: string;
  keyId: number; // uint32
  type: number; // signature type byte: 0x01 Ed25519 note, 0x04 Ed25519 cosignature
  publicKey: Buffer; // 32-byte Ed25519 key
}

/**
 * Parses "<name>+<8 hex key id>+<base64(type || 32-byte Ed25519 key)>" (Go note
 * verifier key; tlog-cosignature allows the same form with type 0x04) and checks
 * key ID = SHA-256(name || 0x0A || type || public key)[:4] (signed-note, "Ed25519
 * signatures"; tlog-cosignature, "Format").
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  const [name = '', hex = '', key64 = '', ...rest] = vkey.split('+');
  // The name holds no '+', the base64 may: re-join everything after the second '+'.
  const keyData = b64([key64, ...rest].join('+'), 'verifier key');
  if (!validName(name)) throw new Error('verifier key: invalid key name');
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw new Error('verifier key: key id must be 8 hex digits');
  const type = keyData[0];
  if ((type !== 0x01 && type !== 0x04) || keyData.length !== 33) {
    throw new Error('verifier key: unsupported type or bad Ed25519 key length');
  }
  const keyId = parseInt(hex, 16);
  if (sha256(Buffer.from(`${name}\n`, 'utf8'), keyData).readUInt32BE(0) !== keyId) {
    throw new Error('verifier key: key id does not match name and key');
  }
  return { name, keyId, type, publicKey: keyData.subarray(1) };
}

function ed25519Verify(publicKey: Buffer, msg: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') }, format: 'jwk' });
  return cryptoVerify(null, msg, key, sig);
}

interface NoteSignature {
  name: string;
  keyId: number;
  sig: Buffer; // bytes after the 4-byte key ID
}

const MAX_SIGNATURES = 100; // "MUST accept at least up to 16 signatures"

/** Splits a signed note (c2sp.org/signed-note, "Format") into text and signatures. */
function openNote(note: string): { text: string; sigs: NoteSignature[] } {
  if (Buffer.from(note, 'utf8').toString('utf8') !== note) throw new Error('note: not valid UTF-8');
  // "MUST NOT contain any ASCII control characters (those below U+0020) other than newline"
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new Error('note: control character');
  // "the text is separated from the signatures by the last empty line in the note"
  const sep = note.lastIndexOf('\n\n');
  if (sep < 0) throw new Error('note: no blank line before signatures');
  const text = note.slice(0, sep + 1); // includes the final newline, not the blank line
  const block = note.slice(sep + 2);
  if (block === '' || !block.endsWith('\n')) throw new Error('note: signature lines must end in newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new Error('note: too many signatures');
  const sigs = lines.map((line): NoteSignature => {
    // em dash (U+2014), space, key name, space, base64-encoded signature
    const m = /^\u2014 ([^ ]+) ([^ ]+)$/u.exec(line);
    if (!m || !validName(m[1] ?? '')) throw new Error('note: malformed signature line');
    const raw = b64(m[2] ?? '', 'note signature');
    if (raw.length < 5) throw new Error('note: signature too short'); // 4 + n bytes, n > 0
    return { name: m[1] ?? '', keyId: raw.readUInt32BE(0), sig: raw.subarray(4) };
  });
  return { text, sigs };
}

/**
 * Verifies a signed note against one trusted Ed25519 (type 0x01) verifier key;
 * throws on failure. Signatures from other keys are ignored; a signature whose
 * name and key ID match the key must verify (signed-note, "Signatures").
 */
export function verifySignedNote(note: string, vkey: string | VerifierKey): { text: string } {
  const key = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  if (key.type !== 0x01) throw new Error('note: verifier key is not an Ed25519 note key (0x01)');
  const { text, sigs } = openNote(note);
  let verified = false;
  for (const s of sigs) {
    if (s.name !== key.name || s.keyId !== key.keyId) continue;
    if (!ed25519Verify(key.publicKey, Buffer.from(text, 'utf8'), s.sig)) {
      throw new Error('note: signature from known key fails to verify');
    }
    verified = true;
  }
  if (!verified) throw new Error('note: no signature from the known key');
  return { text };
}

// ------------------------------------------------------------ checkpoint ---

export interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Buffer;
  extensions: string[];
}

/** Parses checkpoint note text (c2sp.org/tlog-checkpoint, "Note text"). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new Error('checkpoint: text must end in newline');
  // "a sequence of at least three non-empty lines"; extension lines "MUST be non-empty"
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3 || lines.some((l) => l === '')) throw new Error('checkpoint: need >= 3 non-empty lines');
  const [origin = '', size = '', root = '', ...extensions] = lines;
  const rootHash = b64(root, 'checkpoint root hash');
  if (rootHash.length !== 32) throw new Error('checkpoint: root hash is not 32 bytes');
  return { origin, size: u64(size, 'checkpoint tree size'), rootHash, extensions };
}

// ------------------------------------------------------------- tlog-proof ---

export interface TlogProofResult {
  index: bigint;
  size: bigint;
  extra?: Buffer;
  checkpoint: Checkpoint;
}

/**
 * Verifies a c2sp.org/tlog-proof@v1 proof for `leafHash`; throws on failure.
 * Layout ("Format"): header line; optional "extra <base64>" line; "index <n>";
 * zero or more base64 hash lines; an empty line; the signed checkpoint verbatim.
 * If `opts.origin` is given the checkpoint origin must equal it.
 */
export function verifyTlogProof(proofText: string, vkey: string | VerifierKey, leafHash: Uint8Array, opts: { origin?: string } = {}): TlogProofResult {
  let pos = 0;
  const nextLine = (): string => {
    const nl = proofText.indexOf('\n', pos);
    if (nl < 0) throw new Error('tlog-proof: truncated');
    const line = proofText.slice(pos, nl);
    pos = nl + 1;
    return line;
  };
  if (nextLine() !== 'c2sp.org/tlog-proof@v1') throw new Error('tlog-proof: bad header line');
  let line = nextLine();
  let extra: Buffer | undefined;
  if (line.startsWith('extra ')) {
    extra = b64(line.slice('extra '.length), 'tlog-proof extra');
    // "If no extra data is present, this line is omitted."
    if (extra.length === 0) throw new Error('tlog-proof: empty extra line');
    line = nextLine();
  }
  if (!line.startsWith('index ')) throw new Error('tlog-proof: missing index line');
  const index = u64(line.slice('index '.length), 'tlog-proof index');
  const proof: Buffer[] = [];
  for (line = nextLine(); line !== ''; line = nextLine()) {
    const h = b64(line, 'tlog-proof hash');
    if (h.length !== 32) throw new Error('tlog-proof: proof hash is not 32 bytes');
    proof.push(h);
  }
  const { text } = verifySignedNote(proofText.slice(pos), vkey);
  const checkpoint = parseCheckpoint(text);
  if (opts.origin !== undefined && checkpoint.origin !== opts.origin) {
    throw new Error('tlog-proof: unexpected checkpoint origin');
  }
  if (!verifyInclusion(leafHash, index, checkpoint.size, proof, checkpoint.rootHash)) {
    throw new Error('tlog-proof: inclusion proof does not verify');
  }
  return { index, size: checkpoint.size, checkpoint, ...(extra ? { extra } : {}) };
}

// ------------------------------------------------------------- tlog-tiles ---

export type TileLevel = number | 'entries';
export interface TileCoords {
  level: TileLevel;
  index: bigint;
  width: number; // 256 for full tiles
}

/** "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]", relative to the log prefix. */
export function tilePath(level: TileLevel, index: bigint | number, width = 256): string {
  if (level !== 'entries' && !(Number.isInteger(level) && level >= 0 && level <= 63)) {
    throw new Error('tile: level must be 0..63');
  }
  const n = toU64(index);
  if (n === null) throw new Error('tile: bad index');
  if (!Number.isInteger(width) || width < 1 || width > 256) throw new Error('tile: width must be 1..256');
  // N as zero-padded 3-digit elements, all but the last prefixed with 'x'.
  let digits = (n % 1000n).toString().padStart(3, '0');
  for (let rest = n / 1000n; rest > 0n; rest /= 1000n) {
    digits = `x${(rest % 1000n).toString().padStart(3, '0')}/${digits}`;
  }
  return `tile/${level}/${digits}${width === 256 ? '' : `.p/${width}`}`;
}

/** Inverse of tilePath; rejects every non-canonical spelling. */
export function parseTilePath(path: string): TileCoords {
  const m = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!m) throw new Error('tile: malformed path');
  const level: TileLevel = m[1] === 'entries' ? 'entries' : Number(m[1]);
  const index = BigInt((m[2] ?? '').replace(/[x/]/g, ''));
  const width = m[3] === undefined ? 256 : Number(m[3]);
  if ((typeof level === 'number' && level > 63) || (m[3] !== undefined && width > 255)) throw new Error('tile: out of range');
  if (tilePath(level, index, width) !== path) throw new Error('tile: non-canonical index encoding');
  return { level, index, width };
}

/** Splits a Merkle tree tile into its hashes: a full tile is 256 x 32 bytes, a partial 1..255. */
export function hashesFromTile(bytes: Uint8Array, width?: number): Buffer[] {
  const n = bytes.length / 32;
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error('tile: length must be 32 x 1..256 bytes');
  if (width !== undefined && n !== width) throw new Error(`tile: expected ${width} hashes, got ${n}`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: n }, (_, i) => Buffer.from(buf.subarray(i * 32, i * 32 + 32)));
}

// -------------------------------------------------------- tlog-cosignature ---

/**
 * Verifies the Ed25519 cosignature/v1 (key type 0x04) of one cosigner on a
 * signed checkpoint; throws on failure. The signature is
 * key ID (4) || timestamp (u64 BE) || Ed25519 signature (64) over
 * "cosignature/v1\ntime <timestamp>\n" || checkpoint note text.
 * This does NOT verify the log's own signature; use verifySignedNote for that.
 */
export function verifyCosignature(signedCheckpoint: string, cosignerVkey: string | VerifierKey): { timestamp: bigint; checkpoint: Checkpoint } {
  const key = typeof cosignerVkey === 'string' ? parseVerifierKey(cosignerVkey) : cosignerVkey;
  if (key.type !== 0x04) throw new Error('cosignature: verifier key type must be 0x04');
  const { text, sigs } = openNote(signedCheckpoint);
  const checkpoint = parseCheckpoint(text);
  let timestamp: bigint | undefined;
  for (const s of sigs) {
    if (s.name !== key.name || s.keyId !== key.keyId) continue;
    if (s.sig.length !== 8 + 64) throw new Error('cosignature: bad timestamped_signature length');
    const ts = s.sig.readBigUInt64BE(0);
    if (ts > (1n << 63n) - 1n) throw new Error('cosignature: timestamp exceeds 2^63 - 1');
    const msg = Buffer.from(`cosignature/v1\ntime ${ts}\n${text}`, 'utf8');
    if (!ed25519Verify(key.publicKey, msg, s.sig.subarray(8))) {
      throw new Error('cosignature: signature from known cosigner fails to verify');
    }
    timestamp = ts;
  }
  if (timestamp === undefined) throw new Error('cosignature: no cosignature from this cosigner');
  return { timestamp, checkpoint };
}
