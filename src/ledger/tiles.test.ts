import { describe, expect, it } from 'vitest';
import { entryBundle, entryBundlePath, parseEntryBundle, parseTilePath, tileHashesPath, tileRange, tileWidthAt, TILE_WIDTH } from './tiles.ts';
import { expectCode } from './testing/expect-code.ts';

describe('tile paths (c2sp.org/tlog-tiles)', () => {
  it('writes N in 3-digit groups, x-prefixed but the last, with .p/W for partial tiles', () => {
    expect(tileHashesPath(0, 0)).toBe('tile/0/000');
    expect(tileHashesPath(1, 1234067)).toBe('tile/1/x001/x234/067'); // the spec's example
    expect(tileHashesPath(2, 1000, 17)).toBe('tile/2/x001/000.p/17');
    expect(tileHashesPath(3, 999, 255)).toBe('tile/3/999.p/255');
    expect(entryBundlePath(5)).toBe('tile/entries/005');
    expect(entryBundlePath(1234067, 112)).toBe('tile/entries/x001/x234/067.p/112');
  });

  it('parses exactly what it writes', () => {
    expect(parseTilePath('tile/1/x001/x234/067')).toEqual({ kind: 'hashes', level: 1, index: 1234067, width: 256 });
    expect(parseTilePath('tile/0/000.p/1')).toEqual({ kind: 'hashes', level: 0, index: 0, width: 1 });
    expect(parseTilePath('tile/63/000')).toEqual({ kind: 'hashes', level: 63, index: 0, width: 256 });
    expect(parseTilePath('tile/entries/x001/000.p/255')).toEqual({ kind: 'entries', index: 1000, width: 255 });
    for (const [level, index, width] of [
      [0, 0, 256],
      [5, 999_999_999, 3],
      [2, 1_000_000, 256],
    ] as const) {
      const path = tileHashesPath(level, index, width);
      expect(parseTilePath(path)).toEqual({ kind: 'hashes', level, index, width });
    }
  });

  it.each([
    ['tile/00/000', 'leading zero in the level'],
    ['tile/64/000', 'level above 63'],
    ['tile/0/0', 'index group shorter than 3 digits'],
    ['tile/0/0001', 'index group longer than 3 digits'],
    ['tile/0/x000/001', 'leading zero group'],
    ['tile/0/001/234', 'missing x'],
    ['tile/0/x001', 'x on the last group'],
    ['tile/0/x001/x234', 'x on the last group'],
    ['tile/0/000.p/0', 'width 0'],
    ['tile/0/000.p/256', 'full width written as partial'],
    ['tile/0/000.p/300', 'width above 256'],
    ['tile/0/000.p/07', 'leading zero in the width'],
    ['tile/0/000.p/+7', 'sign in the width'],
    ['tile/0/000.p/', 'empty width'],
    ['tile/0/000/', 'trailing slash'],
    ['/tile/0/000', 'leading slash'],
    ['tile/-1/000', 'negative level'],
    ['tile/data/000', 'unknown kind'],
    ['tile/entries/000.p/256', 'full entry bundle written as partial'],
    ['tile/0/x999/x999/x999/x999/x999/999', 'index beyond 2^53'],
    [`tile/0/${'x001/'.repeat(20)}000`, 'absurdly long'],
    ['tile/0/000\n', 'trailing newline'],
  ])('rejects %j (%s)', (path) => {
    expectCode('NOT_A_TILE', () => parseTilePath(path));
  });

  it('maps a tile to the hashes it holds', () => {
    expect(tileRange(0, 3)).toEqual({ level: 0, start: 768, end: 1024 });
    expect(tileRange(2, 1, 17)).toEqual({ level: 16, start: 256, end: 273 });
    expectCode('INVALID_ARGUMENT', () => tileRange(0, 0, 0));
    expectCode('INVALID_ARGUMENT', () => tileHashesPath(0, -1));
  });

  it('sizes partial tiles as the spec example says', () => {
    // A tree of 70,000 leaves: 273 full level-0 tiles and one of width 112, one full level-1
    // tile and one of width 17, one level-2 tile of width 1.
    expect(tileWidthAt(0, 272, 70_000)).toBe(TILE_WIDTH);
    expect(tileWidthAt(0, 273, 70_000)).toBe(112);
    expect(tileWidthAt(0, 274, 70_000)).toBe(0);
    expect(tileWidthAt(1, 0, 70_000)).toBe(TILE_WIDTH);
    expect(tileWidthAt(1, 1, 70_000)).toBe(17);
    expect(tileWidthAt(2, 0, 70_000)).toBe(1);
    expect(tileWidthAt(3, 0, 70_000)).toBe(0);
    // A tree of 256 leaves: a full level-0 tile and a level-1 tile of width 1.
    expect(tileWidthAt(0, 0, 256)).toBe(TILE_WIDTH);
    expect(tileWidthAt(1, 0, 256)).toBe(1);
  });
});

describe('entry bundles', () => {
  it('prefixes each entry with its big-endian uint16 length', () => {
    const bundle = entryBundle([Buffer.from('ab'), Buffer.alloc(0), Buffer.alloc(300, 7)]);
    expect(bundle.subarray(0, 6).toString('hex')).toBe('00026162' + '0000');
    expect(bundle.readUInt16BE(6)).toBe(300);
    expect(bundle).toHaveLength(2 + 2 + 2 + 2 + 300);
    expect(parseEntryBundle(bundle)).toEqual([Buffer.from('ab'), Buffer.alloc(0), Buffer.alloc(300, 7)]);
  });

  it('rejects entries that do not fit and bundles that do not parse', () => {
    expectCode('INVALID_ARGUMENT', () => entryBundle([Buffer.alloc(0x10000)]));
    expectCode('INVALID_ARGUMENT', () => entryBundle(Array.from({ length: 257 }, () => Buffer.alloc(1))));
    expectCode('PROOF_INVALID', () => parseEntryBundle(Buffer.from([0x00])));
    expectCode('PROOF_INVALID', () => parseEntryBundle(Buffer.from([0x00, 0x03, 0x61, 0x62])));
    expectCode('PROOF_INVALID', () => parseEntryBundle(Buffer.alloc(2 * 257)));
    expect(parseEntryBundle(Buffer.alloc(0))).toEqual([]);
  });
});
