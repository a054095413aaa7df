import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectCode } from './testing/expect-code.ts';
import { verifyConsistency, verifyInclusion } from './verify-proof.ts';

// transparency-dev/merkle testdata @417fb0c (see test/fixtures/vectors/rfc6962/README.md).
const VECTORS = fileURLToPath(new URL('../../test/fixtures/vectors/rfc6962/', import.meta.url));

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

function cases<T>(folder: string): [string, T][] {
  const dir = join(VECTORS, folder);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => [relative(VECTORS, join(dir, file)), JSON.parse(readFileSync(join(dir, file), 'utf8')) as T]);
}

const b64 = (text: string): Buffer => Buffer.from(text, 'base64');
const inclusion = cases<InclusionCase>('inclusion');
const consistency = cases<ConsistencyCase>('consistency');

describe('RFC 6962 proof vectors (transparency-dev/merkle)', () => {
  it('finds every vector', () => {
    expect(inclusion.length).toBe(98);
    expect(consistency.length).toBe(98);
  });

  it.each(inclusion)('inclusion %s', (_, v) => {
    const run = () => verifyInclusion(b64(v.leafHash), v.leafIdx, v.treeSize, (v.proof ?? []).map(b64), b64(v.root));
    if (v.wantErr) expectCode('PROOF_INVALID', run);
    else expect(run).not.toThrow();
  });

  it.each(consistency)('consistency %s', (_, v) => {
    const run = () => verifyConsistency(v.size1, v.size2, (v.proof ?? []).map(b64), b64(v.root1), b64(v.root2));
    if (v.wantErr) expectCode('PROOF_INVALID', run);
    else expect(run).not.toThrow();
  });

  it('rejects sizes that are not safe non-negative integers', () => {
    const hash = Buffer.alloc(32);
    expectCode('PROOF_INVALID', () => verifyInclusion(hash, 0.5, 1, [], hash));
    expectCode('PROOF_INVALID', () => verifyInclusion(hash, 0, 2 ** 53, [], hash));
    expectCode('PROOF_INVALID', () => verifyConsistency(1, Number.NaN, [], hash, hash));
    expectCode('PROOF_INVALID', () => verifyConsistency(-1, 1, [], hash, hash));
  });
});
