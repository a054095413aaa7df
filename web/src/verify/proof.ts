/**
 * Client-side verification of an event's inclusion proof (GET /v1/events/{uid}/proof) with
 * WebCrypto only, trusting nothing the server says but the verifier key:
 *
 *   commitment = SHA-256(salt || JCS(event))                     must equal the envelope's
 *   leaf       = SHA-256(0x00 || JCS(envelope))                  RFC 6962 §2.1
 *   root       = fold of the c2sp.org/tlog-proof hashes          RFC 9162 §2.1.3.2
 *   checkpoint = Ed25519 signed note (c2sp.org/signed-note)      signed by the tenant's key
 *
 * Each step that fails names itself, so the console can say what did not match.
 */
import { canonicalJson } from './jcs.ts';

export interface ProofResponse {
  event: Record<string, unknown> | null;
  salt: string | null;
  envelope: { v: number; tenant: string; index: number; uid: string; received_at: string; commitment: string };
  leaf_index: number;
  checkpoint: string;
  proof: string;
}

export type VerifyStep = 'commitment' | 'envelope' | 'proof' | 'signature' | 'root' | 'event';

export type VerifyResult = { ok: true; checkpointSize: number; index: number; origin: string } | { ok: false; step: VerifyStep; message: string };

/** What the console showed, checked against the verified envelope (uid, tenant, received time). */
export interface Displayed {
  uid: string;
  tenant: string;
  received_at: string;
}

const encoder = new TextEncoder();

export async function verifyProof(response: ProofResponse, verifierKeys: readonly string[], displayed?: Displayed): Promise<VerifyResult> {
  try {
    const { envelope } = response;
    if (displayed) {
      for (const field of ['uid', 'tenant', 'received_at'] as const) {
        if (displayed[field] !== envelope[field]) return fail('event', `the event shown has ${field} ${displayed[field]}, the logged one ${envelope[field]}`);
      }
    }
    if (response.event === null || response.salt === null) return fail('commitment', 'the event body was erased; only its place in the log can be checked');
    const commitment = await sha256(concat(hexBytes(response.salt), encoder.encode(canonicalJson(response.event))));
    if (hex(commitment) !== envelope.commitment)
      return fail('commitment', 'the event content does not match the commitment in the log: it was changed after it was recorded');

    const leaf = await sha256(concat(Uint8Array.of(0), encoder.encode(canonicalJson(envelope))));
    const proof = parseTlogProof(response.proof);
    if (proof.index !== envelope.index) return fail('proof', `the proof is for index ${proof.index}, the envelope says ${envelope.index}`);

    const note = await openNote(proof.checkpoint, verifierKeys);
    if (!note) return fail('signature', 'the checkpoint is not signed by the published key of this log');
    const [origin, sizeLine, rootLine] = note.text.split('\n');
    if (!origin?.endsWith(`/t/${envelope.tenant}`)) return fail('signature', `the checkpoint is for log ${origin}, not tenant ${envelope.tenant}`);
    const size = Number(sizeLine);
    if (!/^(0|[1-9]\d*)$/.test(sizeLine ?? '') || !Number.isSafeInteger(size)) return fail('proof', 'the checkpoint size is malformed');
    const root = base64Bytes(rootLine ?? '');
    const computed = await rootFromInclusionProof(proof.index, size, leaf, proof.hashes);
    if (!computed) return fail('proof', `the inclusion proof has the wrong shape for index ${proof.index} in a tree of ${size}`);
    if (!equal(computed, root)) return fail('root', 'the inclusion proof does not lead to the signed root: the log entry was changed');
    return { ok: true, checkpointSize: size, index: proof.index, origin };
  } catch (err) {
    return fail('proof', `the proof is malformed: ${(err as Error).message}`);
  }
}

function fail(step: VerifyStep, message: string): VerifyResult {
  return { ok: false, step, message };
}

interface TlogProof {
  index: number;
  hashes: Uint8Array[];
  checkpoint: string;
}

/** c2sp.org/tlog-proof@v1: header, optional extra, `index N`, hashes, blank line, the signed note. */
function parseTlogProof(text: string): TlogProof {
  const lines = text.split('\n');
  let at = 0;
  if (lines[at++] !== 'c2sp.org/tlog-proof@v1') throw new Error('not a tlog-proof');
  if (lines[at]?.startsWith('extra ')) at++;
  const indexLine = /^index (0|[1-9]\d*)$/.exec(lines[at++] ?? '');
  if (!indexLine) throw new Error('no index line');
  const hashes: Uint8Array[] = [];
  for (let line = lines[at++]; line !== ''; line = lines[at++]) {
    if (line === undefined || hashes.length > 64) throw new Error('unterminated proof');
    const hash = base64Bytes(line);
    if (hash.length !== 32) throw new Error('a proof hash is not 32 bytes');
    hashes.push(hash);
  }
  return { index: Number(indexLine[1]), hashes, checkpoint: lines.slice(at).join('\n') };
}

/**
 * Opens a signed note with any of the Go `note` verifier keys `name+hexid+base64(0x01||key)`:
 * a signature line `— name base64(keyid||sig)` whose name and key id match, and whose Ed25519
 * signature over the note text verifies. Returns the text, or undefined.
 */
async function openNote(note: string, verifierKeys: readonly string[]): Promise<{ text: string } | undefined> {
  const split = note.indexOf('\n\n');
  if (split < 0) return undefined;
  const text = note.slice(0, split + 1);
  const signatures = note
    .slice(split + 2)
    .split('\n')
    .filter((l) => l !== '');
  for (const vkey of verifierKeys) {
    // name+hexid+base64: the base64 may itself hold '+', so split at the first two only.
    const [name, id, ...rest] = vkey.trim().split('+');
    const key = rest.join('+');
    if (!name || !id || !key) continue;
    const keyBytes = /^[A-Za-z0-9+/]+=*$/.test(key) ? base64Bytes(key) : new Uint8Array();
    if (keyBytes[0] !== 0x01 || keyBytes.length !== 33) continue;
    for (const line of signatures) {
      const match = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const sig = base64Bytes(match[2]!);
      if (sig.length !== 68 || hex(sig.subarray(0, 4)) !== id.toLowerCase()) continue;
      const publicKey = await crypto.subtle.importKey('raw', keyBytes.subarray(1) as BufferSource, { name: 'Ed25519' }, false, ['verify']);
      if (await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, sig.subarray(4) as BufferSource, encoder.encode(text) as BufferSource)) return { text };
    }
  }
  return undefined;
}

/** RFC 9162 §2.1.3.2, with arithmetic instead of 32-bit bit operations (indexes go up to 2^53). */
async function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[]): Promise<Uint8Array | undefined> {
  if (index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat(Uint8Array.of(1), p, r));
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await sha256(concat(Uint8Array.of(1), r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as BufferSource));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function hexBytes(text: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new Error('not hex');
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function base64Bytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new Error('not base64');
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
