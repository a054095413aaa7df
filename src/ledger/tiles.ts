/**
 * c2sp.org/tlog-tiles: the tree as static resources. A tile at level L holds up to 256 consecutive
 * hashes of tree level 8L (level 0: leaf hashes); an entry bundle holds the leaf data of a level-0
 * tile. Paths are `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, N written in 3-digit groups
 * (`x001/x234/067`), `.p/<W>` only for partial tiles of width 1 to 255.
 */
import { LedgerError } from './errors.ts';
import { isNatural } from './encoding.ts';

export const TILE_HEIGHT = 8;
/** Hashes in a full tile (2^TILE_HEIGHT). */
export const TILE_WIDTH = 256;
/** Highest tile level the path syntax allows (c2sp.org/tlog-tiles "Merkle Tree"). */
export const MAX_TILE_LEVEL = 63;
/** Largest entry in a bundle: lengths are big-endian uint16. */
export const MAX_ENTRY_SIZE = 0xffff;

export type TilePath = { kind: 'hashes'; level: number; index: number; width: number } | { kind: 'entries'; index: number; width: number };

/** `tile/<L>/<N>[.p/<W>]`; width defaults to a full tile. */
export function tileHashesPath(level: number, index: number, width: number = TILE_WIDTH): string {
  checkTile(level, index, width);
  return `tile/${level}/${tileIndexPath(index, width)}`;
}

/** `tile/entries/<N>[.p/<W>]`; width defaults to a full bundle. */
export function entryBundlePath(index: number, width: number = TILE_WIDTH): string {
  checkTile(0, index, width);
  return `tile/entries/${tileIndexPath(index, width)}`;
}

/**
 * The tile a path names. Attacker-controlled (it comes from a URL): accepts exactly the paths that
 * tileHashesPath and entryBundlePath write, and throws NOT_A_TILE for anything else (leading zeros,
 * a missing or extra `x`, widths outside 1..255, levels above 63, indices beyond 2^53).
 */
export function parseTilePath(path: string): TilePath {
  const match = path.length <= MAX_PATH_LENGTH ? TILE_PATH.exec(path) : null;
  if (!match) throw notATile(path);
  const [, levelText = '', indexText = '', widthText] = match;
  const index = Number(indexText.replaceAll('x', '').replaceAll('/', ''));
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  const tile: TilePath = levelText === 'entries' ? { kind: 'entries', index, width } : { kind: 'hashes', level: Number(levelText), index, width };
  const level = tile.kind === 'hashes' ? tile.level : 0;
  if (!isValidTile(level, index, width)) throw notATile(path);
  const canonical = tile.kind === 'hashes' ? tileHashesPath(level, index, width) : entryBundlePath(index, width);
  if (canonical !== path) throw notATile(path);
  return tile;
}

/** The hashes a tile holds: tree level 8L, indices [N·256, N·256 + W). */
export function tileRange(level: number, index: number, width: number = TILE_WIDTH): { level: number; start: number; end: number } {
  checkTile(level, index, width);
  const start = index * TILE_WIDTH;
  return { level: level * TILE_HEIGHT, start, end: start + width };
}

/**
 * How many hashes tile N of level L holds in a tree of `size` leaves: 256 if full, 0 if it does
 * not exist yet, else the partial width floor(size / 256^L) mod 256.
 */
export function tileWidthAt(level: number, index: number, size: number): number {
  const hashesAtLevel = Math.floor(size / TILE_WIDTH ** level);
  return Math.min(TILE_WIDTH, Math.max(0, hashesAtLevel - index * TILE_WIDTH));
}

/** An entry bundle: each entry prefixed with its length as a big-endian uint16. */
export function entryBundle(entries: readonly Uint8Array[]): Buffer {
  if (entries.length > TILE_WIDTH) throw new LedgerError('INVALID_ARGUMENT', `an entry bundle holds at most ${TILE_WIDTH} entries`);
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    if (entry.length > MAX_ENTRY_SIZE) throw new LedgerError('INVALID_ARGUMENT', `entry of ${entry.length} bytes does not fit an entry bundle`);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(entry.length);
    parts.push(length, entry);
  }
  return Buffer.concat(parts);
}

/** The entries of a bundle. Attacker-controlled: any length running past the end is rejected. */
export function parseEntryBundle(bundle: Uint8Array): Buffer[] {
  const data = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const entries: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    if (at + 2 > data.length || entries.length === TILE_WIDTH) throw malformedBundle();
    const end = at + 2 + data.readUInt16BE(at);
    if (end > data.length) throw malformedBundle();
    entries.push(Buffer.from(data.subarray(at + 2, end)));
    at = end;
  }
  return entries;
}

/** `<N>[.p/<W>]` with N in zero-padded 3-digit groups, every group but the last prefixed with `x`. */
function tileIndexPath(index: number, width: number): string {
  const groups: string[] = [];
  let rest = index;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  const n = groups.map((group, i) => (i < groups.length - 1 ? `x${group}` : group)).join('/');
  return width === TILE_WIDTH ? n : `${n}.p/${width}`;
}

function isValidTile(level: number, index: number, width: number): boolean {
  return isNatural(level) && level <= MAX_TILE_LEVEL && isNatural(index) && index <= MAX_TILE_INDEX && isNatural(width) && width >= 1 && width <= TILE_WIDTH;
}

function checkTile(level: number, index: number, width: number): void {
  if (!isValidTile(level, index, width)) throw new LedgerError('INVALID_ARGUMENT', `no tile at level ${level}, index ${index}, width ${width}`);
}

function notATile(path: string): LedgerError {
  return new LedgerError('NOT_A_TILE', `not a tile path: ${JSON.stringify(path.slice(0, MAX_PATH_LENGTH))}`);
}

function malformedBundle(): LedgerError {
  return new LedgerError('PROOF_INVALID', 'malformed entry bundle');
}

/** Tiles whose hash indices (N·256 + i) stay within JavaScript's safe integers. */
const MAX_TILE_INDEX = Math.floor(Number.MAX_SAFE_INTEGER / TILE_WIDTH);
/** Longer than any canonical path (6 index groups, `.p/255`); checked before matching. */
const MAX_PATH_LENGTH = 64;
const TILE_PATH = /^tile\/(entries|\d{1,2})\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d{1,3}))?$/;
