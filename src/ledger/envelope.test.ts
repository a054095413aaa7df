import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commitment, envelopeBytes, envelopeText, eventLeafHash, newSalt, SALT_SIZE } from './envelope.ts';
import { canonicalJson } from './jcs.ts';
import type { Envelope } from './envelope.ts';
import { expectCode } from './testing/expect-code.ts';

// Golden values computed independently (Python: hashlib + json.dumps(sort_keys, compact, UTF-8)).
// The envelope is a stable format: if these change, every proof ever issued breaks.
const SALT = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const BODY = {
  action: 'user.login',
  actor: { type: 'user', id: 'u_1', name: 'Zoë' },
  targets: [],
  outcome: 'success',
  occurred_at: '2026-11-22T21:55:12.123Z',
  context: { ip: '203.0.113.7' },
  n: 1.5,
};
const COMMITMENT = 'e97fac5e6a114cf186f02e7aa4ff3a7278019834a8e910c5e819a04cc89bf3d2';
const ENVELOPE: Envelope = {
  tenant: 'acme',
  index: 42,
  uid: '0193f5c4-8a2b-7c3d-9e4f-0123456789ab',
  received_at: '2026-11-22T21:55:12.456Z',
  commitment: Buffer.from(COMMITMENT, 'hex'),
};
const ENVELOPE_JSON =
  '{"commitment":"e97fac5e6a114cf186f02e7aa4ff3a7278019834a8e910c5e819a04cc89bf3d2","index":42,' +
  '"received_at":"2026-11-22T21:55:12.456Z","tenant":"acme","uid":"0193f5c4-8a2b-7c3d-9e4f-0123456789ab","v":1}';
const LEAF = '4f252564a846692488c59f4c36adec620f07f75416aaa8176b4c3018b8445925';

describe('envelope', () => {
  it('commits to the salted canonical JSON of the body', () => {
    expect(commitment(SALT, BODY).toString('hex')).toBe(COMMITMENT);
    // Key order and whitespace do not matter (RFC 8785); the salt does.
    const reordered = Object.fromEntries(Object.entries(BODY).reverse());
    expect(commitment(SALT, reordered).toString('hex')).toBe(COMMITMENT);
    expect(commitment(newSalt(), BODY).toString('hex')).not.toBe(COMMITMENT);
  });

  it('encodes the envelope as RFC 8785 JSON and hashes it as a leaf', () => {
    expect(envelopeBytes(ENVELOPE).toString('utf8')).toBe(ENVELOPE_JSON);
    expect(eventLeafHash(ENVELOPE).toString('hex')).toBe(LEAF);
    expect(eventLeafHash({ ...ENVELOPE, index: 43 }).toString('hex')).not.toBe(LEAF);
  });

  it('spells the envelope exactly as the generic RFC 8785 canonicaliser does', () => {
    const wellFormed = fc.string({ unit: 'grapheme', maxLength: 40 });
    fc.assert(
      fc.property(
        wellFormed,
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        wellFormed,
        wellFormed,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (tenant, index, uid, receivedAt, c) => {
          const hex = Buffer.from(c).toString('hex');
          const expected = canonicalJson({ v: 1, tenant, index, uid, received_at: receivedAt, commitment: hex });
          expect(envelopeText(tenant, index, uid, receivedAt, hex)).toBe(expected);
          expect(envelopeBytes({ tenant, index, uid, received_at: receivedAt, commitment: c }).toString('utf8')).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('draws fresh 32-byte salts', () => {
    const [a, b] = [newSalt(), newSalt()];
    expect(a).toHaveLength(SALT_SIZE);
    expect(a.equals(b)).toBe(false);
  });

  it('rejects bodies without a canonical JSON form as NOT_CANONICAL', () => {
    for (const body of [undefined, { n: Number.NaN }, { s: '\uD800' }, () => 1]) {
      expectCode('NOT_CANONICAL', () => commitment(SALT, body));
    }
  });

  it('rejects malformed envelopes', () => {
    const bad: Envelope[] = [
      { ...ENVELOPE, index: -1 },
      { ...ENVELOPE, index: 1.5 },
      { ...ENVELOPE, commitment: Buffer.alloc(31) },
      { ...ENVELOPE, tenant: 7 as unknown as string },
      { ...ENVELOPE, uid: 'lone \uD800 surrogate' },
    ];
    for (const envelope of bad) expectCode('INVALID_ARGUMENT', () => envelopeBytes(envelope));
    expectCode('INVALID_ARGUMENT', () => commitment(Buffer.alloc(16), BODY));
  });
});
