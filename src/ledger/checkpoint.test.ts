import { describe, expect, it } from 'vitest';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from './checkpoint.ts';
import { generateCosignerKey, parseCosignatureVerifierKey, parseCosignerKey } from './cosignature.ts';
import { generateSignerKey, parseSignerKey, parseVerifierKey, signNote } from './note.ts';
import { expectCode } from './testing/expect-code.ts';

// The body of the example in c2sp.org/tlog-checkpoint.
const SPEC_BODY = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
const ROOT = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');

describe('checkpoints (c2sp.org/tlog-checkpoint)', () => {
  it('parses the spec example and formats it back', () => {
    const checkpoint = parseCheckpoint(SPEC_BODY);
    expect(checkpoint).toEqual({ origin: 'example.com/behind-the-sofa', size: 20852163, root: ROOT });
    expect(formatCheckpoint(checkpoint)).toBe(SPEC_BODY);
  });

  it('keeps extension lines', () => {
    const text = `${SPEC_BODY}ext one\next two\n`;
    expect(parseCheckpoint(text).extensions).toEqual(['ext one', 'ext two']);
    expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
    expect(formatCheckpoint({ origin: 'o', size: 0, root: ROOT })).toBe(`o\n0\n${ROOT.toString('base64')}\n`);
  });

  it.each([
    ['no final newline', SPEC_BODY.trimEnd()],
    ['two lines', 'example.com/x\n1\n'],
    ['empty origin', `\n1\n${ROOT.toString('base64')}\n`],
    ['leading zero', SPEC_BODY.replace('20852163', '020852163')],
    ['sign', SPEC_BODY.replace('20852163', '+20852163')],
    ['exponent', SPEC_BODY.replace('20852163', '2e7')],
    ['size beyond 2^53', SPEC_BODY.replace('20852163', '9007199254740992')],
    ['root of 31 bytes', SPEC_BODY.replace('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', Buffer.alloc(31).toString('base64'))],
    ['non-canonical root', SPEC_BODY.replace('2I=', '2J=')],
    ['empty extension line', `${SPEC_BODY}\n`],
  ])('rejects a checkpoint with %s', (_, text) => {
    expectCode('PROOF_INVALID', () => parseCheckpoint(text));
  });

  it('refuses to format an invalid checkpoint', () => {
    expectCode('INVALID_ARGUMENT', () => formatCheckpoint({ origin: '', size: 1, root: ROOT }));
    expectCode('INVALID_ARGUMENT', () => formatCheckpoint({ origin: 'a\nb', size: 1, root: ROOT }));
    expectCode('INVALID_ARGUMENT', () => formatCheckpoint({ origin: 'o', size: -1, root: ROOT }));
    expectCode('INVALID_ARGUMENT', () => formatCheckpoint({ origin: 'o', size: 1, root: ROOT.subarray(1) }));
    expectCode('INVALID_ARGUMENT', () => formatCheckpoint({ origin: 'o', size: 1, root: ROOT, extensions: [''] }));
  });

  it('opens a checkpoint signed by the log, for the expected origin only', () => {
    const origin = 'log.example/t/acme';
    const log = generateSignerKey(origin);
    const witness = generateCosignerKey('witness.example');
    const logVerifier = parseVerifierKey(log.verifierKey);
    const body = formatCheckpoint({ origin, size: 5, root: ROOT });
    const signed = signNote(body, [parseSignerKey(log.signerKey), parseCosignerKey(witness.signerKey)]);

    const { checkpoint, note } = openCheckpoint(signed, origin, logVerifier, [parseCosignatureVerifierKey(witness.verifierKey)]);
    expect(checkpoint.size).toBe(5);
    expect(note.verified).toHaveLength(2);
    expect(openCheckpoint(signed, origin, logVerifier).note.unverified).toHaveLength(1);

    expectCode('PROOF_INVALID', () => openCheckpoint(signed, 'log.example/t/other', logVerifier));
    const witnessOnly = signNote(body, [parseCosignerKey(witness.signerKey)]);
    expectCode('PROOF_INVALID', () => openCheckpoint(witnessOnly, origin, logVerifier, [parseCosignatureVerifierKey(witness.verifierKey)]));
    const notACheckpoint = signNote('hello\n', [parseSignerKey(log.signerKey)]);
    expectCode('PROOF_INVALID', () => openCheckpoint(notACheckpoint, origin, logVerifier));
  });
});
