/**
 * Self-tests of the independent spec verifier (spec-verifier.ts):
 *  - RFC 6962 known-answer vectors from test/fixtures/vectors/rfc6962 (copied from the shared vectors)
 *    (transparency-dev/merkle testdata, commit 417fb0c3, Apache-2.0);
 *  - the c2sp.org/signed-note worked example in test/fixtures/vectors/signed-note.txt;
 *  - naive RFC 6962 §2.1 MTH / §2.1.1 PATH / §2.1.2 SUBPROOF trees of sizes 1..20;
 *  - tlog-proof, tlog-cosignature and tlog-tiles round trips built here from the spec text.
 */
import { createHash, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  hashChildren,
  hashesFromTile,
  hashLeaf,
  parseCheckpoint,
  parseTilePath,
  parseVerifierKey,
  tilePath,
  verifyConsistency,
  verifyCosignature,
  verifyInclusion,
  verifySignedNote,
  verifyTlogProof,
} from './spec-verifier.ts';

const VECTORS = process.env.TRAILPROOF_VECTORS ?? fileURLToPath(new URL('../fixtures/vectors/', import.meta.url));
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');

// ------------------------------------------------ RFC 6962 vectors ---

interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = join(dir, e);
      return statSync(p).isDirectory() ? jsonFiles(p) : e.endsWith('.json') ? [p] : [];
    });
}
const load = <T>(kind: string): [string, T][] =>
  jsonFiles(join(VECTORS, 'rfc6962', kind)).map((f) => [f.slice(f.indexOf(kind)), JSON.parse(readFileSync(f, 'utf8')) as T]);

describe('RFC 6962 vectors (transparency-dev/merkle testdata)', () => {
  const inc = load<InclusionCase>('inclusion');
  const con = load<ConsistencyCase>('consistency');
  it('found the vector files', () => {
    expect(inc.length).toBeGreaterThan(50);
    expect(con.length).toBeGreaterThan(50);
  });
  it.each(inc)('%s', (_f, c) => {
    const ok = verifyInclusion(unb64(c.leafHash), c.leafIdx, c.treeSize, (c.proof ?? []).map(unb64), unb64(c.root));
    expect(ok, c.desc).toBe(!c.wantErr);
  });
  it.each(con)('%s', (_f, c) => {
    const ok = verifyConsistency(c.size1, c.size2, (c.proof ?? []).map(unb64), unb64(c.root1), unb64(c.root2));
    expect(ok, c.desc).toBe(!c.wantErr);
  });
});

// ------------------------------------------------ naive RFC 6962 trees ---

