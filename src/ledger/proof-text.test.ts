import { describe, expect, it } from 'vitest';
import { formatCheckpoint } from './checkpoint.ts';
import { MemoryHashStore } from './memory-hash-store.ts';
import { generateSignerKey, parseSignerKey, parseVerifierKey, signNote } from './note.ts';
import { formatTlogProof, parseTlogProof, TLOG_PROOF_HEADER, verifyTlogProof } from './proof-text.ts';
import { inclusionProof, rootAt } from './proofs.ts';
import { expectCode } from './testing/expect-code.ts';
import { makeLeaves } from './testing/reference-tree.ts';

const ORIGIN = 'log.example/t/acme';

/** A 300-leaf log, its signed checkpoint and the tlog-proof of leaf `index`. */
async function logWithProof(index: number, extra?: Buffer) {
  const key = generateSignerKey(ORIGIN);
  const leaves = makeLeaves(300);
  const store = new MemoryHashStore();
  store.append(leaves);
  const checkpoint = signNote(formatCheckpoint({ origin: ORIGIN, size: 300, root: await rootAt(store, 300) }), [parseSignerKey(key.signerKey)]);
  const proof = await inclusionProof(store, index, 300);
  const text = formatTlogProof({ index, proof, checkpoint, ...(extra ? { extra } : {}) });
  return { text, proof, checkpoint, leaves, verifier: parseVerifierKey(key.verifierKey) };
}

describe('tlog proofs (c2sp.org/tlog-proof@v1)', () => {
  it('writes the header, optional extra, index, hashes, a blank line and the checkpoint', async () => {
    const { text, proof, checkpoint } = await logWithProof(42, Buffer.from('context'));
    const lines = text.split('\n');
    expect(lines[0]).toBe(TLOG_PROOF_HEADER);
    expect(lines[1]).toBe(`extra ${Buffer.from('context').toString('base64')}`);
    expect(lines[2]).toBe('index 42');
    expect(lines.slice(3, 3 + proof.length)).toEqual(proof.map((h) => h.toString('base64')));
    expect(lines[3 + proof.length]).toBe('');
    expect(text.endsWith(`\n\n${checkpoint}`)).toBe(true);
  });

  it('round-trips with and without extra data', async () => {
    for (const extra of [undefined, Buffer.from('vrf proof')]) {
      const { text, proof, checkpoint } = await logWithProof(7, extra);
      expect(parseTlogProof(text)).toEqual({ index: 7, proof, checkpoint, ...(extra ? { extra } : {}) });
      expect(formatTlogProof(parseTlogProof(text))).toBe(text);
    }
    // No extra data, no extra line.
    const { text: withEmpty } = await logWithProof(7, Buffer.alloc(0));
    expect(withEmpty.split('\n')[1]).toBe('index 7');
    // A one-leaf tree has an empty inclusion proof.
    const proof = { index: 0, proof: [], checkpoint: 'o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— o AAAAAAA=\n' };
    expect(parseTlogProof(formatTlogProof(proof))).toEqual(proof);
  });

  it('verifies against the log key and origin, and fails for any other leaf, index or log', async () => {
    const { text, leaves, verifier } = await logWithProof(123);
    expect(verifyTlogProof(text, leaves[123] as Buffer, ORIGIN, verifier).index).toBe(123);
    expectCode('PROOF_INVALID', () => verifyTlogProof(text, leaves[124] as Buffer, ORIGIN, verifier));
    expectCode('PROOF_INVALID', () => verifyTlogProof(text.replace('index 123', 'index 122'), leaves[123] as Buffer, ORIGIN, verifier));
    expectCode('PROOF_INVALID', () => verifyTlogProof(text, leaves[123] as Buffer, 'log.example/t/other', verifier));
    const stranger = parseVerifierKey(generateSignerKey(ORIGIN).verifierKey);
    expectCode('UNKNOWN_KEY', () => verifyTlogProof(text, leaves[123] as Buffer, ORIGIN, stranger));
  });

  it.each([
    ['a wrong header', (t: string) => t.replace(TLOG_PROOF_HEADER, 'c2sp.org/tlog-proof@v2')],
    ['an index with a leading zero', (t: string) => t.replace('index 5', 'index 05')],
    ['a negative index', (t: string) => t.replace('index 5', 'index -5')],
    ['no index line', (t: string) => t.replace('index 5\n', '')],
    ['a hash of 31 bytes', (t: string) => t.replace(/\n[A-Za-z0-9+/]{43}=\n/, `\n${Buffer.alloc(31).toString('base64')}\n`)],
    ['bad extra data', (t: string) => t.replace('index 5', 'extra !!\nindex 5')],
    ['an empty extra line', (t: string) => t.replace('index 5', 'extra \nindex 5')],
    ['no checkpoint', (t: string) => t.slice(0, t.indexOf('\n\n') + 2)],
    ['no blank line', (t: string) => t.slice(0, t.indexOf('\n\n') + 1)],
  ])('rejects a proof with %s', async (_, tamper) => {
    const { text } = await logWithProof(5);
    expectCode('PROOF_INVALID', () => parseTlogProof(tamper(text)));
  });
});
