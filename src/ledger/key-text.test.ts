import { describe, expect, it } from 'vitest';
import { LedgerError } from './errors.ts';
import { isValidKeyName, keyId, parseSignerKey, parseVerifierKey } from './key-text.ts';
import { generateSignerKey } from './note.ts';
import { expectCode } from './testing/expect-code.ts';

const VERIFIER = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';

describe('note key texts', () => {
  it('computes key IDs as SHA-256(name || 0x0A || type || key)[:4]', () => {
    const { publicKey } = parseVerifierKey(VERIFIER, [0x01]);
    expect(keyId('example.com/foo', 0x01, publicKey)).toBe(0x530d903a);
    expect(keyId('example.com/foo', 0x04, publicKey)).not.toBe(0x530d903a);
  });

  it('round-trips generated keys', () => {
    const { signerKey, verifierKey } = generateSignerKey('log.example/t/acme');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+log\.example\/t\/acme\+[0-9a-f]{8}\+/);
    const signer = parseSignerKey(signerKey, [0x01]);
    const verifier = parseVerifierKey(verifierKey, [0x01]);
    expect(signer.publicKey).toEqual(verifier.publicKey);
    expect(signer.keyId).toBe(verifier.keyId);
    expect(signer.seed).toHaveLength(32);
    // Upper-case hex key IDs parse, as with Go's strconv.ParseUint.
    expect(parseVerifierKey(VERIFIER.replace('530d903a', '530D903A'), [0x01]).keyId).toBe(0x530d903a);
  });

  it.each([
    ['missing fields', 'example.com/foo+530d903a'],
    ['empty name', '+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['space in name', 'example.com foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['short key ID', 'example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['non-hex key ID', 'example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['wrong key ID', 'example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['key of another name', 'example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['unsupported type', 'rekor.sigstore.dev+12345678+AwEB'],
    ['short key', `example.com/foo+530d903a+${Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]).toString('base64')}`],
    ['invalid base64', 'rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!'],
    ['trailing newline', `${VERIFIER}\n`],
  ])('rejects a verifier key with %s', (_, text) => {
    expectCode('KEY_INVALID', () => parseVerifierKey(text, [0x01]));
  });

  it('rejects signer keys without leaking them', () => {
    for (const text of [
      SIGNER.replace('PRIVATE+KEY', 'PRIVATE+KEX'),
      SIGNER.replace('c74f20a3', 'c74f20a4'),
      SIGNER.replace('AYEK', 'AIEK'),
      SIGNER.slice(0, -1),
      SIGNER.replace('PeterNeumann', 'Peter\tNeumann'),
    ]) {
      expectCode('KEY_INVALID', () => parseSignerKey(text, [0x01]));
      try {
        parseSignerKey(text, [0x01]);
      } catch (error) {
        expect((error as LedgerError).message).not.toContain('FALVFG');
      }
    }
    expectCode('KEY_INVALID', () => parseSignerKey(SIGNER, [0x04]));
  });

  it('enforces the key name rules', () => {
    expect(isValidKeyName('example.com/log42')).toBe(true);
    expect(isValidKeyName('päivä.example')).toBe(true);
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u3000b', 'a\u0085b', 'a\nb', 'a\u0000b', '\uDC00']) {
      expect(isValidKeyName(name), JSON.stringify(name)).toBe(false);
    }
    expectCode('KEY_INVALID', () => generateSignerKey('with space'));
  });
});