/** k: the largest power of two smaller than n (RFC 6962 §2.1), n > 1. */
const split = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
/** MTH(D[n]), RFC 6962 §2.1. */
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return createHash('sha256').digest();
  if (d.length === 1) return hashLeaf(d[0] as Buffer);
  const k = split(d.length);
  return hashChildren(mth(d.slice(0, k)), mth(d.slice(k)));
}
/** PATH(m, D[n]), RFC 6962 §2.1.1. */
function path(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const k = split(d.length);
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
/** SUBPROOF(m, D[n], b), RFC 6962 §2.1.2; PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
function subproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const k = split(d.length);
  return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}
const leaves = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`trailproof leaf ${i}`));
const flip = (b: Buffer, bit = 0): Buffer => {
  const c = Buffer.from(b);
  c[bit >> 3] = (c[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return c;
};
/** Tampered variants of a proof: every element bit-flipped, truncated, extended, prefixed. */
function mutations(p: Buffer[], extra: Buffer): Buffer[][] {
  return [
    ...p.map((_, i) => p.map((h, j) => (i === j ? flip(h, 7 + i) : h))),
    ...(p.length > 0 ? [p.slice(0, -1), p.slice(1)] : []),
    [...p, extra],
    [extra, ...p],
  ];
}

describe('naive trees of sizes 1..20', () => {
  it('RFC 6962 §2.1: MTH of the empty tree is SHA-256 of the empty string', () => {
    expect(mth([]).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  for (let n = 1; n <= 20; n++) {
    it(`inclusion, tree size ${n}`, () => {
      const d = leaves(n);
      const root = mth(d);
      for (let m = 0; m < n; m++) {
        const lh = hashLeaf(d[m] as Buffer);
        const p = path(m, d);
        expect(verifyInclusion(lh, m, n, p, root)).toBe(true);
        expect(verifyInclusion(lh, BigInt(m), BigInt(n), p, root)).toBe(true);
        for (const bad of mutations(p, root)) expect(verifyInclusion(lh, m, n, bad, root)).toBe(false);
        expect(verifyInclusion(flip(lh), m, n, p, root)).toBe(false);
        expect(verifyInclusion(lh, m, n, p, flip(root))).toBe(false);
        // RFC 6962 proofs do not bind the tree size (a size-n proof may also verify
        // as "size n+1 with the same root"); the size is authenticated only by the
        // signed checkpoint. So the negative uses the real size-(n+1) root.
        expect(verifyInclusion(lh, m, n + 1, p, mth(leaves(n + 1)))).toBe(false);
        if (n > 1) expect(verifyInclusion(lh, (m + 1) % n, n, p, root)).toBe(false);
        expect(verifyInclusion(lh, n, n, p, root)).toBe(false);
        expect(verifyInclusion(lh, -1, n, p, root)).toBe(false);
      }
    });

    it(`consistency, tree size ${n}`, () => {
      const d = leaves(n);
      const root2 = mth(d);
      for (let m = 1; m <= n; m++) {
        const root1 = mth(d.slice(0, m));
        const p = subproof(m, d, true);
        expect(verifyConsistency(m, n, p, root1, root2)).toBe(true);
        expect(verifyConsistency(BigInt(m), BigInt(n), p, root1, root2)).toBe(true);
        for (const bad of mutations(p, root1)) expect(verifyConsistency(m, n, bad, root1, root2)).toBe(false);
        expect(verifyConsistency(m, n, p, flip(root1), root2)).toBe(false);
        expect(verifyConsistency(m, n, p, root1, flip(root2))).toBe(false);
        // As above: wrong sizes are paired with the real roots of those sizes.
        expect(verifyConsistency(m, n + 1, p, root1, mth(leaves(n + 1)))).toBe(false);
        if (m < n) {
          expect(verifyConsistency(m + 1, n, p, mth(d.slice(0, m + 1)), root2)).toBe(false);
          expect(verifyConsistency(n, m, p, root2, root1)).toBe(false);
        }
        expect(verifyConsistency(0, n, p, mth([]), root2)).toBe(false);
      }
    });
  }

  it('handles uint64-sized arguments without throwing', () => {
    const h = hashLeaf(Buffer.from('x'));
    const max = (1n << 64n) - 1n;
    expect(verifyInclusion(h, max - 1n, max, Array(64).fill(h), h)).toBe(false);
    expect(verifyInclusion(h, 0, 1n << 64n, [], h)).toBe(false);
    expect(verifyConsistency(max - 1n, max, Array(64).fill(h), h, h)).toBe(false);
    expect(verifyInclusion(h, 0.5, 2, [h], h)).toBe(false);
  });
});

// ------------------------------------------------ signed notes ---

interface TestSigner {
  name: string;
  vkey: string;
  sign(msg: Buffer): Buffer;
  keyId: Buffer;
}
/** Makes an Ed25519 signer for signature type 0x01 (note) or 0x04 (cosignature). */
function newSigner(name: string, type = 0x01, keyPair = generateKeyPairSync('ed25519')): TestSigner {
  const pub = Buffer.from(keyPair.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const keyData = Buffer.concat([Buffer.of(type), pub]);
  const keyId = createHash('sha256').update(`${name}\n`).update(keyData).digest().subarray(0, 4);
  return { name, keyId, vkey: `${name}+${keyId.toString('hex')}+${b64(keyData)}`, sign: (m) => cryptoSign(null, m, keyPair.privateKey) };
}
const sigLine = (name: string, raw: Buffer): string => `\u2014 ${name} ${b64(raw)}\n`;
const signNote = (text: string, ...signers: TestSigner[]): string =>
  `${text}\n${signers.map((s) => sigLine(s.name, Buffer.concat([s.keyId, s.sign(Buffer.from(text))]))).join('')}`;
const checkpointText = (origin: string, size: number | bigint, root: Buffer): string => `${origin}\n${size}\n${b64(root)}\n`;

describe('c2sp.org/signed-note', () => {
  const file = readFileSync(join(VECTORS, 'signed-note.txt'), 'utf8');
  const vkey = (/^verifier key:\n(.+)$/m.exec(file)?.[1] ?? '').trim();
  const start = file.indexOf('-----\n') + '-----\n'.length;
  const note = file.slice(start, file.indexOf('-----', start));

  it('parses the example verifier key and checks its key ID', () => {
    const k = parseVerifierKey(vkey);
    expect(k).toMatchObject({ name: 'example.com/foo', keyId: 0x530d903a, type: 1 });
    expect(k.publicKey.length).toBe(32);
    expect(() => parseVerifierKey(vkey.replace('+530d903a+', '+530d903b+'))).toThrow(/key id/);
    expect(() => parseVerifierKey(vkey.replace('example.com/foo', 'example.com/bar'))).toThrow(/key id/);
    expect(() => parseVerifierKey(vkey.replace('+530d903a+', '+530d903+'))).toThrow();
    expect(() => parseVerifierKey(vkey.replace('+Aeky', '+Aqky'))).toThrow();
    expect(() => parseVerifierKey('example.com/foo+530d903a')).toThrow();
  });

  it('verifies the worked example', () => {
    expect(verifySignedNote(note, vkey).text).toBe('This is an example message.\n');
  });

  it('verifies the golang.org/x/mod/sumdb/note package documentation example', () => {
    const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const msg = `${text}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
    expect(verifySignedNote(msg, 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW').text).toBe(text);
  });

  it('rejects tampered or malformed notes', () => {
    const bad = [
      note.replace('example message', 'example massage'), // text changed
      note.replace('Uw2QOkn8', 'Uw2QOkn9'), // signature changed
      note.replace('.\n\n', '.\n'), // no blank line
      note.slice(0, -1), // signature line not newline-terminated
      `${note}\n`, // trailing blank line: last empty line is now after the signatures
      note.replace('\u2014 ', '- '), // hyphen instead of em dash
      note.replace('\u2014 ', '\u2014  '), // double space
      note.replace('.\n\n', '.\r\n\n'), // control character
      note.replace('=\n', '\n'), // non-canonical base64 (missing padding)
      note.replace('.\n\n', '.\n\n\n'), // signature block starts with an empty line
    ];
    for (const n of bad) expect(() => verifySignedNote(n, vkey), JSON.stringify(n)).toThrow();
  });

  it('ignores unknown keys, requires one known signature, rejects bad known ones', () => {
    const log = newSigner('example.com/log');
    const other = newSigner('example.com/other');
    const sameName = newSigner('example.com/log');
    const text = 'hello\n\nworld\n'; // "The note text MAY contain empty lines"
    const signed = signNote(text, other, log);
    expect(verifySignedNote(signed, log.vkey).text).toBe(text);
    expect(verifySignedNote(signed, other.vkey).text).toBe(text);
    expect(() => verifySignedNote(signed, sameName.vkey)).toThrow(/no signature/);
    expect(() => verifySignedNote(signNote(text, other), log.vkey)).toThrow(/no signature/);
    // A signature with the known name and key ID that fails to verify rejects the note.
    const forged = `${signed}${sigLine(log.name, Buffer.concat([log.keyId, Buffer.alloc(64)]))}`;
    expect(() => verifySignedNote(forged, log.vkey)).toThrow(/fails to verify/);
    // A cosignature (type 0x04) key cannot be used to verify a note signature.
    expect(() => verifySignedNote(signed, newSigner('w', 0x04).vkey)).toThrow();
  });
});

// ------------------------------------------------ checkpoints ---

describe('c2sp.org/tlog-checkpoint', () => {
  const root = mth(leaves(5));
  it('parses origin, size, root hash and extension lines', () => {
    expect(parseCheckpoint(checkpointText('example.com/log', 5, root))).toEqual({ origin: 'example.com/log', size: 5n, rootHash: root, extensions: [] });
    expect(parseCheckpoint(`o\n18446744073709551615\n${b64(root)}\next a\next b\n`)).toMatchObject({ size: (1n << 64n) - 1n, extensions: ['ext a', 'ext b'] });
  });
  it('rejects malformed checkpoints', () => {
    for (const t of [
      `o\n5\n${b64(root)}`, // no final newline
      `o\n5\n`, // two lines
      `\n5\n${b64(root)}\n`, // empty origin
      `o\n05\n${b64(root)}\n`, // leading zero
      `o\n-5\n${b64(root)}\n`,
      `o\n18446744073709551616\n${b64(root)}\n`, // > uint64
      `o\n5\n${b64(root.subarray(1))}\n`, // 31-byte hash
      `o\n5\n${b64(root)}\n\n`, // empty extension line
    ])
      expect(() => parseCheckpoint(t), JSON.stringify(t)).toThrow();
  });
});

// ------------------------------------------------ tlog-proof ---

function buildProof(index: number | string, proof: Buffer[], signedCheckpoint: string, extra?: string): string {
  return `c2sp.org/tlog-proof@v1\n${extra === undefined ? '' : `extra ${extra}\n`}index ${index}\n${proof.map((h) => `${b64(h)}\n`).join('')}\n${signedCheckpoint}`;
}

describe('c2sp.org/tlog-proof', () => {
  const log = newSigner('example.com/tenant-a');
  const witness = newSigner('witness.example/w1', 0x04);

  it('verifies proofs for every leaf of trees of sizes 1..12', () => {
    for (let n = 1; n <= 12; n++) {
      const d = leaves(n);
      const cp = signNote(checkpointText(log.name, n, mth(d)), log);
      for (let m = 0; m < n; m++) {
        const res = verifyTlogProof(buildProof(m, path(m, d), cp), log.vkey, hashLeaf(d[m] as Buffer), { origin: log.name });
        expect(res).toMatchObject({ index: BigInt(m), size: BigInt(n) });
        expect(res.extra).toBeUndefined();
      }
    }
  });

  const d = leaves(7);
  const m = 3;
  const lh = hashLeaf(d[m] as Buffer);
  const p = path(m, d);
  const cpText = checkpointText(log.name, 7, mth(d));
  const cp = signNote(cpText, log);

  it('returns the extra data and ignores other signature lines (e.g. cosignatures)', () => {
    const extra = b64(Buffer.from('age-v1.2.1-darwin-arm64.tar.gz'));
    const cosigned = `${cp}${sigLine(witness.name, Buffer.concat([witness.keyId, Buffer.alloc(8), Buffer.alloc(64)]))}`;
    const res = verifyTlogProof(buildProof(m, p, cosigned, extra), log.vkey, lh);
    expect(res.extra?.toString()).toBe('age-v1.2.1-darwin-arm64.tar.gz');
    expect(res.checkpoint.origin).toBe(log.name);
  });

  it('rejects anything not exactly in the tlog-proof@v1 layout or not verifying', () => {
    const good = buildProof(m, p, cp);
    expect(verifyTlogProof(good, log.vkey, lh).index).toBe(3n);
    const cases: [string, string][] = [
      ['wrong header', good.replace('tlog-proof@v1', 'tlog-proof@v2')],
      ['leading zero index', buildProof('03', p, cp)],
      ['index +3', buildProof('+3', p, cp)],
      ['wrong index', buildProof(4, p, cp)],
      ['index >= size', buildProof(7, p, cp)],
      ['empty extra', buildProof(m, p, cp, '')],
      ['bad extra base64', buildProof(m, p, cp, 'a=b=')],
      ['extra after index', good.replace(`index ${m}\n`, `index ${m}\nextra AAAA\n`)],
      ['missing index', good.replace(`index ${m}\n`, '')],
      ['missing blank line', good.replace(`\n\n${log.name}`, `\n${log.name}`)],
      ['extra blank line', good.replace(`\n\n${log.name}`, `\n\n\n${log.name}`)],
      ['short hash', buildProof(m, [...p.slice(0, -1), (p.at(-1) as Buffer).subarray(1)], cp)],
      ['tampered hash', buildProof(m, [flip(p[0] as Buffer), ...p.slice(1)], cp)],
      ['missing hash', buildProof(m, p.slice(0, -1), cp)],
      ['CRLF', good.replace(/\n/g, '\r\n')],
      ['no final newline', good.slice(0, -1)],
      ['signed by another key', buildProof(m, p, signNote(cpText, newSigner(log.name)))],
      ['tampered checkpoint', buildProof(m, p, cp.replace('\n7\n', '\n8\n'))],
    ];
    for (const [what, text] of cases) expect(() => verifyTlogProof(text, log.vkey, lh), what).toThrow();
    expect(() => verifyTlogProof(good, log.vkey, hashLeaf(d[m + 1] as Buffer))).toThrow(/inclusion/);
    expect(() => verifyTlogProof(good, log.vkey, lh, { origin: 'example.com/tenant-b' })).toThrow(/origin/);
  });
});

// ------------------------------------------------ tlog-cosignature ---

describe('c2sp.org/tlog-cosignature (Ed25519, cosignature/v1)', () => {
  const log = newSigner('example.com/behind-the-sofa');
  const keyPair = generateKeyPairSync('ed25519');
  const witness = newSigner('witness.example.com/w1', 0x04, keyPair);
  const text = checkpointText(log.name, 20852163, mth(leaves(3)));
  const cosig = (ts: bigint, msgTs = ts, header = 'cosignature/v1\n'): string => {
    const t = Buffer.alloc(8);
    t.writeBigUInt64BE(ts);
    const sig = witness.sign(Buffer.from(`${header}time ${msgTs}\n${text}`));
    return sigLine(witness.name, Buffer.concat([witness.keyId, t, sig]));
  };
  const logSigned = signNote(text, log);

  it('verifies a cosignature next to the log signature', () => {
    const note = `${logSigned}${cosig(1679315147n)}`;
    expect(verifyCosignature(note, witness.vkey)).toMatchObject({ timestamp: 1679315147n, checkpoint: { size: 20852163n } });
    expect(verifySignedNote(note, log.vkey).text).toBe(text);
  });

  it('key IDs separate note (0x01) and cosignature (0x04) uses of one key and name', () => {
    const sameKeyAsNote = newSigner(witness.name, 0x01, keyPair);
    const note = `${signNote(text, sameKeyAsNote)}${cosig(5n)}`;
    expect(verifyCosignature(note, witness.vkey).timestamp).toBe(5n);
    expect(verifySignedNote(note, sameKeyAsNote.vkey).text).toBe(text);
    expect(() => verifyCosignature(signNote(text, sameKeyAsNote), witness.vkey)).toThrow(/no cosignature/);
    expect(() => verifyCosignature(note, sameKeyAsNote.vkey)).toThrow(/0x04/);
  });

  it('rejects bad cosignatures', () => {
    expect(() => verifyCosignature(`${logSigned}${cosig(7n, 8n)}`, witness.vkey)).toThrow(/fails/);
    expect(() => verifyCosignature(`${logSigned}${cosig(7n, 7n, 'cosignature/v2\n')}`, witness.vkey)).toThrow(/fails/);
    expect(() => verifyCosignature(`${logSigned}${cosig(1n << 63n)}`, witness.vkey)).toThrow(/2\^63/);
    expect(() => verifyCosignature(logSigned, witness.vkey)).toThrow(/no cosignature/);
    const short = sigLine(witness.name, Buffer.concat([witness.keyId, Buffer.alloc(64)]));
    expect(() => verifyCosignature(`${logSigned}${short}`, witness.vkey)).toThrow(/length/);
    const notCheckpoint = `hello\n\n${cosig(1n)}`;
    expect(() => verifyCosignature(notCheckpoint, witness.vkey)).toThrow(/checkpoint/);
  });
});

// ------------------------------------------------ tlog-tiles ---

describe('c2sp.org/tlog-tiles', () => {
  it('encodes tile paths', () => {
    expect(tilePath(0, 1234067)).toBe('tile/0/x001/x234/067'); // the spec's example
    expect(tilePath(0, 0)).toBe('tile/0/000');
    expect(tilePath(1, 1000)).toBe('tile/1/x001/000');
    expect(tilePath(63, 999, 1)).toBe('tile/63/999.p/1');
    expect(tilePath(2, 5, 17)).toBe('tile/2/005.p/17');
    expect(tilePath('entries', 1234067, 112)).toBe('tile/entries/x001/x234/067.p/112');
    expect(tilePath(0, 1n << 56n)).toBe('tile/0/x072/x057/x594/x037/x927/936');
    for (const [l, n, w] of [
      [64, 0, 256],
      [-1, 0, 256],
      [0, -1, 256],
      [0, 0, 0],
      [0, 0, 257],
      [1.5, 0, 256],
    ] as const) {
      expect(() => tilePath(l, n, w)).toThrow();
    }
  });

  it('parses tile paths canonically', () => {
    for (const idx of [0n, 1n, 999n, 1000n, 1234067n, 1000000n, (1n << 56n) - 1n]) {
      for (const level of [0, 1, 63, 'entries'] as const) {
        for (const width of [1, 112, 255, 256]) {
          expect(parseTilePath(tilePath(level, idx, width))).toEqual({ level, index: idx, width });
        }
      }
    }
    for (const p of [
      'tile/64/000',
      'tile/01/000',
      'tile/0/0',
      'tile/0/1234',
      'tile/0/x1/000',
      'tile/0/001/234',
      'tile/0/x000/067',
      'tile/0/000.p/256',
      'tile/0/000.p/0',
      'tile/0/000.p/012',
      'tile/0/000.p/',
      '/tile/0/000',
      'tile/0/000/',
      'tile/0/x001',
      'tile/entry/000',
      'tile/0/000.p/17/',
      'tile/0/X001/000',
    ])
      expect(() => parseTilePath(p), p).toThrow();
  });

  it('splits tiles into hashes; a full level-0 tile hashes to the level-1 entry', () => {
    const d = leaves(256);
    const bytes = Buffer.concat(d.map((x) => hashLeaf(x)));
    const hs = hashesFromTile(bytes, 256);
    expect(hs.length).toBe(256);
    // The tile is the bottom of a height-8 subtree: MTH(D[0:256]) from the hashes.
    let level = hs;
    while (level.length > 1) level = Array.from({ length: level.length / 2 }, (_, i) => hashChildren(level[2 * i] as Buffer, level[2 * i + 1] as Buffer));
    expect(level[0]).toEqual(mth(d));
    expect(hashesFromTile(bytes.subarray(0, 32 * 17)).length).toBe(17);
    expect(() => hashesFromTile(new Uint8Array(0))).toThrow();
    expect(() => hashesFromTile(bytes.subarray(0, 31))).toThrow();
    expect(() => hashesFromTile(Buffer.concat([bytes, bytes.subarray(0, 32)]))).toThrow();
    expect(() => hashesFromTile(bytes.subarray(0, 64), 3)).toThrow();
  });
});
