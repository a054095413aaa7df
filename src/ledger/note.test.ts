import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateSignerKey, MAX_NOTE_SIGNATURES, MAX_NOTE_SIZE, openNote, parseSignerKey, parseVerifierKey, signNote } from './note.ts';
import type { NoteVerifier } from './note.ts';
import { expectCode } from './testing/expect-code.ts';

/** The C2SP signed-note example (test/fixtures/vectors/signed-note.txt): a verifier key and its note. */
function signedNoteVector(): { verifierKey: string; note: string } {
  const file = readFileSync(fileURLToPath(new URL('../../test/fixtures/vectors/signed-note.txt', import.meta.url)), 'utf8');
  const [, verifierKey = ''] = file.split('\n');
  const [, note = ''] = file.split('-----\n');
  return { verifierKey, note };
}

// The example in the documentation of Go's golang.org/x/mod/sumdb/note (BSD-3-Clause): a signer
// key, its verifier key, and the deterministic Ed25519 note it signs; then a second signature by a
// key we do not know.
const GO_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIGNATURE = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const GO_SECOND = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

describe('signed notes (c2sp.org/signed-note)', () => {
  it('verifies the C2SP example note', () => {
    const { verifierKey, note } = signedNoteVector();
    const verifier = parseVerifierKey(verifierKey);
    expect(verifier.name).toBe('example.com/foo');
    expect(verifier.keyId).toBe(0x530d903a);
    const opened = openNote(note, [verifier]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verified.map((s) => s.name)).toEqual(['example.com/foo']);
    expect(opened.unverified).toEqual([]);
  });

  it('rejects the C2SP example once tampered with', () => {
    const { verifierKey, note } = signedNoteVector();
    const verifier = parseVerifierKey(verifierKey);
    expectCode('PROOF_INVALID', () => openNote(note.replace('example message', 'example massage'), [verifier]));
    const [text, sig = ''] = note.split('— example.com/foo ');
    const flipped = sig.startsWith('U') ? `V${sig.slice(1)}` : `U${sig.slice(1)}`;
    expectCode('UNKNOWN_KEY', () => openNote(`${text}— example.com/foo ${flipped}`, [verifier])); // key ID no longer known
    const badSig = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    expectCode('PROOF_INVALID', () => openNote(`${text}— example.com/foo ${badSig}`, [verifier]));
  });

  it("signs exactly like Go's note package", () => {
    const signer = parseSignerKey(GO_SIGNER);
    expect(signer.verifierKey).toBe(GO_VERIFIER);
    expect(signNote(GO_TEXT, [signer])).toBe(`${GO_TEXT}\n${GO_SIGNATURE}`);
  });

  it('reports signatures by unknown keys as unverified', () => {
    const opened = openNote(`${GO_TEXT}\n${GO_SIGNATURE}${GO_SECOND}${GO_SECOND}`, [parseVerifierKey(GO_VERIFIER)]);
    expect(opened.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(opened.unverified.map((s) => s.name)).toEqual(['EnochRoot']);
    // A note signed by no known key is rejected.
    expectCode('UNKNOWN_KEY', () => openNote(`${GO_TEXT}\n${GO_SECOND}`, [parseVerifierKey(GO_VERIFIER)]));
    expectCode('UNKNOWN_KEY', () => openNote(`${GO_TEXT}\n${GO_SIGNATURE}`, []));
  });

  it('round-trips generated keys, keeping existing signatures when adding one', () => {
    const log = generateSignerKey('log.example/t/acme');
    const other = generateSignerKey('witness.example');
    const [logSigner, otherSigner] = [parseSignerKey(log.signerKey), parseSignerKey(other.signerKey)];
    expect(logSigner.verifierKey).toBe(log.verifierKey);
    const verifiers = [parseVerifierKey(log.verifierKey), parseVerifierKey(other.verifierKey)];
    const once = openNote(signNote('hello\n\nworld\n', [logSigner]), verifiers);
    expect(once.text).toBe('hello\n\nworld\n');
    const twice = openNote(signNote(once.text, [otherSigner, logSigner], once.verified), verifiers);
    expect(twice.verified.map((s) => s.name).sort()).toEqual(['log.example/t/acme', 'witness.example']);
  });

  it('verifies each key once and ignores its repeated lines, as Go does', () => {
    const note = `${GO_TEXT}\n${GO_SIGNATURE}${GO_SIGNATURE}`;
    expect(openNote(note, [parseVerifierKey(GO_VERIFIER)]).verified).toHaveLength(1);
  });

  it('refuses an ambiguous set of verifiers', () => {
    const v = parseVerifierKey(GO_VERIFIER);
    expectCode('KEY_INVALID', () => openNote(`${GO_TEXT}\n${GO_SIGNATURE}`, [v, v]));
  });

  it('accepts UTF-8 bytes and rejects invalid UTF-8', () => {
    const verifiers: NoteVerifier[] = [parseVerifierKey(GO_VERIFIER)];
    expect(openNote(Buffer.from(`${GO_TEXT}\n${GO_SIGNATURE}`), verifiers).text).toBe(GO_TEXT);
    const invalid = Buffer.concat([Buffer.from('bad \xff'.slice(0, 4)), Buffer.from([0xff]), Buffer.from(`\n\n${GO_SIGNATURE}`)]);
    expectCode('PROOF_INVALID', () => openNote(invalid, verifiers));
  });

  it.each([
    ['no blank line', `${GO_TEXT}${GO_SIGNATURE}`],
    ['no final newline', `${GO_TEXT}\n${GO_SIGNATURE.trimEnd()}`],
    ['no signature', `${GO_TEXT}\n\n`],
    ['hyphen instead of em dash', `${GO_TEXT}\n${GO_SIGNATURE.replace('—', '-')}`],
    ['no space after the name', `${GO_TEXT}\n— PeterNeumann\n`],
    ['empty name', `${GO_TEXT}\n—  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`],
    ['non-canonical base64', `${GO_TEXT}\n${GO_SIGNATURE.replace('AM=', 'AM')}`],
    ['signature shorter than 5 bytes', `${GO_TEXT}\n— PeterNeumann AAAAAA==\n`],
    ['carriage return', `${GO_TEXT.replace('\n', '\r\n')}\n${GO_SIGNATURE}`],
    ['control character', `\u0007${GO_TEXT}\n${GO_SIGNATURE}`],
    ['lone surrogate', `\uD800${GO_TEXT}\n${GO_SIGNATURE}`],
    ['too large', `${'a'.repeat(MAX_NOTE_SIZE)}\n\n${GO_SIGNATURE}`],
    ['too many signatures', `${GO_TEXT}\n${GO_SIGNATURE}${GO_SECOND.repeat(MAX_NOTE_SIGNATURES)}`],
  ])('rejects a malformed note: %s', (_, note) => {
    expectCode('PROOF_INVALID', () => openNote(note, [parseVerifierKey(GO_VERIFIER)]));
  });

  it('signs only note texts ending in a newline', () => {
    const signer = parseSignerKey(GO_SIGNER);
    expectCode('INVALID_ARGUMENT', () => signNote('no newline', [signer]));
    expectCode('INVALID_ARGUMENT', () => signNote('tab\there\n', [signer]));
    expectCode('INVALID_ARGUMENT', () => signNote('ok\n', [{ ...signer, name: 'bad name' }]));
  });
});
