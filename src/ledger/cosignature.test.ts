import { describe, expect, it } from 'vitest';
import { formatCheckpoint } from './checkpoint.ts';
import { COSIGNATURE_TYPE, cosignatureTimestamp, generateCosignerKey, parseCosignatureVerifierKey, parseCosignerKey } from './cosignature.ts';
import { ed25519Verify } from './crypto.ts';
import { parseVerifierKey as parseKeyText } from './key-text.ts';
import { generateSignerKey, openNote, parseVerifierKey, signNote } from './note.ts';
import { expectCode } from './testing/expect-code.ts';

const ROOT = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');
const BODY = formatCheckpoint({ origin: 'example.com/behind-the-sofa', size: 20852163, root: ROOT });

describe('cosignatures (c2sp.org/tlog-cosignature, Ed25519 cosignature/v1)', () => {
  it('signs "cosignature/v1\\ntime <t>\\n<checkpoint>" and prefixes the big-endian time', () => {
    const { signerKey, verifierKey } = generateCosignerKey('witness.example.com/w1');
    const cosigner = parseCosignerKey(signerKey);
    expect(cosigner.verifierKey).toBe(verifierKey);
    const signature = cosigner.signAt(Buffer.from(BODY), 1679315147);
    expect(signature).toHaveLength(72);
    expect(signature.readBigUInt64BE(0)).toBe(1679315147n);
    expect(cosignatureTimestamp(signature)).toBe(1679315147);
    // Checked independently of the verifier under test: raw Ed25519 over the spec's message.
    const { publicKey, type } = parseKeyText(verifierKey, [COSIGNATURE_TYPE]);
    expect(type).toBe(0x04);
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\n${BODY}`);
    expect(ed25519Verify(publicKey, message, signature.subarray(8))).toBe(true);
  });

  it('adds a cosignature to a checkpoint note that openNote verifies', () => {
    const now = 1_700_000_000_000;
    const { signerKey, verifierKey } = generateCosignerKey('witness.example');
    const note = signNote(BODY, [parseCosignerKey(signerKey, () => now)]);
    const opened = openNote(note, [parseCosignatureVerifierKey(verifierKey)]);
    expect(opened.verified).toHaveLength(1);
    expect(cosignatureTimestamp(opened.verified[0]?.signature ?? Buffer.alloc(0))).toBe(now / 1000);
  });

  it('covers extension lines and the time', () => {
    const { signerKey, verifierKey } = generateCosignerKey('witness.example');
    const cosigner = parseCosignerKey(signerKey);
    const verifier = parseCosignatureVerifierKey(verifierKey);
    const text = Buffer.from(`${BODY}extension\n`);
    const signature = cosigner.signAt(text, 1000);
    expect(verifier.verify(text, signature)).toBe(true);
    expect(verifier.verify(Buffer.from(`${BODY}extensioN\n`), signature)).toBe(false);
    const retimed = Buffer.from(signature);
    retimed.writeBigUInt64BE(1001n);
    expect(verifier.verify(text, retimed)).toBe(false);
    expect(verifier.verify(text, signature.subarray(8))).toBe(false);
    expect(verifier.verify(Buffer.from('not a checkpoint\n'), signature)).toBe(false);
  });

  it('uses key IDs of type 0x04, so plain note keys and cosigner keys never mix', () => {
    const { signerKey, verifierKey } = generateSignerKey('witness.example');
    // A note key may be reused as a cosigner key (transparency-dev/formats), under another key ID.
    const cosigner = parseCosignerKey(signerKey);
    const asCosigner = parseCosignatureVerifierKey(verifierKey);
    expect(asCosigner.keyId).toBe(cosigner.keyId);
    expect(asCosigner.keyId).not.toBe(parseVerifierKey(verifierKey).keyId);
    const note = signNote(BODY, [cosigner]);
    expect(openNote(note, [asCosigner]).verified).toHaveLength(1);
    expectCode('UNKNOWN_KEY', () => openNote(note, [parseVerifierKey(verifierKey)]));
    expectCode('KEY_INVALID', () => parseVerifierKey(cosigner.verifierKey));
  });

  it('reads the verifier keys that transparency-dev/formats accepts', () => {
    // From transparency-dev/formats note_cosigv1_test.go (Apache-2.0): a type 0x01 key and a
    // native type 0x04 key; parsing checks their key IDs, so this pins our key ID computation.
    expect(parseCosignatureVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6').name).toBe('TEST');
    expect(parseCosignatureVerifierKey('remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2').keyId).toBe(0xda77ade7);
    expectCode('KEY_INVALID', () => parseCosignatureVerifierKey('remora.n621.de+da77ade8+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2'));
  });

  it('reads the timestamp of a real cosignature and rejects other signatures', () => {
    // transparency-dev/formats TestCoSigV1Timestamp: base64(key ID || timestamp || signature).
    const line = Buffer.from('ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==', 'base64');
    expect(cosignatureTimestamp(line.subarray(4))).toBe(1727964367);
    expectCode('PROOF_INVALID', () => cosignatureTimestamp(Buffer.alloc(64)));
  });

  it('refuses to cosign anything but a checkpoint at a valid time', () => {
    const cosigner = parseCosignerKey(generateCosignerKey('w').signerKey);
    expectCode('PROOF_INVALID', () => cosigner.signAt(Buffer.from('hello\n'), 1));
    expectCode('INVALID_ARGUMENT', () => cosigner.signAt(Buffer.from(BODY), -1));
    expectCode('INVALID_ARGUMENT', () => cosigner.signAt(Buffer.from(BODY), 1.5));
  });
});
