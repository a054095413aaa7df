import { createHash, randomBytes } from 'node:crypto';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SegmentBytes } from './segment-bytes.ts';

describe('SegmentBytes', () => {
  it('gives the gzip of the lines in order and its SHA-256, the same bytes as gzipping them at once', async () => {
    const batches = Array.from({ length: 40 }, (_, i) => `${randomBytes(30_000 + i * 997).toString('base64')}\n`);
    const segment = new SegmentBytes();
    for (const batch of batches.slice(0, -1)) await segment.add(batch);
    const { bytes, sha256 } = await segment.end(batches.at(-1)!);
    const text = batches.join('');
    expect(gunzipSync(bytes).toString('utf8')).toBe(text);
    expect(sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    // Made again from the same lines, a segment has the same bytes (archiving a range again).
    expect(bytes.equals(gzipSync(text, { strategy: constants.Z_HUFFMAN_ONLY }))).toBe(true);
  });
});
